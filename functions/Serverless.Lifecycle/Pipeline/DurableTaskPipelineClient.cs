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
        var run = await client.GetInstanceAsync(runId, getInputsAndOutputs: false, cancellationToken);
        if (run is null || run.Name != nameof(TrainingPipelineOrchestrator))
        {
            return RunSignalOutcome.UnknownRun;
        }

        if (!IsActive(run.RuntimeStatus))
        {
            return RunSignalOutcome.Finished;
        }

        await client.RaiseEventAsync(runId, PipelineEvents.CancelRequested, request, cancellationToken);
        return RunSignalOutcome.Accepted;
    }

    public async Task<RunSignalOutcome> DecideRunAsync(string runId, ApprovalDecision decision, CancellationToken cancellationToken)
    {
        var run = await client.GetInstanceAsync(runId, getInputsAndOutputs: true, cancellationToken);
        if (run is null || run.Name != nameof(TrainingPipelineOrchestrator))
        {
            return RunSignalOutcome.UnknownRun;
        }

        if (!IsActive(run.RuntimeStatus))
        {
            return RunSignalOutcome.Finished;
        }

        var progress = run.SerializedCustomStatus is null ? null : run.ReadCustomStatusAs<TrainingRunResult>();
        if (!RunStatus.IsWaitingForApproval(progress))
        {
            return RunSignalOutcome.NotWaiting;
        }

        await client.RaiseEventAsync(runId, PipelineEvents.ApprovalDecided, decision, cancellationToken);
        return RunSignalOutcome.Accepted;
    }

    private static bool IsActive(OrchestrationRuntimeStatus status) =>
        status is OrchestrationRuntimeStatus.Pending or OrchestrationRuntimeStatus.Running or OrchestrationRuntimeStatus.Suspended;
}
