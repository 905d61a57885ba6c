using System.Collections.Concurrent;
using Serverless.Lifecycle.Training;

namespace Serverless.Trainer;

/// <summary>
/// Runs the trainer inside the calling process, behind the same dispatcher interface (fast tests).
/// The job runs in the background like a real one; completion shows up as its result blob.
/// </summary>
public sealed class InProcessTrainingDispatcher(TrainingJobRunner runner) : ITrainingDispatcher
{
    private readonly ConcurrentDictionary<string, Task> running = new(StringComparer.Ordinal);

    public Task StartAsync(TrainingJobSpec job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        running.AddOrUpdate(
            job.JobId,
            _ => Run(job),
            (_, existing) => existing.IsCompleted ? Run(job) : existing);
        return Task.CompletedTask;
    }

    public Task<bool?> IsRunningAsync(TrainingJobSpec job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        return Task.FromResult<bool?>(running.TryGetValue(job.JobId, out var task) && !task.IsCompleted);
    }

    private Task Run(TrainingJobSpec job) =>
        Task.Run(() => runner.RunAsync(TrainingJobPaths.Spec(job.RunId, job.JobId), CancellationToken.None), CancellationToken.None);
}
