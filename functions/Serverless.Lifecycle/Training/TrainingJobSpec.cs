using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Training;

/// <summary>
/// The contract between the pipeline and the trainer: everything one training job needs,
/// written as JSON to <c>runs/{runId}/jobs/{jobId}/job.json</c> before the job starts and never
/// changed afterwards. The trainer reads it from the blob path in <c>--job</c> or <c>TRAINER_JOB</c>.
/// </summary>
/// <param name="Dataset">The dataset version (path, ETag, SHA-256) the splits were cut from.</param>
/// <param name="TrainPath">The training split (CSV blob), cut by the spec's split seed.</param>
/// <param name="ValidationPath">The validation split: early stopping and the reported metrics.</param>
/// <param name="OutputPrefix">Where the trainer writes <c>model.onnx</c> and <c>result.json</c>.</param>
/// <param name="Deadline">After this the pipeline stops waiting and stops the job.</param>
/// <param name="Algorithm">The algorithm of this job (a search trial may differ from the spec's).</param>
/// <param name="Hyperparameters">The hyperparameters of this job (a search trial's own).</param>
/// <param name="CallbackUrl">Where the trainer posts its completion; null when the pipeline only checks status.</param>
/// <param name="TraceParent">The W3C <c>traceparent</c> of the span that started the job, so the trainer's spans join the run's trace.</param>
/// <param name="CallbackAudience">
/// In Azure, the audience of the managed-identity token the trainer sends with its callback (the app
/// checks it is the trainer's identity); null where the callback needs no token (laptop mode). Not a secret.
/// </param>
/// <param name="TrainLabels">
/// The training split's labels as the pipeline's one pass over the dataset counted them (rows,
/// distinct values up to two, labels not usable), so the trainer checks them without reading the
/// split again; null when the pipeline did not count them, and the trainer reads them itself.
/// </param>
/// <param name="TestPath">
/// The test split, when the pipeline wants the candidate scored on it in the job (the built-in
/// trainer writes <see cref="TrainingJobPaths.TestEvaluation"/>); null otherwise. A trainer of the
/// model's own may ignore it: the evaluate step scores what the job did not.
/// </param>
public sealed record TrainingJobSpec(
    string JobId,
    string RunId,
    ModelSpec Model,
    DatasetVersion Dataset,
    string TrainPath,
    string ValidationPath,
    string OutputPrefix,
    DateTimeOffset Deadline,
    string Algorithm,
    IReadOnlyDictionary<string, double> Hyperparameters,
    int Seed,
    Uri? CallbackUrl = null,
    string? TraceParent = null,
    string? CallbackAudience = null,
    LabelFacts? TrainLabels = null,
    string? TestPath = null)
{
    /// <summary>The model spec with this job's algorithm, hyperparameters and seed: what the trainer trains.</summary>
    public ModelSpec EffectiveModel => Model with { Trainer = Model.Trainer with { Algorithm = Algorithm, Hyperparameters = Hyperparameters, Seed = Seed } };
}

/// <summary>What the trainer posts to <see cref="TrainingJobSpec.CallbackUrl"/> once its result is written.</summary>
public sealed record TrainingCompletedEvent(string RunId, string JobId, TrainingJobState State);
