using Azure;
using Microsoft.DurableTask;
using Microsoft.ML.OnnxRuntime;
using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Scoring;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;
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

    private async Task<TrainingJobResult> CheckAsync(TrainingJobSpec spec, TrainingJobResult result)
    {
        if (result.State != TrainingJobState.Succeeded)
        {
            return result.Error is null ? result with { Error = $"The trainer reported {result.State} without a reason." } : result;
        }

        foreach (var metric in MetricNames.RequiredValidation(spec.Model.Task))
        {
            if (!result.ValidationMetrics.TryGetValue(metric, out var value))
            {
                return Rejected(result, $"The trainer reported success without the validation metric '{metric}'.");
            }

            if (!double.IsFinite(value))
            {
                return Rejected(result, $"The trainer reported validation metric '{metric}' = {value}; it must be a finite number.");
            }
        }

        if (result.Onnx is not { } onnx)
        {
            return Rejected(result, "The trainer reported success without an ONNX artifact.");
        }

        byte[] bytes;
        try
        {
            bytes = await artifacts.ReadVerifiedAsync(BlobPath.Parse(onnx.Path), onnx.Sha256, CancellationToken.None);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return Rejected(result, $"The trainer reported ONNX file {onnx.Path}, which does not exist.");
        }
        catch (ArtifactIntegrityException ex)
        {
            return Rejected(result, $"The ONNX file does not match the trainer's report: {ex.Message}");
        }

        try
        {
            using var model = new OnnxModel(bytes, spec.EffectiveModel);
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or InvalidDataException)
        {
            return Rejected(result, $"ONNX Runtime cannot load {onnx.Path} for this spec: {ex.Message}");
        }

        return result;
    }

    /// <summary>The result as a failure; non-finite metrics are dropped so it travels through the orchestration as JSON.</summary>
    private static TrainingJobResult Rejected(TrainingJobResult result, string reason) =>
        result with
        {
            State = TrainingJobState.Failed,
            Error = reason,
            ValidationMetrics = result.ValidationMetrics.Where(m => double.IsFinite(m.Value)).ToDictionary(m => m.Key, m => m.Value, StringComparer.Ordinal),
        };
}
