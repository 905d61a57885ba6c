namespace Serverless.Lifecycle.Registry;

/// <summary>A version whose files cannot be served: they fail their SHA-256 check, are missing, or will not load. The API answers 503 naming it.</summary>
public sealed class ModelVersionUnservableException(string model, int version, string reason, int retryAfterSeconds = 60)
    : Exception($"Version {version} of '{model}' cannot be served: {reason}. Move its alias to another version (or roll back), or restore its files.")
{
    /// <summary>When serving tries to load the version again (Serving:UnservableRetrySeconds).</summary>
    public int RetryAfterSeconds { get; } = retryAfterSeconds;

    public string Model { get; } = model;

    public int Version { get; } = version;

    public string Reason { get; } = reason;
}
