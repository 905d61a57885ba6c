using System.ComponentModel.DataAnnotations;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Serving;

public sealed class BatchScoringOptions
{
    public const string SectionName = "BatchScoring";

    /// <summary>How often laptop mode looks for new files in <c>batch-input</c> (Azure uses an Event Grid blob trigger instead).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// Laptop mode's stand-in for the Event Grid blob trigger: polls <c>batch-input</c> and scores
/// every file whose summary is missing or was written for other bytes (the scorer decides by ETag).
/// </summary>
public sealed partial class BatchInputWatcher(LifecycleStorage storage, BatchScorer scorer, IOptions<BatchScoringOptions> options, TimeProvider clock, ILogger<BatchInputWatcher> logger) : BackgroundService
{
    // While storage is away, polls back off from the poll interval to at most this.
    private static readonly TimeSpan MaxPollBackoff = TimeSpan.FromMinutes(1);

    private readonly Dictionary<string, string> done = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failedPolls = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = options.Value.PollInterval;
            try
            {
                await storage.EnsureCreatedAsync(stoppingToken);
                var container = storage.Container(StorageNames.BatchInputContainer);
                await foreach (var blob in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, null, stoppingToken))
                {
                    var etag = blob.Properties.ETag?.ToString() ?? "";
                    if (done.TryGetValue(blob.Name, out var seen) && seen == etag)
                    {
                        continue;
                    }

                    if (!BatchScorer.IsUnderAModel(blob.Name))
                    {
                        // Not under batch-input/{model}/: no model to score with, and no retry will change that.
                        BatchScorer.LogNotUnderAModel(logger, blob.Name);
                        done[blob.Name] = etag;
                        continue;
                    }

                    try
                    {
                        var summary = await scorer.ScoreAsync(blob.Name, stoppingToken);
                        LogScored(blob.Name, summary.Version, summary.Scored, summary.Rejected, summary.Error);
                        done[blob.Name] = etag;
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        LogFailed(ex, blob.Name);
                    }
                }

                failedPolls = 0;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Storage away (the SDK's retries spent surface as AggregateException), or anything
                // else: never let it escape, or the host stops. Back off while it lasts.
                wait = StorageFaults.Backoff(failedPolls++, options.Value.PollInterval, MaxPollBackoff);
                Observability.Telemetry.StorageFailed(Observability.TelemetryNames.Components.BatchInput);
                LogPollFailed(ex, StorageFaults.Describe(ex), wait.TotalSeconds);
            }

            await Task.Delay(wait, clock, stoppingToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {Blob}: version {Version} scored {Scored} row(s), rejected {Rejected}. {Error}")]
    private partial void LogScored(string blob, int? version, long scored, long rejected, string? error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Batch {Blob} could not be scored; it is tried again on the next poll.")]
    private partial void LogFailed(Exception exception, string blob);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Warning, Message = "Could not look for batch files ({Reason}); trying again in {Seconds:0} s.")]
    private partial void LogPollFailed(Exception exception, string reason, double seconds);
}
