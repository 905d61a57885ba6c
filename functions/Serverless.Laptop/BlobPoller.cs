using Azure.Storage.Blobs.Models;
using Serverless.Lifecycle.Observability;
using Serverless.Lifecycle.Storage;

namespace Serverless.Laptop;

/// <summary>What one <see cref="BlobPoller"/> watches and what it does with a blob.</summary>
/// <param name="Container">The container to poll.</param>
/// <param name="Component">The component name in logs and the storage-failure metric.</param>
/// <param name="Interval">How often it polls while storage answers.</param>
/// <param name="Wants">Which blob names this host handles (for example the models it covers).</param>
/// <param name="Handle">What a blob event would do in Azure: idempotent, since a blob is handed over again after a failure.</param>
/// <param name="Enabled">False: the poller does not run at all (for example <c>Monitoring:Enabled</c> off for datasets).</param>
public sealed record BlobPollerSettings(string Container, string Component, TimeSpan Interval, Func<string, bool> Wants, Func<string, CancellationToken, Task> Handle, bool Enabled = true);

/// <summary>
/// Laptop mode's stand-in for the Event Grid blob triggers (new datasets, batch files), with one
/// semantics for both: every version of a blob (its name and ETag) is handed to the handler once it
/// has settled (<see cref="Settle"/>), including blobs written while the host was down, as Event Grid
/// delivers the events it holds. A handler that fails gets the blob again on the next polls, as Event
/// Grid redelivers, and after <see cref="MaxAttempts"/> the blob is given up with an error naming it
/// (writing it again makes a new version). While storage is away, polls back off; nothing stops the host.
/// </summary>
public sealed partial class BlobPoller(LifecycleStorage storage, BlobPollerSettings settings, TimeProvider clock, ILogger<BlobPoller> logger) : BackgroundService
{
    /// <summary>A blob this recent may still be being written, or be an upload whose record is being written: it waits for a later poll.</summary>
    public static readonly TimeSpan Settle = TimeSpan.FromSeconds(3);

    /// <summary>Tries per blob version before it is given up.</summary>
    public const int MaxAttempts = 5;

    // While storage is away, polls back off from the poll interval to at most this.
    private static readonly TimeSpan MaxPollBackoff = TimeSpan.FromMinutes(1);

    private readonly Dictionary<string, string> handled = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Name, string ETag), int> failures = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failedPolls = 0;
        while (settings.Enabled && !stoppingToken.IsCancellationRequested)
        {
            var wait = settings.Interval;
            try
            {
                await PollAsync(stoppingToken);
                failedPolls = 0;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Storage away (the SDK's retries spent surface as AggregateException), or anything
                // else: never let it escape, or the host stops. Back off while it lasts.
                wait = StorageFaults.Backoff(failedPolls++, settings.Interval, MaxPollBackoff);
                Telemetry.StorageFailed(settings.Component);
                LogPollFailed(ex, settings.Container, StorageFaults.Describe(ex), wait.TotalSeconds);
            }

            await Task.Delay(wait, clock, stoppingToken);
        }
    }

    /// <summary>One look at the container: each settled blob version not handled yet goes to the handler.</summary>
    public async Task PollAsync(CancellationToken cancellationToken)
    {
        await storage.EnsureCreatedAsync(cancellationToken);
        var settled = clock.GetUtcNow() - Settle;
        var listed = new Dictionary<string, string>(StringComparer.Ordinal);
        var due = new List<(string Name, string ETag)>();
        await foreach (var blob in storage.Container(settings.Container).GetBlobsAsync(BlobTraits.None, BlobStates.None, null, cancellationToken))
        {
            var etag = listed[blob.Name] = blob.Properties.ETag?.ToString() ?? "";
            if ((!handled.TryGetValue(blob.Name, out var done) || done != etag) && blob.Properties.LastModified <= settled && settings.Wants(blob.Name))
            {
                due.Add((blob.Name, etag));
            }
        }

        // What is gone (deleted) is forgotten, and so are the failures of versions since overwritten, so neither grows without end.
        foreach (var gone in handled.Keys.Where(n => !listed.ContainsKey(n)).ToList())
        {
            handled.Remove(gone);
        }

        foreach (var stale in failures.Keys.Where(v => !(listed.TryGetValue(v.Name, out var etag) && etag == v.ETag)).ToList())
        {
            failures.Remove(stale);
        }

        foreach (var (name, etag) in due)
        {
            var key = (name, etag);
            try
            {
                await settings.Handle(name, cancellationToken);
                handled[name] = etag;
                failures.Remove(key);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                var attempts = failures[key] = failures.GetValueOrDefault(key) + 1;
                if (attempts < MaxAttempts)
                {
                    LogHandleFailed(ex, settings.Container, name, attempts, MaxAttempts);
                    continue;
                }

                handled[name] = etag;
                failures.Remove(key);
                LogGaveUp(ex, settings.Container, name, attempts);
            }
        }
    }

    [LoggerMessage(EventId = 4102, Level = LogLevel.Warning, Message = "Could not look for new blobs in {Container} ({Reason}); trying again in {Seconds:0} s.")]
    private partial void LogPollFailed(Exception exception, string container, string reason, double seconds);

    [LoggerMessage(EventId = 4105, Level = LogLevel.Warning, Message = "{Container}/{Blob} could not be handled (attempt {Attempt} of {MaxAttempts}); trying again on the next poll.")]
    private partial void LogHandleFailed(Exception exception, string container, string blob, int attempt, int maxAttempts);

    [LoggerMessage(EventId = 4106, Level = LogLevel.Error, Message = "{Container}/{Blob} could not be handled after {Attempts} attempts and is given up; write it again (a new version is handled anew), or use its HTTP route.")]
    private partial void LogGaveUp(Exception exception, string container, string blob, int attempts);
}
