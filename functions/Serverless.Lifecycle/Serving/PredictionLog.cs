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

    // A failed write is tried again after 200 ms, then twice as long each time up to 10 s: soon
    // enough to drain the buffer shortly after storage returns, rarely enough to cost nothing while it is away.
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromSeconds(10);

    private readonly Channel<PredictionRecord> buffer = Channel.CreateBounded<PredictionRecord>(
        new BoundedChannelOptions(options.Value.BufferRecords) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });

    private long dropped;
    private long written;

    // One log line per drop episode at most every ten seconds, with the running total.
    private readonly LogThrottle dropLog = new(clock, TimeSpan.FromSeconds(10));
    private long failingSince;

    /// <summary>Records dropped since the start (buffer full, or storage refused them).</summary>
    public long Dropped => Interlocked.Read(ref dropped);

    /// <summary>Records written since the start.</summary>
    public long Written => Interlocked.Read(ref written);

    /// <summary>Records waiting in the buffer for the writer.</summary>
    public int Buffered => buffer.Reader.Count;

    /// <summary>Since when writes have been failing (storage away); null while they succeed.</summary>
    public DateTimeOffset? FailingSince => Interlocked.Read(ref failingSince) is var ticks and > 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

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

                await FlushAsync(batch, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: the batch in hand is written here, the rest of the buffer by StopAsync.
            await FlushAsync(batch, stoppingToken);
        }
    }

    /// <summary>Stops the writer loop, then writes whatever is still buffered (also when the loop never got to run).</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);

        // The writer has stopped: from here on each group gets one try.
        using var stopped = new CancellationTokenSource();
        await stopped.CancelAsync();
        var rest = new List<PredictionRecord>();
        while (buffer.Reader.TryRead(out var record))
        {
            rest.Add(record);
            if (rest.Count == options.Value.MaxBatchRecords)
            {
                await FlushAsync(rest, stopped.Token);
            }
        }

        await FlushAsync(rest, stopped.Token);
    }

    /// <summary>
    /// Writes one blob per model and hour. While the host runs, a transient storage failure (storage
    /// away, refused, timing out) is retried with backoff until storage answers: records keep arriving
    /// in the buffer meanwhile, and past its bound they are dropped and counted, so an outage costs at
    /// most what does not fit. When stopping, one last try each; what still fails is dropped and counted.
    /// An answer that no retry can change (a 4xx about the request) drops the group at once.
    /// </summary>
    private async Task FlushAsync(List<PredictionRecord> batch, CancellationToken stoppingToken)
    {
        foreach (var group in batch.GroupBy(r => (r.Model, Hour: HourOf(r.Time))))
        {
            var records = group.ToList();
            var content = new StringBuilder();
            foreach (var record in records)
            {
                content.Append(JsonSerializer.Serialize(record, JsonOptions)).Append('\n');
            }

            // One name for every attempt: a retry after a write that did land finds the blob there (409).
            var path = BlobPathFor(group.Key.Model, group.Key.Hour, clock.GetUtcNow());
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    await storage.EnsureCreatedAsync(CancellationToken.None);
                    await storage.Blob(path).UploadAsync(BinaryData.FromString(content.ToString()), overwrite: false, CancellationToken.None);
                    CountWritten(records.Count, attempt);
                    break;
                }
                catch (Azure.RequestFailedException ex) when (ex.Status == 409)
                {
                    // The name is unique to this group (it holds a GUID): an earlier try landed (ours, or
                    // one of the SDK's own retries) and only its answer was lost. The records are written.
                    CountWritten(records.Count, attempt);
                    break;
                }
                catch (Exception ex) when (StorageFaults.IsTransient(ex) && !stoppingToken.IsCancellationRequested)
                {
                    Telemetry.StorageFailed(TelemetryNames.Components.PredictionLog);
                    if (attempt == 0)
                    {
                        Interlocked.CompareExchange(ref failingSince, clock.GetUtcNow().UtcTicks, 0);
                        LogWriteRetrying(StorageFaults.Describe(ex), records.Count, path.ToString());
                    }

                    try
                    {
                        await Task.Delay(StorageFaults.Backoff(attempt, FirstRetry, LongestRetry), clock, stoppingToken);
                    }
                    catch (OperationCanceledException)
                    {
                        // Stopping: the next attempt is the last.
                    }
                }
                catch (Exception ex)
                {
                    LogWriteFailed(ex, records.Count, path.ToString());
                    Drop(records.Count, stoppingToken.IsCancellationRequested ? "storage refused them while the host stopped" : "storage refused them");
                    break;
                }
            }
        }

        batch.Clear();
    }

    private void CountWritten(int count, int attempts)
    {
        Interlocked.Add(ref written, count);
        Telemetry.PredictionLogWritten.Add(count);
        if (attempts > 0 && Interlocked.Exchange(ref failingSince, 0) != 0)
        {
            LogWriteRecovered(attempts);
        }
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

        if (dropLog.ShouldLog())
        {
            LogDropped(count, why, total);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Prediction log dropped {Count} record(s): {Why}; {Total} dropped since start.")]
    private partial void LogDropped(int count, string why, long total);

    [LoggerMessage(EventId = 4100, Level = LogLevel.Warning, Message = "Prediction log cannot reach storage ({Reason}); holding {Count} record(s) for {Path} and retrying with backoff; new records wait in the buffer.")]
    private partial void LogWriteRetrying(string reason, int count, string path);

    [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "Prediction log writes again after {Attempts} failed attempt(s).")]
    private partial void LogWriteRecovered(int attempts);

    [LoggerMessage(Level = LogLevel.Error, Message = "Prediction log could not write {Count} record(s) to {Path}; they are dropped and counted.")]
    private partial void LogWriteFailed(Exception exception, int count, string path);
}
