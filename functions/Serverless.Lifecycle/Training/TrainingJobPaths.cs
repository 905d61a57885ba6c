using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Training;

/// <summary>Where a job's files live: <c>runs/{runId}/jobs/{jobId}/</c>.</summary>
public static class TrainingJobPaths
{
    public const string SpecFileName = "job.json";
    public const string ResultFileName = "result.json";
    public const string OnnxFileName = "model.onnx";

    public static string Prefix(string runId, string jobId) => $"{runId}/jobs/{jobId}/";

    public static BlobPath Spec(string runId, string jobId) => new(StorageNames.RunsContainer, Prefix(runId, jobId) + SpecFileName);

    public static BlobPath Result(string runId, string jobId) => new(StorageNames.RunsContainer, Prefix(runId, jobId) + ResultFileName);

    public static BlobPath Onnx(string runId, string jobId) => new(StorageNames.RunsContainer, Prefix(runId, jobId) + OnnxFileName);
}
