namespace Serverless.Lifecycle.Training;

public enum TrainingJobState
{
    Running,
    Succeeded,
    Failed,
}

/// <summary>A file the trainer produced, with its SHA-256 so every later load can check it.</summary>
public sealed record TrainingArtifact(string Name, string Path, string Sha256, long SizeBytes);

/// <summary>How well the exported ONNX graph reproduces the trainer's own predictions.</summary>
public sealed record OnnxParity(int Rows, double MaxProbabilityDifference, bool LabelsIdentical);

/// <summary>
/// What a training job reports, written to <c>runs/{runId}/jobs/{jobId}/result.json</c>.
/// Its presence is what tells the pipeline that the job has finished.
/// </summary>
public sealed record TrainingJobResult(
    string JobId,
    TrainingJobState State,
    string? Error,
    IReadOnlyDictionary<string, double> ValidationMetrics,
    IReadOnlyList<TrainingArtifact> Artifacts,
    OnnxParity? Parity,
    double DurationSeconds,
    string Hardware,
    string TrainerVersion)
{
    public TrainingArtifact? Onnx => Artifacts.FirstOrDefault(a => a.Name == TrainingJobPaths.OnnxFileName);
}
