using System.Security.Cryptography;
using System.Text.Json;
using Azure.Storage.Blobs.Models;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Registry;

/// <summary>
/// Model files under <c>models/{model}/{version}/</c>. Written before the registry row is
/// committed; every read of the ONNX file or the card checks the bytes against the SHA-256 the
/// registry recorded.
/// </summary>
public sealed class ModelArtifactStore(LifecycleStorage storage)
{
    /// <summary>Copies the trained ONNX file into the version's folder after checking it is the file the trainer reported.</summary>
    public async Task<(string Sha256, long Size)> WriteModelAsync(BlobPath source, string expectedSha256, ModelVersion version, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(version);
        var bytes = await ReadVerifiedAsync(source, expectedSha256, cancellationToken);

        // The version number is reserved for this run alone, so overwriting here only ever
        // replaces a partial write of the same bytes by an earlier attempt of this step.
        await storage.Blob(BlobPath.Parse(version.ModelPath)).UploadAsync(
            new BinaryData(bytes),
            new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "application/octet-stream" } },
            cancellationToken);
        return (expectedSha256.ToLowerInvariant(), bytes.LongLength);
    }

    /// <summary>Writes the version's card.json; returns the SHA-256 of the bytes written, for the registry to record.</summary>
    public async Task<string> WriteCardAsync(ModelVersion version, ModelCard card, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(version);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(card, SpecJson.Options);
        await storage.Blob(BlobPath.Parse(version.CardPath)).UploadAsync(
            new BinaryData(bytes),
            new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" } },
            cancellationToken);
        return Sha256Hex(bytes);
    }

    /// <summary>
    /// Reads the version's card, only if its bytes match the SHA-256 the registry recorded (the card's
    /// spec drives serving). A version registered before cards were hashed has none recorded: its card
    /// is read unchecked.
    /// </summary>
    public async Task<ModelCard> ReadCardAsync(ModelVersion version, CancellationToken cancellationToken) =>
        JsonSerializer.Deserialize<ModelCard>(await ReadCardBytesAsync(version, cancellationToken), SpecJson.Options)
            ?? throw new InvalidDataException($"Card {version.CardPath} is empty.");

    /// <summary>The version's card.json as stored, checked as <see cref="ReadCardAsync"/> checks it.</summary>
    public async Task<byte[]> ReadCardBytesAsync(ModelVersion version, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(version);
        var path = BlobPath.Parse(version.CardPath);
        return version.CardSha256 is { } recorded
            ? await ReadVerifiedAsync(path, recorded, cancellationToken)
            : (await storage.Blob(path).DownloadContentAsync(cancellationToken)).Value.Content.ToArray();
    }

    /// <summary>
    /// The SHA-256 of the spec as a card stores it: the bytes of its <c>spec</c> property as written, so a
    /// card written by an earlier version of the product (with fewer spec options) hashes as it did then.
    /// Registration records the same digest of the spec it writes (<see cref="CardLineage.SpecSha256"/>).
    /// </summary>
    public static string StoredSpecSha256(byte[] cardJson)
    {
        using var card = JsonDocument.Parse(cardJson);
        return Sha256Hex(System.Text.Encoding.UTF8.GetBytes(card.RootElement.GetProperty("spec").GetRawText()));
    }

    /// <summary>Downloads a ready version's ONNX bytes and verifies them against the registry.</summary>
    public async Task<byte[]> ReadModelAsync(ModelVersion version, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(version);
        if (version.Status != ModelVersionStatus.Ready || version.Sha256 is null)
        {
            throw new InvalidOperationException($"Version {version.Version} of '{version.Model}' is not ready to load.");
        }

        return await ReadVerifiedAsync(BlobPath.Parse(version.ModelPath), version.Sha256, cancellationToken);
    }

    /// <summary>Downloads an artifact and returns its bytes only if their SHA-256 is <paramref name="expectedSha256"/>.</summary>
    public async Task<byte[]> ReadVerifiedAsync(BlobPath path, string expectedSha256, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(path);
        var bytes = (await storage.Blob(path).DownloadContentAsync(cancellationToken)).Value.Content.ToArray();
        var sha = Sha256Hex(bytes);
        return string.Equals(sha, expectedSha256, StringComparison.OrdinalIgnoreCase)
            ? bytes
            : throw new ArtifactIntegrityException(path.ToString(), expectedSha256, sha);
    }

    /// <summary>A JSON document stored next to a version (its baseline profile); null when it is gone.</summary>
    public async Task<JsonElement?> ReadJsonAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            var content = await storage.Blob(BlobPath.Parse(path)).DownloadContentAsync(cancellationToken);
            using var document = JsonDocument.Parse(content.Value.Content.ToMemory());
            return document.RootElement.Clone();
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    /// <summary>The name of a version's model card, next to its ONNX file.</summary>
    public const string CardFileName = "card.json";

    public static string Sha256Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>
    /// Why a version's own files are bad, when <paramref name="exception"/> (from reading its card and
    /// ONNX file and loading them) says so: a file fails its SHA-256, is missing, is not a valid card,
    /// or ONNX Runtime will not load it for its spec. Null for anything else (storage away, a bug). The
    /// one rule serving and the gate both use to call a version unservable.
    /// </summary>
    public static string? ArtifactFault(Exception exception) => exception switch
    {
        ArtifactIntegrityException { FileName: CardFileName } => "its card.json does not match the SHA-256 the registry recorded",
        ArtifactIntegrityException => "its ONNX file does not match the SHA-256 the registry recorded",
        Azure.RequestFailedException { Status: 404 } => "a file of the version is missing from storage",
        JsonException => "its card.json is not a valid model card",
        Microsoft.ML.OnnxRuntime.OnnxRuntimeException => "ONNX Runtime cannot load its ONNX file: " + StorageFaults.Describe(exception),
        InvalidDataException => "its ONNX file does not fit its spec: " + StorageFaults.Describe(exception),
        _ => null,
    };
}
