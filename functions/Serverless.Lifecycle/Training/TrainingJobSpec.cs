using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Training;

/// <summary>
/// The contract between the pipeline and the trainer: everything one training job needs,
/// written as JSON to <c>runs/{runId}/jobs/{jobId}/job.json</c> before the job starts.
/// </summary>
public sealed record TrainingJobSpec(
    string JobId,
    string RunId,
    ModelSpec Model,
    DatasetVersion Dataset,
    string TrainPath,
    string ValidationPath,
    string OutputPrefix,
    DateTimeOffset Deadline)
{
    public string Algorithm => Model.Trainer.Algorithm;

    public int Seed => Model.Trainer.Seed;
}
