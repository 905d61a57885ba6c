using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Monitoring;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Training;

namespace Serverless.Lifecycle.Pipeline;

/// <summary>Input of the steps that only need the run, the spec and the dataset.</summary>
public sealed record DatasetStepInput(string RunId, ModelSpec Spec, DatasetVersion Dataset);

/// <summary>The persisted split: three CSV blobs under <c>runs/{runId}/split/</c>.</summary>
public sealed record DatasetSplit(string TrainPath, string ValidationPath, string TestPath, SplitCounts Counts);

/// <summary>One training job of a run: the single job, or one trial of a hyperparameter search.</summary>
public sealed record TrainingJobInput(
    string RunId,
    string JobId,
    ModelSpec Spec,
    DatasetVersion Dataset,
    DatasetSplit Split,
    string Algorithm,
    IReadOnlyDictionary<string, double> Hyperparameters,
    DateTime DeadlineUtc,
    bool ScoreTest = false);

/// <summary>Input of the start activity: the job and which start of it this is.</summary>
public sealed record StartTrainingInput(TrainingJobInput Job, int Attempt);

/// <summary>
/// A started execution of a job. <see cref="ExecutionId"/> is null when the job had already
/// reported and nothing was started. The policy numbers come from the host's options.
/// </summary>
public sealed record TrainingJobRef(string RunId, string JobId, int Attempt, string? ExecutionId, TimeSpan StatusCheckInterval, int MaxStarts);

/// <summary>
/// A job's state as the pipeline sees it: finished with a checked result, still running, or
/// <see cref="Lost"/> (its execution ended without a result; <see cref="Detail"/> says how).
/// </summary>
public sealed record TrainingJobStatus(TrainingJobState State, TrainingJobResult? Result, bool Lost, string? Detail = null);

/// <summary>What a job orchestration returns: the result, how many times it was started, and how its end was noticed.</summary>
public sealed record TrainingJobReport(TrainingJobResult Result, int Starts, string NoticedBy);

/// <summary>
/// The evaluate step's input. <see cref="Champion"/>: the champion as scored on the test split while
/// the job trained; used when it is still the champion, null when it was not scored then.
/// </summary>
public sealed record EvaluateInput(string RunId, ModelSpec Spec, TrainingJobResult Job, DatasetSplit Split, ChampionScore? Champion = null);

/// <summary>The champion scored on a run's test split (its version in <see cref="EvaluatedModel.Version"/>), or null when the model had none.</summary>
public sealed record ChampionScore(EvaluatedModel? Champion);

/// <summary>Input of the activity that scores the champion on the run's test split while the job trains.</summary>
public sealed record ScoreChampionInput(string RunId, ModelSpec Spec, string TestPath);

/// <summary>
/// The evaluation of a candidate: its test metrics, slices and serving measurements, the champion
/// it was compared with (scored on the same split), the gate's verdict, and what the candidate
/// relies on (its permutation feature importance).
/// </summary>
public sealed record EvaluationResult(
    IReadOnlyDictionary<string, double> Metrics,
    GateVerdict Verdict,
    int TestRows,
    IReadOnlyList<SliceMetrics>? Slices = null,
    EvaluatedModel? Champion = null,
    double? LoadMs = null,
    double? LatencyP99Ms = null,
    ImportanceReport? Importance = null);

public sealed record RegisterInput(
    string RunId,
    ModelSpec Spec,
    DatasetVersion Dataset,
    TrainingJobResult Job,
    EvaluationResult Evaluation,
    string? ProfilePath,
    string Trigger = RunTriggers.Manual,
    string? Reason = null,
    IReadOnlyList<TrialRecord>? Trials = null,
    Registry.ImportedModel? Imported = null);

public sealed record RegisteredVersion(string Model, int Version, string Sha256);

/// <summary>
/// A promotion. With <paramref name="Conditional"/> it happens only if the alias still points at
/// <paramref name="GatedAgainst"/>, the champion the gate compared with (null: none), else the run is superseded.
/// </summary>
public sealed record PromoteInput(string RunId, string Model, string Alias, int Version, string Reason, int? GatedAgainst = null, bool Conditional = false);

/// <summary>A run's version that was not promoted: the champion moved to <paramref name="Champion"/> and the candidate did not pass the gate again.</summary>
public sealed record SupersededRecord(string RunId, string Model, int Version, int Champion, string Reason);

public sealed record ApprovalRecord(string Model, string RunId, ApprovalDecision Decision);
