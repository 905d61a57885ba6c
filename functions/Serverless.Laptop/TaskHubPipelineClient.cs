using DurableTask.Core;
using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Training;

namespace Serverless.Laptop;

/// <summary>The pipeline client over the Durable Task Framework's <see cref="TaskHubClient"/>.</summary>
public sealed class TaskHubPipelineClient(DurableTaskFrameworkHost host) : IPipelineClient
{
    private readonly SdkDataConverter converter = new();

    public async Task<bool> StartRunAsync(TrainingRunRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (await host.Client.GetOrchestrationStateAsync(request.RunId) is not null)
        {
            return false;
        }

        await host.Client.CreateOrchestrationInstanceAsync(nameof(TrainingPipelineOrchestrator), string.Empty, request.RunId, request);
        return true;
    }

    public async Task<RunStatus?> GetRunAsync(string runId, CancellationToken cancellationToken)
    {
        var state = await host.Client.GetOrchestrationStateAsync(runId);
        if (state is null || state.Name != nameof(TrainingPipelineOrchestrator))
        {
            return null;
        }

        var completed = state.OrchestrationStatus == OrchestrationStatus.Completed;
        return RunStatus.From(
            runId,
            state.OrchestrationStatus.ToString(),
            state.CreatedTime,
            state.LastUpdatedTime,
            converter.DeserializeOrDefault<TrainingRunRequest>(state.Input),
            converter.DeserializeOrDefault<TrainingRunResult>(state.Status),
            completed ? converter.DeserializeOrDefault<TrainingRunResult>(state.Output) : null,
            completed ? null : state.FailureDetails?.ErrorMessage ?? (state.OrchestrationStatus == OrchestrationStatus.Failed ? state.Output : null));
    }

    public async Task<RunSignalOutcome> NotifyJobCompletedAsync(TrainingCompletedEvent completion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(completion);
        var run = await host.Client.GetOrchestrationStateAsync(completion.RunId);
        if (run is null || run.Name != nameof(TrainingPipelineOrchestrator))
        {
            return RunSignalOutcome.UnknownRun;
        }

        var instanceId = PipelineEvents.JobInstanceId(completion.RunId, completion.JobId);
        var job = await host.Client.GetOrchestrationStateAsync(instanceId);
        if (job is null)
        {
            return RunSignalOutcome.UnknownJob;
        }

        if (!IsActive(job.OrchestrationStatus))
        {
            return RunSignalOutcome.Finished;
        }

        await host.Client.RaiseEventAsync(job.OrchestrationInstance, PipelineEvents.TrainingCompleted, completion);
        return RunSignalOutcome.Accepted;
    }

    public async Task<RunSignalOutcome> CancelRunAsync(string runId, CancelRequest request, CancellationToken cancellationToken)
    {
        var (refusal, run) = await ActiveRunAsync(runId);
        if (refusal is { } outcome)
        {
            return outcome;
        }

        await host.Client.RaiseEventAsync(run!.OrchestrationInstance, PipelineEvents.CancelRequested, request);
        return RunSignalOutcome.Accepted;
    }

    public async Task<RunSignalOutcome> DecideRunAsync(string runId, ApprovalDecision decision, CancellationToken cancellationToken)
    {
        var (refusal, run) = await ActiveRunAsync(runId);
        if (refusal is { } outcome)
        {
            return outcome;
        }

        if (!RunStatus.IsWaitingForApproval(converter.DeserializeOrDefault<TrainingRunResult>(run!.Status)))
        {
            return RunSignalOutcome.NotWaiting;
        }

        await host.Client.RaiseEventAsync(run.OrchestrationInstance, PipelineEvents.ApprovalDecided, decision);
        return RunSignalOutcome.Accepted;
    }

    /// <summary>The run when it exists and is still going; otherwise why a signal cannot reach it.</summary>
    private async Task<(RunSignalOutcome? Refusal, OrchestrationState? Run)> ActiveRunAsync(string runId)
    {
        var run = await host.Client.GetOrchestrationStateAsync(runId);
        return run is null || run.Name != nameof(TrainingPipelineOrchestrator) ? (RunSignalOutcome.UnknownRun, null)
            : !IsActive(run.OrchestrationStatus) ? (RunSignalOutcome.Finished, run)
            : (null, run);
    }

    private static bool IsActive(OrchestrationStatus status) =>
        status is OrchestrationStatus.Pending or OrchestrationStatus.Running or OrchestrationStatus.ContinuedAsNew or OrchestrationStatus.Suspended;
}
