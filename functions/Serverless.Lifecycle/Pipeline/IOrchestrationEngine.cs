namespace Serverless.Lifecycle.Pipeline;

/// <summary>
/// An orchestration instance as a Durable engine reports it. For a pipeline run (with data asked for)
/// its input, custom status and, once completed, output are read; <see cref="Handle"/> is whatever the
/// engine needs to address the instance again.
/// </summary>
public sealed record EngineInstance(
    string InstanceId,
    string Name,
    string RuntimeStatus,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastUpdatedAt,
    TrainingRunRequest? Input = null,
    TrainingRunResult? Progress = null,
    TrainingRunResult? Output = null,
    string? Failure = null,
    object? Handle = null);

/// <summary>
/// The engine-specific part of <see cref="PipelineClient"/>: read an instance, schedule one, raise an
/// event. One small adapter per Durable engine (the SDK's client for the Functions app and the test
/// host, the Durable Task Framework's for laptop mode); every decision is in <see cref="PipelineClient"/>.
/// </summary>
public interface IOrchestrationEngine
{
    /// <summary>The instance, or null when there is none; with <paramref name="withData"/>, a pipeline run's input, status and output too.</summary>
    Task<EngineInstance?> GetAsync(string instanceId, bool withData, CancellationToken cancellationToken);

    Task ScheduleAsync(string orchestrator, string instanceId, TrainingRunRequest input, CancellationToken cancellationToken);

    Task RaiseEventAsync<T>(EngineInstance instance, string eventName, T payload, CancellationToken cancellationToken);
}
