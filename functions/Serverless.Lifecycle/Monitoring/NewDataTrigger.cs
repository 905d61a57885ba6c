using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Azure.Storage.Blobs.Models;
using Serverless.Lifecycle.Api;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Monitoring;

/// <summary>
/// Retraining on new data that lands in <c>datasets/{model}/</c> directly (a pipeline writing to
/// the storage account, not the upload route). The run id derives from the blob's path and ETag,
/// the same id the upload route gives, so a duplicate delivery, or the event of a file the upload
/// route already started a run for, starts nothing new.
/// </summary>
public sealed partial class NewDataTrigger(DatasetStore datasets, ModelRegistry registry, RetrainingTriggers triggers, ILogger<NewDataTrigger> logger)
{
    public const string Trigger = "newData";

    /// <summary>Handles <c>datasets/{blobName}</c>; returns the trigger's record, or null when the blob is not a dataset of a registered model.</summary>
    public async Task<TriggerRecord?> OnBlobAsync(string blobName, IPipelineClient pipeline, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(blobName);
        var slash = blobName.IndexOf('/', StringComparison.Ordinal);
        var model = slash > 0 ? blobName[..slash] : null;
        if (model is null || await registry.TryGetSpecAsync(model, cancellationToken) is null)
        {
            LogIgnored(blobName);
            return null;
        }

        DatasetVersion dataset;
        try
        {
            (dataset, var known) = await datasets.RegisterExistingAsync(model, new BlobPath(StorageNames.DatasetsContainer, blobName), cancellationToken);
            if (known)
            {
                // Uploaded through the route, which started its run.
                return null;
            }
        }
        catch (Exception ex) when (ex is EmptyDatasetException or Azure.RequestFailedException { Status: 404 })
        {
            // Empty, or gone (deleted since, or an event about a blob that never was): nothing to train on.
            LogIgnored(blobName);
            return null;
        }

        return await triggers.TriggerAsync(model, Trigger, $"new dataset {dataset.Path}", dataset, RunsApi.UploadRunId(dataset), pipeline, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "datasets/{Blob} is not under a registered model's folder, is empty or does not exist; no run was started.")]
    private partial void LogIgnored(string blob);
}

/// <summary>
/// Laptop mode's stand-in for the Event Grid blob trigger on <c>datasets/</c>: polls for blobs that
/// appear while it runs (those present at start are not new) and hands each to <see cref="NewDataTrigger"/>.
/// A blob whose trigger fails is tried again on the next polls, as Event Grid redelivers an event
/// (the run id makes a repeat start nothing twice), and given up after <see cref="MaxAttempts"/>
/// with an error naming it; a failure never stops the watcher.
/// </summary>
public sealed partial class DatasetWatcher(LifecycleStorage storage, NewDataTrigger trigger, IPipelineClient pipeline, IOptions<MonitoringOptions> options, TimeProvider clock, ILogger<DatasetWatcher> logger) : BackgroundService
{
    /// <summary>A blob this recent may be an upload whose dataset record is still being written; it is looked at on a later poll.</summary>
    public static readonly TimeSpan Settle = TimeSpan.FromSeconds(3);

    /// <summary>Tries per blob before the watcher gives it up.</summary>
    public const int MaxAttempts = 5;

    private readonly Dictionary<string, int> failures = new(StringComparer.Ordinal);
    private HashSet<string>? seen;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (options.Value.Enabled && !stoppingToken.IsCancellationRequested)
        {
            try
            {
                await PollAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Storage away (the SDK's retries spent), or anything else: the next poll tries again; the host stays up.
                Observability.Telemetry.StorageFailed(Observability.TelemetryNames.Components.DatasetWatcher);
                LogPollFailed(ex);
            }

            await Task.Delay(options.Value.DatasetPollInterval, clock, stoppingToken);
        }
    }

    /// <summary>One look at <c>datasets/</c>: the first records what is there; later ones trigger each new, settled blob of a covered model.</summary>
    public async Task PollAsync(CancellationToken cancellationToken)
    {
        await storage.EnsureCreatedAsync(cancellationToken);
        var current = new List<(string Name, DateTimeOffset? Modified)>();
        await foreach (var blob in storage.Container(StorageNames.DatasetsContainer).GetBlobsAsync(BlobTraits.None, BlobStates.None, null, cancellationToken))
        {
            current.Add((blob.Name, blob.Properties.LastModified));
        }

        if (seen is null)
        {
            seen = [.. current.Select(c => c.Name)];
            return;
        }

        var settled = clock.GetUtcNow() - Settle;
        foreach (var (name, _) in current.Where(c => !seen.Contains(c.Name) && c.Modified <= settled && options.Value.Covers(c.Name.Split('/')[0])))
        {
            try
            {
                await trigger.OnBlobAsync(name, pipeline, cancellationToken);
                seen.Add(name);
                failures.Remove(name);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                var attempts = failures[name] = failures.GetValueOrDefault(name) + 1;
                if (attempts < MaxAttempts)
                {
                    LogTriggerFailed(ex, name, attempts, MaxAttempts);
                    continue;
                }

                seen.Add(name);
                failures.Remove(name);
                LogGaveUp(ex, name, attempts);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not look for new datasets; trying again on the next poll.")]
    private partial void LogPollFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "datasets/{Blob} could not start its run (attempt {Attempt} of {MaxAttempts}); trying again on the next poll.")]
    private partial void LogTriggerFailed(Exception exception, string blob, int attempt, int maxAttempts);

    [LoggerMessage(Level = LogLevel.Error, Message = "datasets/{Blob} could not start its run after {Attempts} attempts and is given up; upload it under a new name or through the upload route, or start a run on the model's runs route.")]
    private partial void LogGaveUp(Exception exception, string blob, int attempts);
}
