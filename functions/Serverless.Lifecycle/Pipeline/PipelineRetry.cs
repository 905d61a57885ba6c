using Microsoft.DurableTask;

namespace Serverless.Lifecycle.Pipeline;

/// <summary>
/// Storage and registry calls can fail transiently (throttling, an emulator restarting): the
/// orchestrations retry their activities with backoff. Expected outcomes (invalid data, a failed
/// gate) are values, not retried.
/// </summary>
internal static class PipelineRetry
{
    public static readonly TaskOptions Storage = TaskOptions.FromRetryPolicy(
        new RetryPolicy(maxNumberOfAttempts: 4, firstRetryInterval: TimeSpan.FromSeconds(2), backoffCoefficient: 2));
}
