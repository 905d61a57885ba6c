namespace Serverless.Lifecycle.Training;

/// <summary>
/// Starts a training job whose spec is already in blob storage. Implementations: in-process
/// (tests), local process (laptop mode), Azure Container Apps Jobs (Azure). Starting the same
/// job twice must not run it twice; completion is observed through the job's result blob.
/// </summary>
public interface ITrainingDispatcher
{
    Task StartAsync(TrainingJobSpec job, CancellationToken cancellationToken);

    /// <summary>
    /// Whether the job is still running: true or false when the dispatcher knows, null when it
    /// cannot tell. A job that has not reported and is known not to run was lost (its process
    /// or host died) and the pipeline starts it again.
    /// </summary>
    Task<bool?> IsRunningAsync(TrainingJobSpec job, CancellationToken cancellationToken);
}
