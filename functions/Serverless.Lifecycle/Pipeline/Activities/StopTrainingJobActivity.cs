using Microsoft.DurableTask;
using Serverless.Lifecycle.Training;

namespace Serverless.Lifecycle.Pipeline.Activities;

/// <summary>Stops a job's execution (a cancelled run, a missed deadline); nothing happens when it has ended.</summary>
public sealed class StopTrainingJobActivity(TrainingJobStore jobs, ITrainingDispatcher dispatcher) : TaskActivity<TrainingJobRef, bool>
{
    public override async Task<bool> RunAsync(TaskActivityContext context, TrainingJobRef input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.ExecutionId is null)
        {
            return false;
        }

        var spec = await jobs.ReadSpecAsync(TrainingJobPaths.Spec(input.RunId, input.JobId), CancellationToken.None);
        await dispatcher.StopAsync(spec, input.ExecutionId, CancellationToken.None);
        return true;
    }
}
