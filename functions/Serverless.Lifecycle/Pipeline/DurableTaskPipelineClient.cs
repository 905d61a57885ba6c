using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Serverless.Lifecycle.Pipeline;

/// <summary>The pipeline client over a <see cref="DurableTaskClient"/> (Durable Functions, the in-process test host).</summary>
public sealed class DurableTaskPipelineClient(DurableTaskClient client) : IPipelineClient
{
    public async Task<bool> StartRunAsync(TrainingRunRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (await client.GetInstanceAsync(request.RunId, getInputsAndOutputs: false, cancellationToken) is not null)
        {
            return false;
        }

        await client.ScheduleNewOrchestrationInstanceAsync(
            nameof(TrainingPipelineOrchestrator),
            request,
            new StartOrchestrationOptions(request.RunId),
            cancellationToken);
        return true;
    }

    public async Task<RunStatus?> GetRunAsync(string runId, CancellationToken cancellationToken)
    {
        var instance = await client.GetInstanceAsync(runId, getInputsAndOutputs: true, cancellationToken);
        if (instance is null)
        {
            return null;
        }

        return RunStatus.From(
            runId,
            instance.RuntimeStatus.ToString(),
            instance.CreatedAt,
            instance.LastUpdatedAt,
            instance.ReadInputAs<TrainingRunRequest>(),
            instance.SerializedCustomStatus is null ? null : instance.ReadCustomStatusAs<TrainingRunResult>(),
            instance.RuntimeStatus == OrchestrationRuntimeStatus.Completed ? instance.ReadOutputAs<TrainingRunResult>() : null,
            instance.FailureDetails?.ErrorMessage);
    }
}
