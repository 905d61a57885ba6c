namespace Serverless.Lifecycle.Training;

/// <summary>
/// Starts training jobs whose spec is already in blob storage, and tells how an execution is
/// doing. Implementations: in-process (tests), local process (laptop mode), Azure Container
/// Apps Jobs (Azure), chosen by <see cref="TrainingOptions.Dispatcher"/>. A job reports through
/// its result blob; the dispatcher only knows whether its execution still runs.
/// </summary>
public interface ITrainingDispatcher
{
    /// <summary>Starts one execution of the job and returns the dispatcher's id for it.</summary>
    Task<string> StartAsync(TrainingJobSpec job, CancellationToken cancellationToken);

    /// <summary>
    /// Whether the execution still runs. <see cref="JobExecutionState.Ended"/> for an execution
    /// the dispatcher knows has stopped (or no longer knows at all, as after a host restart):
    /// when its job has not reported, the job was lost and the pipeline starts it again.
    /// </summary>
    Task<JobExecutionStatus> GetStatusAsync(TrainingJobSpec job, string executionId, CancellationToken cancellationToken);

    /// <summary>Stops the execution; nothing happens when it has already ended.</summary>
    Task StopAsync(TrainingJobSpec job, string executionId, CancellationToken cancellationToken);
}

public enum JobExecutionState
{
    Running,

    /// <summary>The execution stopped: exited, failed, was stopped, or is unknown to the dispatcher.</summary>
    Ended,

    /// <summary>The dispatcher cannot tell now (for example, the platform reports Unknown); ask again later.</summary>
    Unknown,
}

/// <summary>An execution's state with the dispatcher's own words for it (an exit code, a platform status).</summary>
public sealed record JobExecutionStatus(JobExecutionState State, string? Detail = null);
