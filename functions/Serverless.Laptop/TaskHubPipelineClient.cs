using DurableTask.Core;
using Serverless.Lifecycle.Pipeline;

namespace Serverless.Laptop;

/// <summary>The pipeline client over the Durable Task Framework's <see cref="TaskHubClient"/>.</summary>
public sealed class TaskHubPipelineClient(DurableTaskFrameworkHost host) : IPipelineClient
{
    private readonly SdkDataConverter converter = new();

    public async Task<bool> StartRunAsync(TrainingRunRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (await host.Client.GetOrchestrationStateAsync(request.RunId) is not null)
        {
            return false;
        }

        await host.Client.CreateOrchestrationInstanceAsync(nameof(TrainingPipelineOrchestrator), string.Empty, request.RunId, request);
        return true;
    }

    public async Task<RunStatus?> GetRunAsync(string runId, CancellationToken cancellationToken)
    {
        var state = await host.Client.GetOrchestrationStateAsync(runId);
        if (state is null)
        {
            return null;
        }

        var completed = state.OrchestrationStatus == OrchestrationStatus.Completed;
        return RunStatus.From(
            runId,
            state.OrchestrationStatus.ToString(),
            state.CreatedTime,
            state.LastUpdatedTime,
            converter.DeserializeOrDefault<TrainingRunRequest>(state.Input),
            converter.DeserializeOrDefault<TrainingRunResult>(state.Status),
            completed ? converter.DeserializeOrDefault<TrainingRunResult>(state.Output) : null,
            completed ? null : state.FailureDetails?.ErrorMessage ?? (state.OrchestrationStatus == OrchestrationStatus.Failed ? state.Output : null));
    }
}
