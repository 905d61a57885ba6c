namespace Serverless.Lifecycle.Registry;

public sealed class ModelNotFoundException(string model)
    : Exception($"Model '{model}' is not registered.")
{
    public string Model { get; } = model;
}

public sealed class ModelVersionNotFoundException(string model, int version)
    : Exception($"Model '{model}' has no version {version}.")
{
    public string Model { get; } = model;

    public int Version { get; } = version;
}

public sealed class AliasNotFoundException(string model, string alias)
    : Exception($"Model '{model}' has no alias '{alias}'.")
{
    public string Model { get; } = model;

    public string Alias { get; } = alias;
}

/// <summary>An alias write lost an optimistic-concurrency race; carries the alias's current state.</summary>
public sealed class AliasConflictException(string model, string alias, int? currentVersion, string? currentETag)
    : Exception($"Alias '{alias}' of model '{model}' was changed by someone else; it now points at version {currentVersion?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}.")
{
    public string Model { get; } = model;

    public string Alias { get; } = alias;

    public int? CurrentVersion { get; } = currentVersion;

    public string? CurrentETag { get; } = currentETag;
}

/// <summary>A spec write lost an optimistic-concurrency race (If-Match did not match the stored spec).</summary>
public sealed class SpecConflictException(string model, string? currentETag)
    : Exception(currentETag is null
        ? $"Model '{model}' does not exist, so a conditional update cannot apply."
        : $"The spec of model '{model}' was changed by someone else; read it again (its ETag is now {currentETag}) and reapply your change.")
{
    public string? CurrentETag { get; } = currentETag;
}

/// <summary>The artifact's bytes do not match the SHA-256 the registry recorded.</summary>
public sealed class ArtifactIntegrityException(string path, string expected, string actual)
    : Exception($"Artifact {path} has SHA-256 {actual}, but the registry recorded {expected}; refusing to load it.")
{
    public string Path { get; } = path;

    /// <summary>The artifact's file name (model.onnx, card.json).</summary>
    public string FileName => System.IO.Path.GetFileName(Path);
}
