using Microsoft.Extensions.Logging;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Monitoring;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Pipeline;

/// <summary>
/// Retraining on new data that lands in <c>datasets/{model}/</c> directly (a pipeline writing to
/// the storage account, not the upload route). The run id derives from the blob's path and ETag,
/// the same id the upload route gives, so a duplicate delivery, or the event of a file the upload
/// route already started a run for, starts nothing new.
/// </summary>
public sealed partial class NewDataTrigger(DatasetStore datasets, ModelRegistry registry, RunController runs, ILogger<NewDataTrigger> logger)
{
    public const string Trigger = RunTriggers.NewData;

    /// <summary>Handles <c>datasets/{blobName}</c>; returns the trigger's record, or null when the blob is not a dataset of a registered model.</summary>
    public async Task<TriggerRecord?> OnBlobAsync(string blobName, IPipelineClient pipeline, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(blobName);
        var slash = blobName.IndexOf('/', StringComparison.Ordinal);
        var model = slash > 0 ? blobName[..slash] : null;
        if (model is null || await registry.TryGetSpecAsync(model, cancellationToken) is not { } spec)
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

        return await runs.StartAsync(new RunRequest(spec, Trigger, $"new dataset {dataset.Path}", dataset), pipeline, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "datasets/{Blob} is not under a registered model's folder, is empty or does not exist; no run was started.")]
    private partial void LogIgnored(string blob);
}
