using System.Globalization;
using System.Security.Cryptography;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Blobs.Models;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Data;

/// <summary>Uploaded training data: blobs under <c>datasets/{model}/</c> and one table row per version.</summary>
public sealed class DatasetStore(LifecycleStorage storage, TimeProvider clock)
{
    /// <summary>
    /// Streams <paramref name="content"/> into a new blob, hashing it on the way, and records
    /// the version. The body is never buffered whole.
    /// </summary>
    public async Task<DatasetVersion> UploadAsync(string model, Stream content, CancellationToken cancellationToken, DatasetFormat format = DatasetFormat.Csv)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        ArgumentNullException.ThrowIfNull(content);
        await storage.EnsureCreatedAsync(cancellationToken);

        var now = clock.GetUtcNow();
        var name = $"{model}/{now:yyyyMMdd'T'HHmmssfff'Z'}-{Guid.NewGuid():N}{DatasetFormats.Extension(format)}";
        var path = new BlobPath(StorageNames.DatasetsContainer, name);
        var blob = storage.Blob(path);

        using var sha = SHA256.Create();
        await using (var hashing = new CryptoStream(content, sha, CryptoStreamMode.Read, leaveOpen: true))
        {
            await blob.UploadAsync(
                hashing,
                new BlobUploadOptions
                {
                    HttpHeaders = new BlobHttpHeaders { ContentType = format == DatasetFormat.Parquet ? "application/vnd.apache.parquet" : "text/csv" },
                    Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                },
                cancellationToken);
        }

        var properties = (await blob.GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
        if (properties.ContentLength == 0)
        {
            await blob.DeleteIfExistsAsync(cancellationToken: cancellationToken);
            throw new EmptyDatasetException(model);
        }

        var version = new DatasetVersion(
            model,
            path.ToString(),
            properties.ETag.ToString(),
            Convert.ToHexStringLower(sha.Hash!),
            properties.ContentLength,
            now);

        var entity = new TableEntity(model, InvertedKey(now))
        {
            [nameof(DatasetVersion.Path)] = version.Path,
            [nameof(DatasetVersion.ETag)] = version.ETag,
            [nameof(DatasetVersion.Sha256)] = version.Sha256,
            [nameof(DatasetVersion.SizeBytes)] = version.SizeBytes,
            [nameof(DatasetVersion.UploadedAt)] = version.UploadedAt,
            [SourceColumn] = UploadSource,
        };
        await storage.Table(StorageNames.DatasetsTable).UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken);
        return version;
    }

    /// <summary>
    /// The dataset version of a blob that landed in <c>datasets/{model}/</c> by itself (not through
    /// the upload route): the one already recorded for this path and ETag, or a new record with the
    /// SHA-256 computed by streaming the blob.
    /// </summary>
    /// <returns>
    /// The version, and whether the upload route recorded it (and so started its run). A version an
    /// earlier delivery of the same blob recorded is returned as not known, so a retried trigger
    /// still starts its run (the run id makes that idempotent).
    /// </returns>
    public async Task<(DatasetVersion Version, bool Known)> RegisterExistingAsync(string model, BlobPath path, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(path);
        await storage.EnsureCreatedAsync(cancellationToken);
        var blob = storage.Blob(path);
        var properties = (await blob.GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
        var etag = properties.ETag.ToString();
        var table = storage.Table(StorageNames.DatasetsTable);
        await foreach (var entity in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {model} and Path eq {path.ToString()}"), cancellationToken: cancellationToken))
        {
            if (entity.GetString(nameof(DatasetVersion.ETag)) == etag)
            {
                return (new DatasetVersion(model, path.ToString(), etag, entity.GetString(nameof(DatasetVersion.Sha256)), entity.GetInt64(nameof(DatasetVersion.SizeBytes)) ?? 0,
                    entity.GetDateTimeOffset(nameof(DatasetVersion.UploadedAt)) ?? properties.LastModified), entity.GetString(SourceColumn) != StorageSource);
            }
        }

        if (properties.ContentLength == 0)
        {
            throw new EmptyDatasetException(model);
        }

        string sha;
        await using (var content = await blob.OpenReadAsync(new BlobOpenReadOptions(allowModifications: false), cancellationToken))
        {
            sha = Convert.ToHexStringLower(await SHA256.HashDataAsync(content, cancellationToken));
        }

        var version = new DatasetVersion(model, path.ToString(), etag, sha, properties.ContentLength, properties.LastModified);
        await table.UpsertEntityAsync(
            new TableEntity(model, InvertedKey(properties.LastModified))
            {
                [nameof(DatasetVersion.Path)] = version.Path,
                [nameof(DatasetVersion.ETag)] = version.ETag,
                [nameof(DatasetVersion.Sha256)] = version.Sha256,
                [nameof(DatasetVersion.SizeBytes)] = version.SizeBytes,
                [nameof(DatasetVersion.UploadedAt)] = version.UploadedAt,
                [SourceColumn] = StorageSource,
            },
            TableUpdateMode.Replace,
            cancellationToken);
        return (version, false);
    }

    /// <summary>The most recently uploaded dataset of a model, or null when there is none.</summary>
    public async Task<DatasetVersion?> GetLatestAsync(string model, CancellationToken cancellationToken)
    {
        await storage.EnsureCreatedAsync(cancellationToken);
        var table = storage.Table(StorageNames.DatasetsTable);
        await foreach (var entity in table.QueryAsync<TableEntity>(e => e.PartitionKey == model, maxPerPage: 1, cancellationToken: cancellationToken))
        {
            return new DatasetVersion(
                model,
                entity.GetString(nameof(DatasetVersion.Path)),
                entity.GetString(nameof(DatasetVersion.ETag)),
                entity.GetString(nameof(DatasetVersion.Sha256)),
                entity.GetInt64(nameof(DatasetVersion.SizeBytes)) ?? 0,
                entity.GetDateTimeOffset(nameof(DatasetVersion.UploadedAt)) ?? DateTimeOffset.MinValue);
        }

        return null;
    }

    /// <summary>Records that a dataset passed validation, with its profile: the baseline for the next dataset's skew check.</summary>
    public async Task MarkAcceptedAsync(DatasetVersion dataset, string profilePath, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var table = storage.Table(StorageNames.DatasetsTable);
        await foreach (var entity in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {dataset.Model} and Path eq {dataset.Path}"), cancellationToken: cancellationToken))
        {
            entity["ProfilePath"] = profilePath;
            await table.UpdateEntityAsync(entity, entity.ETag, TableUpdateMode.Merge, cancellationToken);
        }
    }

    /// <summary>The profile of the newest accepted dataset of the model other than <paramref name="exceptPath"/>, or null.</summary>
    public async Task<Profiling.DatasetProfile?> GetPreviousAcceptedProfileAsync(string model, string exceptPath, CancellationToken cancellationToken)
    {
        await storage.EnsureCreatedAsync(cancellationToken);
        var table = storage.Table(StorageNames.DatasetsTable);
        await foreach (var entity in table.QueryAsync<TableEntity>(e => e.PartitionKey == model, cancellationToken: cancellationToken))
        {
            var profilePath = entity.GetString("ProfilePath");
            if (profilePath is null || entity.GetString(nameof(DatasetVersion.Path)) == exceptPath)
            {
                continue;
            }

            var content = await storage.Blob(BlobPath.Parse(profilePath)).DownloadContentAsync(cancellationToken);
            return content.Value.Content.ToObjectFromJson<Profiling.DatasetProfile>(Specs.SpecJson.Options);
        }

        return null;
    }

    // How a dataset arrived: through the upload route, or written straight to storage.
    private const string SourceColumn = "Source";
    private const string UploadSource = "upload";
    private const string StorageSource = "storage";

    /// <summary>Row keys that sort newest first, so "latest" is the first row of the partition.</summary>
    private static string InvertedKey(DateTimeOffset time) => RowKeys.NewestFirst(time) + Guid.NewGuid().ToString("N")[..8];
}
