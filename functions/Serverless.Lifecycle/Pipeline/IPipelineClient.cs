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
}
