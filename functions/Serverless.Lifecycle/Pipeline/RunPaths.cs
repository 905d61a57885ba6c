using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Pipeline;

/// <summary>A run's artifacts: one folder per run, <c>runs/{runId}/</c>.</summary>
public static class RunPaths
{
    public static BlobPath ValidationReport(string runId) => new(StorageNames.RunsContainer, $"{runId}/validation.json");

    /// <summary>The dataset's profile: the drift baseline of the version this run trains.</summary>
    public static BlobPath Profile(string runId) => new(StorageNames.RunsContainer, $"{runId}/profile.json");

    public static BlobPath Split(string runId, string partition) => new(StorageNames.RunsContainer, $"{runId}/split/{partition}.csv");

    /// <summary>The one decision on the run's approval: created once, so of two decisions that race only one is delivered.</summary>
    public static BlobPath Decision(string runId) => new(StorageNames.RunsContainer, $"{runId}/decision.json");

    /// <summary>The graph an import run checks, gates and registers (a model trained elsewhere).</summary>
    public static BlobPath ImportedModel(string runId) => new(StorageNames.RunsContainer, $"{runId}/import/model.onnx");

    public static BlobPath Evaluation(string runId) => new(StorageNames.RunsContainer, $"{runId}/evaluation.json");
}
