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
    /// duplicate delivery finds the summary written for the same ETag and does nothing.
    /// </summary>
    [Function("ScoreBatch")]
    public Task ScoreBatch(
        [BlobTrigger(StorageNames.BatchInputContainer + "/{name}", Source = BlobTriggerSource.EventGrid, Connection = "AzureWebJobsStorage")] BlobClient blob,
        FunctionContext context) =>
        scorer.ScoreAsync(blob.Name, context.CancellationToken);
}
