namespace Serverless.Lifecycle.Registry;

public enum ModelVersionStatus
{
    /// <summary>The number is reserved for a run; the artifacts are being written. Not servable.</summary>
    Pending,

    /// <summary>Artifacts written and verified; the version can carry aliases and be served.</summary>
    Ready,

    /// <summary>Retired: its artifacts, card and history are kept, but it takes no alias and is not served.</summary>
    Archived,

    /// <summary>
    /// Its ONNX file is deleted. The row, the card and the audit trail stay, so the version can
    /// still be explained and its number is never given again.
    /// </summary>
    Deleted,
}

/// <summary>A registered model version as the registry table holds it.</summary>
public sealed record ModelVersion(
    string Model,
    int Version,
    ModelVersionStatus Status,
    string RunId,
    string ModelPath,
    string CardPath,
    string? Sha256,
    DateTimeOffset CreatedAt,
    IReadOnlyDictionary<string, double> Metrics)
{
    /// <summary>
    /// Why serving could not load this version (its file failed its SHA-256 check, or will not load),
    /// as the last host that tried recorded it; null when it loads. Cleared by the next successful load.
    /// </summary>
    public string? ServingProblem { get; init; }

    /// <summary>
    /// The SHA-256 of the version's card.json as registered: every read of the card checks it, as every
    /// load checks <see cref="Sha256"/>, since the spec inside the card drives serving. Null for versions
    /// registered before cards were hashed; their cards are read unchecked.
    /// </summary>
    public string? CardSha256 { get; init; }
}
