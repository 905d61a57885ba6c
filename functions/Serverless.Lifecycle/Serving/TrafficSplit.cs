namespace Serverless.Lifecycle.Serving;

/// <summary>A share of a model's champion traffic that a challenger version answers (canary) or also scores off the response path (shadow).</summary>
public sealed record TrafficSplit(string Model, string Strategy, int Challenger, double Share);

/// <summary>
/// Where serving learns a model's running split. The rollouts stage keeps and decides it; serving,
/// below it, only reads it through this.
/// </summary>
public interface ITrafficSplits
{
    /// <summary>The model's running split, or null when no rollout runs.</summary>
    Task<TrafficSplit?> GetRunningAsync(string model, CancellationToken cancellationToken);
}
