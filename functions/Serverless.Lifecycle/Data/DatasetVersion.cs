namespace Serverless.Lifecycle.Data;

/// <summary>
/// The identity of an uploaded dataset: its blob path, the ETag it had when accepted, the
/// SHA-256 of its bytes and its size. Datasets are never modified after upload.
/// </summary>
public sealed record DatasetVersion(string Model, string Path, string ETag, string Sha256, long SizeBytes, DateTimeOffset UploadedAt);
