using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Observability;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Serving;

/// <summary>
/// The prediction log: requests hand their records to a bounded in-memory buffer and go on;
/// a background writer batches them into JSON-lines blobs under
/// <c>predictions/{model}/{yyyy}/{MM}/{dd}/{HH}/</c>. When the buffer is full a record is
/// dropped and counted (a metric and a log line); a request never waits for storage. What is
/// buffered is written on shutdown.
/// </summary>
public sealed partial class PredictionLog(LifecycleStorage storage, IOptions<PredictionLogOptions> options, TimeProvider clock, ILogger<PredictionLog> logger) : BackgroundService
{
    /// <summary>How the records are written: camelCase, and NaN or infinities as JSON strings.</summary>
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private static readonly TimeSpan[] WriteRetries = [TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5)];

    private readonly Channel<PredictionRecord> buffer = Channel.CreateBounded<PredictionRecord>(
        new BoundedChannelOptions(options.Value.BufferRecords) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });

    private long dropped;
    private long written;
    private long lastDropLog = long.MinValue;

    /// <summary>Records dropped since the start (buffer full, or storage refused them).</summary>
    public long Dropped => Interlocked.Read(ref dropped);

    /// <summary>Records written since the start.</summary>
    public long Written => Interlocked.Read(ref written);

    /// <summary>Hands records to the log without waiting; returns how many were dropped.</summary>
    public int Write(IEnumerable<PredictionRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var lost = 0;
        foreach (var record in records)
        {
            if (!buffer.Writer.TryWrite(record))
            {
                lost++;
            }
        }

        if (lost > 0)
        {
            Drop(lost, "the buffer is full");
        }

        return lost;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<PredictionRecord>();
        try
        {
            while (await buffer.Reader.WaitToReadAsync(stoppingToken))
            {
                // Collect for up to one flush interval, or until a batch is full.
                using var window = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                window.CancelAfter(options.Value.FlushInterval);
                try
                {
                    while (batch.Count < options.Value.MaxBatchRecords)
                    {
                        if (!buffer.Reader.TryRead(out var record))
                        {
                            await buffer.Reader.WaitToReadAsync(window.Token);
                            continue;
                        }

                        batch.Add(record);
                    }
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                {
                    // The flush interval is up.
                }

                await FlushAsync(batch, CancellationToken.None);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: the batch in hand is written here, the rest of the buffer by StopAsync.
            await FlushAsync(batch, CancellationToken.None);
        }
    }

    /// <summary>Stops the writer loop, then writes whatever is still buffered (also when the loop never got to run).</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        var rest = new List<PredictionRecord>();
        while (buffer.Reader.TryRead(out var record))
        {
            rest.Add(record);
            if (rest.Count == options.Value.MaxBatchRecords)
            {
                await FlushAsync(rest, cancellationToken);
            }
        }

        await FlushAsync(rest, cancellationToken);
    }

    /// <summary>Writes one blob per model and hour, retrying storage a few times; what still fails is counted as dropped.</summary>
    private async Task FlushAsync(List<PredictionRecord> batch, CancellationToken cancellationToken)
    {
        foreach (var group in batch.GroupBy(r => (r.Model, Hour: HourOf(r.Time))))
        {
            var records = group.ToList();
            var content = new StringBuilder();
            foreach (var record in records)
            {
                content.Append(JsonSerializer.Serialize(record, JsonOptions)).Append('\n');
            }

            var path = BlobPathFor(group.Key.Model, group.Key.Hour, clock.GetUtcNow());
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    await storage.EnsureCreatedAsync(cancellationToken);
                    await storage.Blob(path).UploadAsync(BinaryData.FromString(content.ToString()), overwrite: false, cancellationToken);
                    Interlocked.Add(ref written, records.Count);
                    Telemetry.PredictionLogWritten.Add(records.Count);
                    break;
                }
                catch (Exception ex) when (ex is Azure.RequestFailedException or IOException or HttpRequestException && attempt < WriteRetries.Length)
                {
                    await Task.Delay(WriteRetries[attempt], clock, cancellationToken);
                }
                catch (Exception ex) when (ex is Azure.RequestFailedException or IOException or HttpRequestException)
                {
                    LogWriteFailed(ex, records.Count, path.ToString());
                    Drop(records.Count, "storage refused them");
                    break;
                }
            }
        }

        batch.Clear();
    }

    /// <summary>The start of the UTC hour <paramref name="time"/> falls in: the log's folders are hours.</summary>
    public static DateTimeOffset HourOf(DateTimeOffset time) => new(time.UtcDateTime.Date.AddHours(time.UtcDateTime.Hour), TimeSpan.Zero);

    /// <summary>
    /// <c>predictions/{model}/{yyyy}/{MM}/{dd}/{HH}/{written}-{unique}.jsonl</c>: names sort by the hour
    /// the predictions were made and then by when they were written.
    /// </summary>
    public static BlobPath BlobPathFor(string model, DateTimeOffset hour, DateTimeOffset now) =>
        new(StorageNames.PredictionsContainer, string.Create(CultureInfo.InvariantCulture, $"{model}/{hour.UtcDateTime:yyyy/MM/dd/HH}/{now.UtcDateTime:yyyyMMddTHHmmssfff}-{Guid.NewGuid():N}.jsonl"));

    private void Drop(int count, string why)
    {
        var total = Interlocked.Add(ref dropped, count);
        Telemetry.PredictionLogDropped.Add(count);

        // One log line per drop episode at most every ten seconds, with the running total.
        var now = clock.GetTimestamp();
        var last = Interlocked.Read(ref lastDropLog);
        if ((last == long.MinValue || clock.GetElapsedTime(last, now) > TimeSpan.FromSeconds(10)) && Interlocked.CompareExchange(ref lastDropLog, now, last) == last)
        {
            LogDropped(count, why, total);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Prediction log dropped {Count} record(s): {Why}; {Total} dropped since start.")]
    private partial void LogDropped(int count, string why, long total);

    [LoggerMessage(Level = LogLevel.Error, Message = "Prediction log could not write {Count} record(s) to {Path}.")]
    private partial void LogWriteFailed(Exception exception, int count, string path);
}
