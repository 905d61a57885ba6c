using Microsoft.DurableTask;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Training;

namespace Serverless.Lifecycle.Pipeline.Activities;

/// <summary>
/// Reports a job as finished once its result blob exists, after checking that a reported success
/// holds up: every required metric present and finite, the ONNX file there, its SHA-256 the one
/// reported, and loadable by ONNX Runtime with the spec's inputs. Until then the job is running,
/// or lost when its execution ended without a result.
/// </summary>
public sealed class GetTrainingJobStatusActivity(TrainingJobStore jobs, ITrainingDispatcher dispatcher, ModelArtifactStore artifacts)
    : TaskActivity<TrainingJobRef, TrainingJobStatus>
{
    public override async Task<TrainingJobStatus> RunAsync(TaskActivityContext context, TrainingJobRef input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var spec = await jobs.ReadSpecAsync(TrainingJobPaths.Spec(input.RunId, input.JobId), CancellationToken.None);
        var result = await jobs.TryReadResultAsync(input.RunId, input.JobId, CancellationToken.None);
        if (result is not null)
        {
            return Finished(await CheckAsync(spec, result));
        }

        var execution = input.ExecutionId is null
            ? new JobExecutionStatus(JobExecutionState.Ended, "no execution was started")
            : await dispatcher.GetStatusAsync(spec, input.ExecutionId, CancellationToken.None);
        if (execution.State != JobExecutionState.Ended)
        {
            return new TrainingJobStatus(TrainingJobState.Running, null, Lost: false, execution.Detail);
        }

        // The trainer may have written its result just before it exited: look once more.
        result = await jobs.TryReadResultAsync(input.RunId, input.JobId, CancellationToken.None);
        return result is null
            ? new TrainingJobStatus(TrainingJobState.Running, null, Lost: true, execution.Detail)
            : Finished(await CheckAsync(spec, result));
    }

    private static TrainingJobStatus Finished(TrainingJobResult result) => new(result.State, result, Lost: false);

    private Task<TrainingJobResult> CheckAsync(TrainingJobSpec spec, TrainingJobResult result) => TrainingResultCheck.CheckAsync(spec, result, artifacts);
}
