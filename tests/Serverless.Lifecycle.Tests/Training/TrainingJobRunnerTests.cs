using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Storage;
using Serverless.Lifecycle.Training;
using Serverless.Tests;
using Serverless.Trainer;

namespace Serverless.Lifecycle.Tests.Training;

/// <summary>The trainer program's job runner on Azurite: idempotent per job id, reproducible per seed.</summary>
public sealed class TrainingJobRunnerTests : IDisposable
{
    private readonly LifecycleStorage storage = Azurite.CreateStorage();
    private readonly TrainingData data = new(rows: 1500);

    public void Dispose()
    {
        data.Dispose();
        storage.Dispose();
    }

    private async Task<TrainingJobSpec> WriteJobAsync(string runId, string jobId)
    {
        var jobs = new TrainingJobStore(storage);
        await storage.EnsureCreatedAsync(CancellationToken.None);
        var train = new BlobPath(StorageNames.RunsContainer, $"{runId}/split/train.csv");
        var validation = new BlobPath(StorageNames.RunsContainer, $"{runId}/split/validation.csv");
        await storage.Blob(train).UploadAsync(data.Train, overwrite: true);
        await storage.Blob(validation).UploadAsync(data.Validation, overwrite: true);
        var dataset = new DatasetVersion("churn", "datasets/churn/x.csv", "\"0x1\"", new string('0', 64), 1, DateTimeOffset.UnixEpoch);
        var spec = new TrainingJobSpec(
            jobId, runId, data.Spec, dataset, train.ToString(), validation.ToString(), TrainingJobPaths.Prefix(runId, jobId),
            DateTimeOffset.UtcNow.AddHours(1), data.Spec.Trainer.Algorithm, data.Spec.Trainer.Hyperparameters, data.Spec.Trainer.Seed);
        return await jobs.WriteSpecOnceAsync(spec, CancellationToken.None);
    }

    private TrainingJobRunner Runner() => new(storage, new TrainingJobStore(storage));

    [Fact]
    public async Task Run_SameJobTwice_ReportsOneResultAndLeavesTheArtifactUntouched()
    {
        var runId = Azurite.UniqueModelName("idem");
        var job = await WriteJobAsync(runId, $"{runId}-train");

        var first = await Runner().RunAsync(TrainingJobPaths.Spec(runId, job.JobId), CancellationToken.None);
        var onnx = storage.Blob(TrainingJobPaths.Onnx(runId, job.JobId));
        var etag = (await onnx.GetPropertiesAsync()).Value.ETag;
        var second = await Runner().RunAsync(TrainingJobPaths.Spec(runId, job.JobId), CancellationToken.None);

        Assert.Equal(TrainingJobState.Succeeded, first.State);
        Assert.Equal(first.DurationSeconds, second.DurationSeconds);
        Assert.Equal(first.Onnx!.Sha256, second.Onnx!.Sha256);
        Assert.Equal(etag, (await onnx.GetPropertiesAsync()).Value.ETag);
        Assert.Equal((job.Algorithm, job.Seed), (first.Algorithm, first.Seed));
        Assert.Contains("CPU", first.Hardware, StringComparison.Ordinal);

        // The version and, built from a git checkout as here, the commit: what a reproduce run names when bytes differ.
        Assert.Matches("^0\\.1\\.0\\+[0-9a-f]{12}$", first.TrainerVersion);
    }

    [Fact]
    public async Task Run_ArtifactCommittedWithOtherBytes_FailsAndNeverOverwritesIt()
    {
        var runId = Azurite.UniqueModelName("commit");
        var job = await WriteJobAsync(runId, $"{runId}-train");
        var onnx = storage.Blob(TrainingJobPaths.Onnx(runId, job.JobId));
        await onnx.UploadAsync(new BinaryData(new byte[] { 9, 9, 9 }));

        var result = await Runner().RunAsync(TrainingJobPaths.Spec(runId, job.JobId), CancellationToken.None);

        Assert.Equal(TrainingJobState.Failed, result.State);
        Assert.Contains("refusing to overwrite", result.Error, StringComparison.Ordinal);
        Assert.Equal(new byte[] { 9, 9, 9 }, (await onnx.DownloadContentAsync()).Value.Content.ToArray());
    }

    [Fact]
    public async Task Run_SameDatasetSpecAndSeedInTwoJobs_ProduceTheSameModelBytes()
    {
        var runId = Azurite.UniqueModelName("repro");
        var a = await WriteJobAsync(runId, $"{runId}-trial-1");
        var b = await WriteJobAsync(runId, $"{runId}-trial-2");

        var first = await Runner().RunAsync(TrainingJobPaths.Spec(runId, a.JobId), CancellationToken.None);
        var second = await Runner().RunAsync(TrainingJobPaths.Spec(runId, b.JobId), CancellationToken.None);

        Assert.Equal(TrainingJobState.Succeeded, first.State);
        Assert.Equal(first.Onnx!.Sha256, second.Onnx!.Sha256);
        Assert.Equal(first.ValidationMetrics, second.ValidationMetrics);
        Assert.Equal(
            ModelArtifactStore.Sha256Hex((await storage.Blob(TrainingJobPaths.Onnx(runId, a.JobId)).DownloadContentAsync()).Value.Content.ToArray()),
            first.Onnx.Sha256);
    }
}
