using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Serverless.Lifecycle.Training;

namespace Serverless.Lifecycle.Pipeline;

/// <summary>The pipeline client over a <see cref="DurableTaskClient"/> (Durable Functions, the in-process test host).</summary>
public sealed class DurableTaskPipelineClient(DurableTaskClient client) : IPipelineClient
{
    public async Task<bool> StartRunAsync(TrainingRunRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (await client.GetInstanceAsync(request.RunId, getInputsAndOutputs: false, cancellationToken) is not null)
        {
            return false;
        }

        await client.ScheduleNewOrchestrationInstanceAsync(
            nameof(TrainingPipelineOrchestrator),
            request,
            new StartOrchestrationOptions(request.RunId),
            cancellationToken);
        return true;
    }

    public async Task<RunStatus?> GetRunAsync(string runId, CancellationToken cancellationToken)
    {
        var instance = await client.GetInstanceAsync(runId, getInputsAndOutputs: true, cancellationToken);
        if (instance is null || instance.Name != nameof(TrainingPipelineOrchestrator))
        {
            return null;
        }

        return RunStatus.From(
            runId,
            instance.RuntimeStatus.ToString(),
            instance.CreatedAt,
            instance.LastUpdatedAt,
            instance.ReadInputAs<TrainingRunRequest>(),
            instance.SerializedCustomStatus is null ? null : instance.ReadCustomStatusAs<TrainingRunResult>(),
            instance.RuntimeStatus == OrchestrationRuntimeStatus.Completed ? instance.ReadOutputAs<TrainingRunResult>() : null,
            instance.FailureDetails?.ErrorMessage);
    }

    public async Task<RunSignalOutcome> NotifyJobCompletedAsync(TrainingCompletedEvent completion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(completion);
        var run = await client.GetInstanceAsync(completion.RunId, getInputsAndOutputs: false, cancellationToken);
        if (run is null || run.Name != nameof(TrainingPipelineOrchestrator))
        {
            return RunSignalOutcome.UnknownRun;
        }

        var instanceId = PipelineEvents.JobInstanceId(completion.RunId, completion.JobId);
        var job = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, cancellationToken);
        if (job is null)
        {
            return RunSignalOutcome.UnknownJob;
        }

        if (!IsActive(job.RuntimeStatus))
        {
            return RunSignalOutcome.Finished;
        }

        await client.RaiseEventAsync(instanceId, PipelineEvents.TrainingCompleted, completion, cancellationToken);
        return RunSignalOutcome.Accepted;
    }

    public async Task<RunSignalOutcome> CancelRunAsync(string runId, CancelRequest request, CancellationToken cancellationToken)
    {
        var (refusal, _) = await ActiveRunAsync(runId, withStatus: false, cancellationToken);
        if (refusal is { } outcome)
        {
            return outcome;
        }

        await client.RaiseEventAsync(runId, PipelineEvents.CancelRequested, request, cancellationToken);
        return RunSignalOutcome.Accepted;
    }

    public async Task<RunSignalOutcome> DecideRunAsync(string runId, ApprovalDecision decision, CancellationToken cancellationToken)
    {
        var (refusal, run) = await ActiveRunAsync(runId, withStatus: true, cancellationToken);
        if (refusal is { } outcome)
        {
            return outcome;
        }

        if (!RunStatus.IsWaitingForApproval(run!.SerializedCustomStatus is null ? null : run.ReadCustomStatusAs<TrainingRunResult>()))
        {
            return RunSignalOutcome.NotWaiting;
        }

        await client.RaiseEventAsync(runId, PipelineEvents.ApprovalDecided, decision, cancellationToken);
        return RunSignalOutcome.Accepted;
    }

    /// <summary>The run when it exists and is still going; otherwise why a signal cannot reach it.</summary>
    private async Task<(RunSignalOutcome? Refusal, OrchestrationMetadata? Run)> ActiveRunAsync(string runId, bool withStatus, CancellationToken cancellationToken)
    {
        var run = await client.GetInstanceAsync(runId, getInputsAndOutputs: withStatus, cancellationToken);
        return run is null || run.Name != nameof(TrainingPipelineOrchestrator) ? (RunSignalOutcome.UnknownRun, null)
            : !IsActive(run.RuntimeStatus) ? (RunSignalOutcome.Finished, run)
            : (null, run);
    }

    private static bool IsActive(OrchestrationRuntimeStatus status) =>
        status is OrchestrationRuntimeStatus.Pending or OrchestrationRuntimeStatus.Running or OrchestrationRuntimeStatus.Suspended;
}
