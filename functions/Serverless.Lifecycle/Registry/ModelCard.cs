using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Training;

namespace Serverless.Lifecycle.Registry;

/// <summary>
/// Everything needed to explain a model version: the spec it was trained under, the data, the
/// trainer, the metrics and the gate's verdict, what the model relies on (its permutation feature
/// importance on the test split), and the SHA-256 of the ONNX file. Stored as
/// <c>models/{model}/{version}/card.json</c> next to the model.
/// </summary>
public sealed record ModelCard(
    string Model,
    int Version,
    string RunId,
    DateTimeOffset CreatedAt,
    ModelSpec Spec,
    DatasetVersion Dataset,
    string Algorithm,
    IReadOnlyDictionary<string, double> Hyperparameters,
    int Seed,
    string TrainerVersion,
    string Hardware,
    IReadOnlyDictionary<string, double> ValidationMetrics,
    IReadOnlyDictionary<string, double> TestMetrics,
    GateVerdict Verdict,
    OnnxParity? Parity,
    string OnnxSha256,
    long OnnxSizeBytes,
    string? ProfilePath = null,
    CardLineage? Lineage = null,
    string? Device = null,
    double? TrainingRowsPerSecond = null,
    ImportedModel? Imported = null,
    ImportanceReport? Importance = null);

/// <summary>
/// What produced the version beyond its data and trainer: why the run started, the spec's
/// identity, every trial of the run, and the evaluation the gate decided on (per-slice metrics,
/// the champion it was compared with, serving measurements).
/// </summary>
public sealed record CardLineage(
    string Trigger,
    string? Reason,
    string SpecSha256,
    IReadOnlyList<TrialRecord> Trials,
    IReadOnlyList<SliceMetrics> Slices,
    EvaluatedModel? Champion,
    double? LoadMs,
    double? LatencyP99Ms);
