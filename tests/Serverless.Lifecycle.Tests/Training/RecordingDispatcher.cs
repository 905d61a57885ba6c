using Serverless.Lifecycle.Training;

namespace Serverless.Lifecycle.Tests.Training;

/// <summary>A dispatcher that starts nothing and records the job specs it was handed.</summary>
internal sealed class RecordingDispatcher : ITrainingDispatcher
{
    public List<TrainingJobSpec> Started { get; } = [];

    public Task<string> StartAsync(TrainingJobSpec job, CancellationToken cancellationToken)
    {
        Started.Add(job);
        return Task.FromResult("execution-1");
    }

    public Task<JobExecutionStatus> GetStatusAsync(TrainingJobSpec job, string executionId, CancellationToken cancellationToken) =>
        throw new NotSupportedException();

    public Task StopAsync(TrainingJobSpec job, string executionId, CancellationToken cancellationToken) => Task.CompletedTask;
}
