using Serverless.Lifecycle.Monitoring;

namespace Serverless.Lifecycle.Pipeline;

/// <summary>
/// One page of a model's runs as the requests that started them were recorded, newest first;
/// <see cref="Continuation"/> asks for the next page (null on the last).
/// </summary>
public sealed record RunPage(IReadOnlyList<TriggerRecord> Runs, string? Continuation);
