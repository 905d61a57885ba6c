using Microsoft.DurableTask;
using Serverless.Lifecycle.Training;

namespace Serverless.Lifecycle.Pipeline.Activities;

/// <summary>
/// Reports a job as finished once its result blob exists; running until then, or lost when the
/// dispatcher knows the job no longer runs (its process or host died) without reporting.
/// </summary>
public sealed class GetTrainingJobStatusActivity(TrainingJobStore jobs, ITrainingDispatcher dispatcher) : TaskActivity<TrainingJobRef, TrainingJobStatus>
{
    public override async Task<TrainingJobStatus> RunAsync(TaskActivityContext context, TrainingJobRef input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var result = await jobs.TryReadResultAsync(input.RunId, input.JobId, CancellationToken.None);
        if (result is not null)
        {
            return new TrainingJobStatus(result.State, result, Lost: false);
        }

        var spec = await jobs.ReadSpecAsync(TrainingJobPaths.Spec(input.RunId, input.JobId), CancellationToken.None);
        if (await dispatcher.IsRunningAsync(spec, CancellationToken.None) == false)
        {
            // The process may have written its result just before it exited: look once more.
            result = await jobs.TryReadResultAsync(input.RunId, input.JobId, CancellationToken.None);
            return new TrainingJobStatus(result?.State ?? TrainingJobState.Running, result, Lost: result is null);
        }

        return new TrainingJobStatus(TrainingJobState.Running, null, Lost: false);
    }
}
