using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Serverless.Lifecycle.Pipeline;

/// <summary>The Durable Task SDK's client as an <see cref="IOrchestrationEngine"/>: the Functions app and the in-process test host.</summary>
public sealed class DurableTaskEngine(DurableTaskClient client) : IOrchestrationEngine
{
    /// <summary>The pipeline client over <paramref name="client"/>.</summary>
    public static PipelineClient Client(DurableTaskClient client) => new(new DurableTaskEngine(client));

    public async Task<EngineInstance?> GetAsync(string instanceId, bool withData, CancellationToken cancellationToken)
    {
        var instance = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: withData, cancellationToken);
        if (instance is null)
        {
            return null;
        }

        var run = withData && instance.Name == nameof(TrainingPipelineOrchestrator);
        return new EngineInstance(
            instanceId,
            instance.Name,
            instance.RuntimeStatus.ToString(),
            instance.CreatedAt,
            instance.LastUpdatedAt,
            run ? instance.ReadInputAs<TrainingRunRequest>() : null,
            run && instance.SerializedCustomStatus is not null ? instance.ReadCustomStatusAs<TrainingRunResult>() : null,
            run && instance.RuntimeStatus == OrchestrationRuntimeStatus.Completed ? instance.ReadOutputAs<TrainingRunResult>() : null,
            instance.FailureDetails?.ErrorMessage);
    }

    public Task ScheduleAsync(string orchestrator, string instanceId, TrainingRunRequest input, CancellationToken cancellationToken) =>
        client.ScheduleNewOrchestrationInstanceAsync(orchestrator, input, new StartOrchestrationOptions(instanceId), cancellationToken);

    public Task RaiseEventAsync<T>(EngineInstance instance, string eventName, T payload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instance);
        return client.RaiseEventAsync(instance.InstanceId, eventName, payload, cancellationToken);
    }
}
