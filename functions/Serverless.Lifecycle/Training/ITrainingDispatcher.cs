namespace Serverless.Lifecycle.Training;

/// <summary>
/// Starts a training job whose spec is already in blob storage. Implementations: in-process
/// (tests), local process (laptop mode), Azure Container Apps Jobs (Azure). Starting the same
/// job twice must not run it twice; completion is observed through the job's result blob.
/// </summary>
public interface ITrainingDispatcher
{
    Task StartAsync(TrainingJobSpec job, CancellationToken cancellationToken);
}
