using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Training;

namespace Serverless.Lifecycle.Pipeline;

/// <summary>Input of the steps that only need the run, the spec and the dataset.</summary>
public sealed record DatasetStepInput(string RunId, ModelSpec Spec, DatasetVersion Dataset);

/// <summary>The persisted split: three CSV blobs under <c>runs/{runId}/split/</c>.</summary>
public sealed record DatasetSplit(string TrainPath, string ValidationPath, string TestPath, SplitCounts Counts);

public sealed record StartTrainingInput(string RunId, string JobId, ModelSpec Spec, DatasetVersion Dataset, DatasetSplit Split, int Attempt = 1);

public sealed record TrainingJobRef(string RunId, string JobId, int Attempt);

/// <summary>A job's state as the pipeline sees it; <see cref="Lost"/> when it has not reported and no longer runs.</summary>
public sealed record TrainingJobStatus(TrainingJobState State, TrainingJobResult? Result, bool Lost);

public sealed record EvaluateInput(string RunId, ModelSpec Spec, TrainingJobResult Job, DatasetSplit Split);

public sealed record EvaluationResult(IReadOnlyDictionary<string, double> Metrics, GateVerdict Verdict, int TestRows);

public sealed record RegisterInput(string RunId, ModelSpec Spec, DatasetVersion Dataset, TrainingJobResult Job, EvaluationResult Evaluation, string? ProfilePath);

public sealed record RegisteredVersion(string Model, int Version, string Sha256);

public sealed record PromoteInput(string RunId, string Model, string Alias, int Version, string Reason);
