using Serverless.Lifecycle.Training;

namespace Serverless.Trainer;

/// <summary>
/// Runs the trainer inside the calling process, behind the same dispatcher interface (fast tests).
/// The job runs in the background like a real one; completion shows up as its result blob.
/// </summary>
public sealed class InProcessTrainingDispatcher(TrainingJobRunner runner) : ITrainingDispatcher
{
    public Task StartAsync(TrainingJobSpec job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        _ = Task.Run(() => runner.RunAsync(TrainingJobPaths.Spec(job.RunId, job.JobId), CancellationToken.None), CancellationToken.None);
        return Task.CompletedTask;
    }
}
