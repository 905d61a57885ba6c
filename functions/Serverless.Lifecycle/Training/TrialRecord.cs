namespace Serverless.Lifecycle.Training;

/// <summary>What one trial did, kept with the run.</summary>
public sealed record TrialRecord(
    string JobId,
    string Algorithm,
    IReadOnlyDictionary<string, double> Hyperparameters,
    TrainingJobState State,
    IReadOnlyDictionary<string, double> ValidationMetrics,
    string? Error,
    int Starts,
    string NoticedBy,
    double DurationSeconds,
    IReadOnlyDictionary<string, double>? PhaseSeconds);
