using Serverless.Lifecycle.Training;

namespace Serverless.Lifecycle.Pipeline;

/// <summary>
/// Starts, reads and signals pipeline runs, the same way on every Durable engine: what counts as an
/// active instance, what a signal to a finished or unknown run answers, and when an approval can be
/// decided are decided here, once; <see cref="IOrchestrationEngine"/> adapts the engine.
/// </summary>
public sealed class PipelineClient(IOrchestrationEngine engine) : IPipelineClient
{
    /// <summary>The engine statuses of an instance that is still going (it can take events).</summary>
    public static bool IsActive(string runtimeStatus) => runtimeStatus is "Pending" or "Running" or "ContinuedAsNew" or "Suspended";

    public async Task<bool> StartRunAsync(TrainingRunRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (await engine.GetAsync(request.RunId, withData: false, cancellationToken) is not null)
        {
            return false;
        }

        await engine.ScheduleAsync(nameof(TrainingPipelineOrchestrator), request.RunId, request, cancellationToken);
        return true;
    }

    public async Task<RunStatus?> GetRunAsync(string runId, CancellationToken cancellationToken)
    {
        var run = await engine.GetAsync(runId, withData: true, cancellationToken);
        return run is null || run.Name != nameof(TrainingPipelineOrchestrator)
            ? null
            : RunStatus.From(runId, run.RuntimeStatus, run.CreatedAt, run.LastUpdatedAt, run.Input, run.Progress, run.Output, run.Failure);
    }

    public async Task<RunSignalOutcome> NotifyJobCompletedAsync(TrainingCompletedEvent completion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(completion);
        var run = await engine.GetAsync(completion.RunId, withData: false, cancellationToken);
        if (run is null || run.Name != nameof(TrainingPipelineOrchestrator))
        {
            return RunSignalOutcome.UnknownRun;
        }

        var job = await engine.GetAsync(PipelineEvents.JobInstanceId(completion.RunId, completion.JobId), withData: false, cancellationToken);
        if (job is null)
        {
            return RunSignalOutcome.UnknownJob;
        }

        if (!IsActive(job.RuntimeStatus))
        {
            return RunSignalOutcome.Finished;
        }

        await engine.RaiseEventAsync(job, PipelineEvents.TrainingCompleted, completion, cancellationToken);
        return RunSignalOutcome.Accepted;
    }

    public async Task<RunSignalOutcome> CancelRunAsync(string runId, CancelRequest request, CancellationToken cancellationToken)
    {
        var (refusal, run) = await ActiveRunAsync(runId, cancellationToken);
        if (refusal is { } outcome)
        {
            return outcome;
        }

        await engine.RaiseEventAsync(run!, PipelineEvents.CancelRequested, request, cancellationToken);
        return RunSignalOutcome.Accepted;
    }

    public async Task<RunSignalOutcome> DecideRunAsync(string runId, ApprovalDecision decision, CancellationToken cancellationToken)
    {
        var (refusal, run) = await ActiveRunAsync(runId, cancellationToken);
        if (refusal is { } outcome)
        {
            return outcome;
        }

        if (!RunStatus.IsWaitingForApproval(run!.Progress))
        {
            return RunSignalOutcome.NotWaiting;
        }

        await engine.RaiseEventAsync(run, PipelineEvents.ApprovalDecided, decision, cancellationToken);
        return RunSignalOutcome.Accepted;
    }

    /// <summary>The run when it exists and is still going; otherwise why a signal cannot reach it.</summary>
    private async Task<(RunSignalOutcome? Refusal, EngineInstance? Run)> ActiveRunAsync(string runId, CancellationToken cancellationToken)
    {
        var run = await engine.GetAsync(runId, withData: true, cancellationToken);
        return run is null || run.Name != nameof(TrainingPipelineOrchestrator) ? (RunSignalOutcome.UnknownRun, null)
            : !IsActive(run.RuntimeStatus) ? (RunSignalOutcome.Finished, run)
            : (null, run);
    }
}
