namespace Serverless.Lifecycle.Registry;

/// <summary>
/// A model trained elsewhere and brought in through the import route: its lineage on the model card
/// in place of a trainer's.
/// </summary>
/// <param name="Path">Where the run keeps the graph it imports (<c>runs/{runId}/import/model.onnx</c>).</param>
/// <param name="Sha256">SHA-256 of that graph: the uploaded file with the output map and classes it was imported with written into its metadata.</param>
/// <param name="SourceSha256">SHA-256 of the file as it was uploaded.</param>
/// <param name="Source">Where it came from, in the importer's words (an MLflow run, a path), if they said.</param>
/// <param name="Producer">The graph's producer_name and producer_version, as the file names them.</param>
/// <param name="Actor">Who imported it, as the audit trail names callers.</param>
public sealed record ImportedModel(string Path, string Sha256, long SizeBytes, string SourceSha256, string? Source, string Producer, string Actor, DateTimeOffset ImportedAt)
{
    /// <summary>What the card records as the version's algorithm and trainer.</summary>
    public const string Algorithm = "imported";
}
