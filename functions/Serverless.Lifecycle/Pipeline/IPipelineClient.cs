using Serverless.Lifecycle.Training;

namespace Serverless.Lifecycle.Pipeline;

/// <summary>
/// Starts and queries pipeline runs on whichever Durable engine the host runs: Durable Functions,
/// the Durable Task Framework in laptop mode, or the in-process test host.
/// </summary>
public interface IPipelineClient
{
    /// <summary>Starts the run unless a run with the same id exists; returns true when it started a new one.</summary>
    Task<bool> StartRunAsync(TrainingRunRequest request, CancellationToken cancellationToken);

    /// <summary>The run's status, or null when there is no run with that id.</summary>
    Task<RunStatus?> GetRunAsync(string runId, CancellationToken cancellationToken);

    /// <summary>
    /// Delivers a trainer's completion to the job's orchestration: <see cref="RunSignalOutcome.UnknownRun"/>
    /// or <see cref="RunSignalOutcome.UnknownJob"/> when the run or the job within it does not exist,
    /// <see cref="RunSignalOutcome.Finished"/> when the job's wait is over (a duplicate, a late report).
    /// </summary>
    Task<RunSignalOutcome> NotifyJobCompletedAsync(TrainingCompletedEvent completion, CancellationToken cancellationToken);

    /// <summary>Asks a running run to stop; its jobs are stopped and nothing more is registered.</summary>
    Task<RunSignalOutcome> CancelRunAsync(string runId, CancelRequest request, CancellationToken cancellationToken);

    /// <summary>Delivers a person's decision to a run waiting in its approve step (<see cref="RunSignalOutcome.NotWaiting"/> otherwise).</summary>
    Task<RunSignalOutcome> DecideRunAsync(string runId, ApprovalDecision decision, CancellationToken cancellationToken);
}
