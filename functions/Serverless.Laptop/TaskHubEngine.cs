using DurableTask.Core;
using Serverless.Lifecycle.Pipeline;

namespace Serverless.Laptop;

/// <summary>The Durable Task Framework's <see cref="TaskHubClient"/> as an <see cref="IOrchestrationEngine"/>: laptop mode.</summary>
public sealed class TaskHubEngine(DurableTaskFrameworkHost host) : IOrchestrationEngine
{
    private readonly SdkDataConverter converter = new();

    public async Task<EngineInstance?> GetAsync(string instanceId, bool withData, CancellationToken cancellationToken)
    {
        var state = await host.Client.GetOrchestrationStateAsync(instanceId);
        if (state is null)
        {
            return null;
        }

        var run = withData && state.Name == nameof(TrainingPipelineOrchestrator);
        var completed = state.OrchestrationStatus == OrchestrationStatus.Completed;
        return new EngineInstance(
            instanceId,
            state.Name,
            state.OrchestrationStatus.ToString(),
            state.CreatedTime,
            state.LastUpdatedTime,
            run ? converter.DeserializeOrDefault<TrainingRunRequest>(state.Input) : null,
            run ? converter.DeserializeOrDefault<TrainingRunResult>(state.Status) : null,
            run && completed ? converter.DeserializeOrDefault<TrainingRunResult>(state.Output) : null,
            completed ? null : state.FailureDetails?.ErrorMessage ?? (state.OrchestrationStatus == OrchestrationStatus.Failed ? state.Output : null),
            state.OrchestrationInstance);
    }

    public Task ScheduleAsync(string orchestrator, string instanceId, TrainingRunRequest input, CancellationToken cancellationToken) =>
        host.Client.CreateOrchestrationInstanceAsync(orchestrator, string.Empty, instanceId, input);

    public Task RaiseEventAsync<T>(EngineInstance instance, string eventName, T payload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentNullException.ThrowIfNull(payload);
        return host.Client.RaiseEventAsync((OrchestrationInstance)instance.Handle!, eventName, payload);
    }
}
