using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Training;

namespace Serverless.Lifecycle.Tests.Pipeline;

/// <summary>A pipeline whose run starts fail the first <c>failures</c> times, as a task hub that is briefly unreachable.</summary>
internal sealed class FlakyPipeline(IPipelineClient inner, int failures) : IPipelineClient
{
    private int starts;

    public int Starts => Volatile.Read(ref starts);

    public Task<bool> StartRunAsync(TrainingRunRequest request, CancellationToken cancellationToken) =>
        Interlocked.Increment(ref starts) <= failures ? throw new InvalidOperationException("The task hub is not reachable.") : inner.StartRunAsync(request, cancellationToken);

    public Task<RunStatus?> GetRunAsync(string runId, CancellationToken cancellationToken) => inner.GetRunAsync(runId, cancellationToken);

    public Task<RunSignalOutcome> NotifyJobCompletedAsync(TrainingCompletedEvent completion, CancellationToken cancellationToken) => inner.NotifyJobCompletedAsync(completion, cancellationToken);

    public Task<RunSignalOutcome> CancelRunAsync(string runId, CancelRequest request, CancellationToken cancellationToken) => inner.CancelRunAsync(runId, request, cancellationToken);

    public Task<RunSignalOutcome> DecideRunAsync(string runId, ApprovalDecision decision, CancellationToken cancellationToken) => inner.DecideRunAsync(runId, decision, cancellationToken);
}
