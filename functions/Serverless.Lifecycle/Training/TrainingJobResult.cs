namespace Serverless.Lifecycle.Training;

public enum TrainingJobState
{
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

/// <summary>A file the trainer produced, with its SHA-256 so every later load can check it.</summary>
public sealed record TrainingArtifact(string Name, string Path, string Sha256, long SizeBytes);

/// <summary>
/// How well the exported ONNX graph reproduces the trainer's own predictions on a sample of the
/// validation split: the largest difference in probability (binary), class score (multiclass) or
/// value (regression; relative to the value when it exceeds 1), and whether every label matched.
/// </summary>
public sealed record OnnxParity(int Rows, double MaxProbabilityDifference, bool LabelsIdentical);

/// <summary>
/// What a training job reports, written once to <c>runs/{runId}/jobs/{jobId}/result.json</c>.
/// Its presence is what tells the pipeline that the job has finished.
/// </summary>
/// <param name="ValidationMetrics">Metrics on the validation split, by the names of <see cref="Specs.MetricNames"/>.</param>
/// <param name="Hardware">The CPU model or GPU name and count the job ran on.</param>
/// <param name="PhaseSeconds">Seconds per phase inside the trainer: download, load, fit, validate, export, parity, upload.</param>
/// <param name="Device">What the model was fitted on: <c>cpu</c>, or <c>cuda: {GPU name}, CUDA {version}</c>.</param>
/// <param name="TrainingRowsPerSecond">Training rows the fit went through per second (rows times epochs for the deep model, over the fit's time).</param>
public sealed record TrainingJobResult(
    string JobId,
    TrainingJobState State,
    string? Error,
    IReadOnlyDictionary<string, double> ValidationMetrics,
    IReadOnlyList<TrainingArtifact> Artifacts,
    OnnxParity? Parity,
    double DurationSeconds,
    string Hardware,
    string TrainerVersion,
    string? Algorithm = null,
    IReadOnlyDictionary<string, double>? Hyperparameters = null,
    int? Seed = null,
    IReadOnlyDictionary<string, double>? PhaseSeconds = null,
    string? Device = null,
    double? TrainingRowsPerSecond = null)
{
    public TrainingArtifact? Onnx => Artifacts.FirstOrDefault(a => a.Name == TrainingJobPaths.OnnxFileName);

    /// <summary>A failure the pipeline itself decided (lost, timed out, cancelled, a result that does not check out).</summary>
    public static TrainingJobResult PipelineFailure(string jobId, TrainingJobState state, string error) =>
        new(jobId, state, error, new Dictionary<string, double>(), [], null, 0, "unknown", "unknown");
}
