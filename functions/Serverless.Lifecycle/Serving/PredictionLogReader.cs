using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;
using Azure.Storage.Blobs.Models;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Serving;

/// <summary>
/// Reads the prediction log back for a time window: the hourly folders the window touches,
/// every record whose time falls in it. Rollout checks and monitoring read through it. Blobs are
/// streamed a line at a time and several are read at once (downloads overlap, and parsing uses
/// every core); memory holds a few batches of records, never a whole blob. A line that is not a
/// record is skipped and counted in the caller's <see cref="UnreadableLines"/>, so one damaged blob
/// does not stop monitoring or a rollout from reading the rest.
/// </summary>
public sealed class PredictionLogReader(LifecycleStorage storage)
{
    /// <summary>Blobs read at once: the cores, at least 2 (a download waits on the network), at most 8.</summary>
    public static readonly int Parallelism = Math.Clamp(Environment.ProcessorCount, 2, 8);

    private const int BatchRecords = 1024;

    /// <summary>The window's records, in no particular order across blobs; lines that are not records are counted in <paramref name="unreadable"/>.</summary>
    public async IAsyncEnumerable<PredictionRecord> ReadAsync(
        string model, DateTimeOffset from, DateTimeOffset to, UnreadableLines unreadable, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        ArgumentNullException.ThrowIfNull(unreadable);
        await storage.EnsureCreatedAsync(cancellationToken);
        var container = storage.Container(StorageNames.PredictionsContainer);
        var blobs = Blobs(container, model, from, to, cancellationToken);
        await foreach (var record in ParseAllAsync(blobs, async (name, ct) => await container.GetBlobClient(name).OpenReadAsync(cancellationToken: ct), unreadable, cancellationToken))
        {
            if (record.Time >= from && record.Time <= to)
            {
                yield return record;
            }
        }

        static async IAsyncEnumerable<string> Blobs(Azure.Storage.Blobs.BlobContainerClient container, string model, DateTimeOffset from, DateTimeOffset to, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            for (var hour = PredictionLog.HourOf(from); hour <= to; hour = hour.AddHours(1))
            {
                var prefix = string.Create(CultureInfo.InvariantCulture, $"{model}/{hour.UtcDateTime:yyyy/MM/dd/HH}/");
                await foreach (var blob in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, cancellationToken))
                {
                    yield return blob.Name;
                }
            }
        }
    }

    /// <summary>
    /// The records of every source, <see cref="Parallelism"/> sources parsed at once and handed
    /// over in batches through a bounded channel, so memory stays bounded however many there are.
    /// An error in any source (a bad line too, when <paramref name="unreadable"/> is null) ends the
    /// read with that error.
    /// </summary>
    public static async IAsyncEnumerable<PredictionRecord> ParseAllAsync(
        IAsyncEnumerable<string> sources, Func<string, CancellationToken, Task<Stream>> open, UnreadableLines? unreadable = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(open);
        var batches = Channel.CreateBounded<List<PredictionRecord>>(new BoundedChannelOptions(Parallelism * 2) { SingleReader = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var producing = Task.Run(
            async () =>
            {
                try
                {
                    await Parallel.ForEachAsync(sources, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = stop.Token }, async (source, ct) =>
                    {
                        await using var stream = await open(source, ct);
                        var batch = new List<PredictionRecord>(BatchRecords);
                        await foreach (var record in ParseAsync(stream, source, unreadable, ct))
                        {
                            batch.Add(record);
                            if (batch.Count == BatchRecords)
                            {
                                await batches.Writer.WriteAsync(batch, ct);
                                batch = new List<PredictionRecord>(BatchRecords);
                            }
                        }

                        if (batch.Count > 0)
                        {
                            await batches.Writer.WriteAsync(batch, ct);
                        }
                    });
                    batches.Writer.Complete();
                }
                catch (Exception e)
                {
                    batches.Writer.Complete(e);
                }
            },
            CancellationToken.None);

        try
        {
            await foreach (var batch in batches.Reader.ReadAllAsync(cancellationToken))
            {
                foreach (var record in batch)
                {
                    yield return record;
                }
            }
        }
        finally
        {
            // The reader may stop early: the producers stop too, and nothing is left running.
            await stop.CancelAsync();
            await producing;
        }
    }

    /// <summary>
    /// The records of one log blob (JSON lines, as <see cref="PredictionLog"/> writes them), read
    /// from <paramref name="stream"/> a buffer at a time. A line that is not a record is counted in
    /// <paramref name="unreadable"/> and skipped; without one, it stops the read with an error
    /// naming <paramref name="source"/> and the line.
    /// </summary>
    /// <remarks>
    /// Lines are split here, on the raw bytes: System.Text.Json reads one document per call, and
    /// StreamReader.ReadLine would decode every line into a string only for it to be encoded back.
    /// </remarks>
    public static async IAsyncEnumerable<PredictionRecord> ParseAsync(Stream stream, string source, UnreadableLines? unreadable = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        var (start, end, line) = (0, 0, 0);
        try
        {
            while (true)
            {
                var read = await stream.ReadAsync(buffer.AsMemory(end), cancellationToken);
                end += read;
                int length;
                while ((length = buffer.AsSpan(start, end - start).IndexOf((byte)'\n')) >= 0 || (read == 0 && (length = end - start) > 0))
                {
                    line++;
                    var record = Parse(buffer.AsSpan(start, length), source, line, unreadable);
                    start = Math.Min(start + length + 1, end);
                    if (record is not null)
                    {
                        yield return record;
                    }
                }

                if (read == 0)
                {
                    break;
                }

                // Keep the partial line: move it to the front, and grow the buffer when one line fills it.
                buffer.AsSpan(start, end - start).CopyTo(buffer);
                (end, start) = (end - start, 0);
                if (end == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, end).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static PredictionRecord? Parse(ReadOnlySpan<byte> line, string source, int number, UnreadableLines? unreadable)
    {
        if (line.Trim((byte)'\r').IsEmpty)
        {
            return null;
        }

        try
        {
            var record = JsonSerializer.Deserialize<PredictionRecord>(line, PredictionLog.JsonOptions) ?? throw new JsonException("The line is null.");

            // Valid JSON can still lack what every record has; the rest of the fields may be absent (null).
            return record is { RequestId: not null, Model: not null, Route: not null, Inputs: not null }
                ? record
                : throw new JsonException("A record needs requestId, model, route and inputs.");
        }
        catch (JsonException e)
        {
            var problem = $"line {number} of the prediction log {source} is not a prediction record: {e.Message}";
            if (unreadable is null)
            {
                throw new InvalidDataException(char.ToUpperInvariant(problem[0]) + problem[1..], e);
            }

            unreadable.Add(problem);
            return null;
        }
    }

    /// <summary>
    /// The newest <paramref name="count"/> served predictions, reading back an hour at a time for at
    /// most <paramref name="lookback"/>; oldest first. Memory holds at most those records.
    /// </summary>
    public async Task<IReadOnlyList<PredictionRecord>> ReadLatestAsync(string model, int count, DateTimeOffset now, TimeSpan lookback, UnreadableLines unreadable, CancellationToken cancellationToken = default)
    {
        var newest = new PriorityQueue<PredictionRecord, DateTimeOffset>();
        var hourEnd = now;
        var hourStart = PredictionLog.HourOf(now);
        while (hourEnd > now - lookback)
        {
            await foreach (var record in ReadAsync(model, hourStart, hourEnd, unreadable, cancellationToken))
            {
                if (!record.Served || record.Error is not null)
                {
                    continue;
                }

                newest.Enqueue(record, record.Time);
                if (newest.Count > count)
                {
                    newest.Dequeue();
                }
            }

            if (newest.Count >= count)
            {
                break;
            }

            hourEnd = hourStart.AddTicks(-1);
            hourStart = hourStart.AddHours(-1);
        }

        var records = new List<PredictionRecord>(newest.Count);
        while (newest.TryDequeue(out var record, out _))
        {
            records.Add(record);
        }

        return records;
    }
}

/// <summary>
/// The lines of the prediction log a read skipped because they are not records: how many, and the
/// first one named (blob and line). Safe to add to from the parallel readers.
/// </summary>
public sealed class UnreadableLines
{
    private int count;
    private string? first;

    public int Count => Volatile.Read(ref count);

    /// <summary>The first skipped line: which blob, which line, and why.</summary>
    public string? First => Volatile.Read(ref first);

    /// <summary>A sentence for a report, empty when every line was read.</summary>
    public string Summary => Count == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $"{Count} line(s) of the prediction log could not be read and were left out; the first: {First?.TrimEnd('.')}.");

    /// <summary><paramref name="text"/> with the <see cref="Summary"/> after it, when lines were left out.</summary>
    public string AppendTo(string text) => Count == 0 ? text : $"{text} {Summary}";

    internal void Add(string problem)
    {
        Interlocked.CompareExchange(ref first, problem, null);
        Interlocked.Increment(ref count);
    }
}
