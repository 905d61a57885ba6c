using System.Collections.Concurrent;
using System.Globalization;
using Serverless.Lifecycle.Training;

namespace Serverless.Trainer;

/// <summary>
/// Runs the trainer inside the calling process, behind the same dispatcher interface (fast tests).
/// The job runs in the background like a real one; it reports through its result blob and, when
/// the spec has one, its completion callback.
/// </summary>
public sealed class InProcessTrainingDispatcher(TrainingJobRunner runner) : ITrainingDispatcher
{
    private readonly ConcurrentDictionary<string, (Task Task, CancellationTokenSource Stop)> executions = new(StringComparer.Ordinal);
    private int started;

    public Task<string> StartAsync(TrainingJobSpec job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        var running = executions.FirstOrDefault(e => e.Key.StartsWith(job.JobId + "#", StringComparison.Ordinal) && !e.Value.Task.IsCompleted);
        if (running.Key is not null)
        {
            return Task.FromResult(running.Key);
        }

        var id = $"{job.JobId}#{Interlocked.Increment(ref started).ToString(CultureInfo.InvariantCulture)}";
        var stop = new CancellationTokenSource();
        var task = Task.Run(() => runner.RunAsync(TrainingJobPaths.Spec(job.RunId, job.JobId), stop.Token), CancellationToken.None);
        executions[id] = (task, stop);
        return Task.FromResult(id);
    }

    public Task<JobExecutionStatus> GetStatusAsync(TrainingJobSpec job, string executionId, CancellationToken cancellationToken) =>
        Task.FromResult(!executions.TryGetValue(executionId, out var execution)
            ? new JobExecutionStatus(JobExecutionState.Ended, "unknown execution")
            : execution.Task.IsCompleted
                ? new JobExecutionStatus(JobExecutionState.Ended, execution.Task.Status.ToString())
                : new JobExecutionStatus(JobExecutionState.Running));

    public async Task StopAsync(TrainingJobSpec job, string executionId, CancellationToken cancellationToken)
    {
        if (executions.TryGetValue(executionId, out var execution))
        {
            await execution.Stop.CancelAsync();
        }
    }
}
