using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Training;

/// <summary>Where a job's files live: <c>runs/{runId}/jobs/{jobId}/</c>.</summary>
public static class TrainingJobPaths
{
    public const string SpecFileName = "job.json";
    public const string ResultFileName = "result.json";
    public const string OnnxFileName = "model.onnx";
    public const string ProgressFileName = "progress.json";
    public const string TestEvaluationFileName = "test-evaluation.json";

    public static string Prefix(string runId, string jobId) => $"{runId}/jobs/{jobId}/";

    public static BlobPath Spec(string runId, string jobId) => new(StorageNames.RunsContainer, Prefix(runId, jobId) + SpecFileName);

    public static BlobPath Result(string runId, string jobId) => new(StorageNames.RunsContainer, Prefix(runId, jobId) + ResultFileName);

    public static BlobPath Onnx(string runId, string jobId) => new(StorageNames.RunsContainer, Prefix(runId, jobId) + OnnxFileName);

    /// <summary>The trainer's progress, rewritten as it trains (see <see cref="TrainingProgress"/>).</summary>
    public static BlobPath Progress(string runId, string jobId) => new(StorageNames.RunsContainer, Prefix(runId, jobId) + ProgressFileName);

    /// <summary>The built-in trainer's scores of its model on the test split, when the job named the split (<see cref="TrainingJobSpec.TestPath"/>).</summary>
    public static BlobPath TestEvaluation(string runId, string jobId) => new(StorageNames.RunsContainer, Prefix(runId, jobId) + TestEvaluationFileName);

    /// <summary>The route a trainer reports its end to, under the host's <c>/api</c> (the API maps the same template).</summary>
    public const string CompleteRoute = "runs/{runId}/jobs/{jobId}/complete";

    /// <summary>The path of <see cref="CompleteRoute"/> for one job, from the host's root.</summary>
    public static string CompletePath(string runId, string jobId) => $"/api/runs/{Uri.EscapeDataString(runId)}/jobs/{Uri.EscapeDataString(jobId)}/complete";
}
