using Azure.Storage.Blobs;
using Microsoft.Azure.Functions.Worker;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Storage;

namespace Serverless.Functions;

/// <summary>Batch scoring: a file uploaded under <c>batch-input/{model}/</c> is scored by the model's champion.</summary>
public sealed class BatchFunctions(BatchScorer scorer)
{
    /// <summary>
    /// An Event Grid blob trigger (the kind Flex Consumption supports): the subscription on the
    /// storage account's system topic delivers BlobCreated events for <c>batch-input</c>. A
    /// duplicate delivery finds the summary written for the same ETag and does nothing. A file
    /// outside a model's folder is logged and left alone (failing would only retry it).
    /// </summary>
    [Function("ScoreBatch")]
    public async Task ScoreBatch(
        [BlobTrigger(StorageNames.BatchInputContainer + "/{name}", Source = BlobTriggerSource.EventGrid, Connection = "AzureWebJobsStorage")] BlobClient blob,
        FunctionContext context)
    {
        ArgumentNullException.ThrowIfNull(blob);
        ArgumentNullException.ThrowIfNull(context);
        if (!BatchScorer.IsUnderAModel(blob.Name))
        {
            BatchScorer.LogNotUnderAModel(context.GetLogger<BatchFunctions>(), blob.Name);
            return;
        }

        await scorer.ScoreAsync(blob.Name, context.CancellationToken);
    }
}
