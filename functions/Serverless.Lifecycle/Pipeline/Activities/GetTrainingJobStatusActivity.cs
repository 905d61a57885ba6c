using Microsoft.DurableTask;
using Serverless.Lifecycle.Training;

namespace Serverless.Lifecycle.Pipeline.Activities;

/// <summary>Reports a job as finished once its result blob exists; running until then.</summary>
public sealed class GetTrainingJobStatusActivity(TrainingJobStore jobs) : TaskActivity<TrainingJobRef, TrainingJobStatus>
{
    public override async Task<TrainingJobStatus> RunAsync(TaskActivityContext context, TrainingJobRef input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var result = await jobs.TryReadResultAsync(input.RunId, input.JobId, CancellationToken.None);
        return new TrainingJobStatus(result?.State ?? TrainingJobState.Running, result);
    }
}
