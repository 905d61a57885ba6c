using Microsoft.DurableTask;
using Serverless.Lifecycle.Training;

namespace Serverless.Lifecycle.Pipeline.Activities;

/// <summary>
/// Writes the job spec (once) and hands it to the dispatcher. Retrying this step neither
/// changes the spec nor starts a job that has already reported its result.
/// </summary>
public sealed class StartTrainingJobActivity(TrainingJobStore jobs, ITrainingDispatcher dispatcher, TimeProvider clock)
    : TaskActivity<StartTrainingInput, TrainingJobRef>
{
    public override async Task<TrainingJobRef> RunAsync(TaskActivityContext context, StartTrainingInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var spec = new TrainingJobSpec(
            input.JobId,
            input.RunId,
            input.Spec,
            input.Dataset,
            input.Split.TrainPath,
            input.Split.ValidationPath,
            TrainingJobPaths.Prefix(input.RunId, input.JobId),
            clock.GetUtcNow().AddMinutes(input.Spec.Trainer.TimeoutMinutes));
        var stored = await jobs.WriteSpecOnceAsync(spec, CancellationToken.None);
        if (await jobs.TryReadResultAsync(input.RunId, input.JobId, CancellationToken.None) is null)
        {
            await dispatcher.StartAsync(stored, CancellationToken.None);
        }

        return new TrainingJobRef(input.RunId, input.JobId, input.Attempt);
    }
}
