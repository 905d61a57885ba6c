using System.Text.Json;
using Azure;
using Azure.Storage.Blobs.Models;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Training;

/// <summary>Reads and writes job specs and results; a job spec, once written, is never changed.</summary>
public sealed class TrainingJobStore(LifecycleStorage storage)
{
    /// <summary>Writes the spec unless it exists (a retried activity keeps the first one) and returns the stored spec.</summary>
    public async Task<TrainingJobSpec> WriteSpecOnceAsync(TrainingJobSpec job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        await storage.EnsureCreatedAsync(cancellationToken);
        var path = TrainingJobPaths.Spec(job.RunId, job.JobId);
        return await TryCreateAsync(path, BinaryData.FromObjectAsJson(job, SpecJson.Options), cancellationToken)
            ? job
            : await ReadSpecAsync(path, cancellationToken);
    }

    public async Task<TrainingJobSpec> ReadSpecAsync(BlobPath path, CancellationToken cancellationToken)
    {
        var content = await storage.Blob(path).DownloadContentAsync(cancellationToken);
        return content.Value.Content.ToObjectFromJson<TrainingJobSpec>(SpecJson.Options)
            ?? throw new InvalidDataException($"Job spec {path} is empty.");
    }

    /// <summary>The job's result, or null while it has not reported one.</summary>
    public async Task<TrainingJobResult?> TryReadResultAsync(string runId, string jobId, CancellationToken cancellationToken)
    {
        await storage.EnsureCreatedAsync(cancellationToken);
        var blob = storage.Blob(TrainingJobPaths.Result(runId, jobId));
        try
        {
            var content = await blob.DownloadContentAsync(cancellationToken);
            return content.Value.Content.ToObjectFromJson<TrainingJobResult>(SpecJson.Options);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
        catch (JsonException ex)
        {
            return new TrainingJobResult(jobId, TrainingJobState.Failed, $"The job's result file is not valid JSON: {ex.Message}", new Dictionary<string, double>(), [], null, 0, "unknown", "unknown");
        }
    }

    /// <summary>
    /// The progress reports of a run's jobs that train in epochs (<see cref="TrainingProgress"/>), in
    /// job order; none for a run without such jobs. A report that cannot be read is left out: it is
    /// rewritten at the next epoch, and progress is for watching, not for deciding.
    /// </summary>
    public async Task<IReadOnlyList<TrainingProgress>> ReadProgressAsync(string runId, CancellationToken cancellationToken)
    {
        var reports = new List<TrainingProgress>();
        var container = storage.Container(StorageNames.RunsContainer);
        try
        {
            await foreach (var item in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, $"{runId}/jobs/", cancellationToken))
            {
                if (!item.Name.EndsWith("/" + TrainingJobPaths.ProgressFileName, StringComparison.Ordinal))
                {
                    continue;
                }

                try
                {
                    var content = await container.GetBlobClient(item.Name).DownloadContentAsync(cancellationToken);
                    if (content.Value.Content.ToObjectFromJson<TrainingProgress>(SpecJson.Options) is { } report)
                    {
                        reports.Add(report);
                    }
                }
                catch (Exception ex) when (ex is JsonException || (ex is RequestFailedException { Status: 404 }))
                {
                    // Being rewritten, or gone with its run.
                }
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // No runs container yet: no progress.
        }

        return reports.OrderBy(r => r.JobId, StringComparer.Ordinal).ToList();
    }

    /// <summary>Writes the result once: a second run of the same job keeps the first result.</summary>
    public async Task<TrainingJobResult> WriteResultOnceAsync(string runId, TrainingJobResult result, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(result);
        return await TryCreateAsync(TrainingJobPaths.Result(runId, result.JobId), BinaryData.FromObjectAsJson(result, SpecJson.Options), cancellationToken)
            ? result
            : await TryReadResultAsync(runId, result.JobId, cancellationToken) ?? result;
    }

    /// <summary>Creates the blob unless it exists; false when another writer got there first.</summary>
    private async Task<bool> TryCreateAsync(BlobPath path, BinaryData content, CancellationToken cancellationToken)
    {
        try
        {
            await storage.Blob(path).UploadAsync(
                content,
                new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } },
                cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            return false;
        }
    }
}
