using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Registry;

/// <summary>Model specs, one row per model, each change ETag-conditional and audited.</summary>
public sealed class SpecStore(LifecycleStorage storage, AuditTrail trail, TimeProvider clock)
{
    private const string SpecRowKey = "spec";

    private TableClient Specs => storage.Table(StorageNames.SpecsTable);

    /// <summary>Registers or replaces a model's spec; returns true when the model is new.</summary>
    public async Task<bool> PutSpecAsync(ModelSpec spec, string actor, CancellationToken cancellationToken) =>
        (await PutSpecAsync(spec, actor, expectedETag: null, cancellationToken)).Created;

    /// <summary>
    /// Registers or replaces a model's spec. With <paramref name="expectedETag"/> (If-Match) the write
    /// happens only if the stored spec still has that ETag; <c>*</c> requires an existing spec. A
    /// write that loses a race gets <see cref="SpecConflictException"/>, never a lost update.
    /// </summary>
    public async Task<(bool Created, string ETag)> PutSpecAsync(ModelSpec spec, string actor, string? expectedETag, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        await storage.EnsureCreatedAsync(cancellationToken);
        var now = clock.GetUtcNow();
        var existing = await Specs.GetEntityIfExistsAsync<TableEntity>(spec.Name, SpecRowKey, cancellationToken: cancellationToken);
        var currentETag = existing.HasValue ? existing.Value!.ETag.ToString() : null;
        if (expectedETag is not null && !(expectedETag == "*" ? currentETag is not null : expectedETag == currentETag))
        {
            throw new SpecConflictException(spec.Name, currentETag);
        }

        var entity = new TableEntity(spec.Name, SpecRowKey)
        {
            ["Spec"] = JsonSerializer.Serialize(spec, SpecJson.Options),
            ["UpdatedAt"] = now,
            ["CreatedAt"] = existing.HasValue ? existing.Value!.GetDateTimeOffset("CreatedAt") ?? now : now,
        };
        Response response;
        try
        {
            response = existing.HasValue
                ? await Specs.UpdateEntityAsync(entity, existing.Value!.ETag, TableUpdateMode.Replace, cancellationToken)
                : await Specs.AddEntityAsync(entity, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            var latest = await Specs.GetEntityIfExistsAsync<TableEntity>(spec.Name, SpecRowKey, cancellationToken: cancellationToken);
            throw new SpecConflictException(spec.Name, latest.HasValue ? latest.Value!.ETag.ToString() : null);
        }

        await trail.AppendAsync(spec.Name, existing.HasValue ? AuditActions.SpecUpdated : AuditActions.SpecRegistered, actor, null, null, null, cancellationToken);
        return (!existing.HasValue, response.Headers.ETag?.ToString() ?? "");
    }

    /// <summary>The spec and its ETag from one read, for a later conditional update.</summary>
    public async Task<(ModelSpec Spec, string ETag)> GetSpecWithETagAsync(string model, CancellationToken cancellationToken)
    {
        await storage.EnsureCreatedAsync(cancellationToken);
        var entity = await Specs.GetEntityIfExistsAsync<TableEntity>(model, SpecRowKey, cancellationToken: cancellationToken);
        return entity.HasValue
            ? (JsonSerializer.Deserialize<ModelSpec>(entity.Value!.GetString("Spec"), SpecJson.Options)!, entity.Value!.ETag.ToString())
            : throw new ModelNotFoundException(model);
    }

    public async Task<ModelSpec?> TryGetSpecAsync(string model, CancellationToken cancellationToken)
    {
        await storage.EnsureCreatedAsync(cancellationToken);
        var entity = await Specs.GetEntityIfExistsAsync<TableEntity>(model, SpecRowKey, cancellationToken: cancellationToken);
        return entity.HasValue ? JsonSerializer.Deserialize<ModelSpec>(entity.Value!.GetString("Spec"), SpecJson.Options) : null;
    }

    public async Task<ModelSpec> GetSpecAsync(string model, CancellationToken cancellationToken) =>
        await TryGetSpecAsync(model, cancellationToken) ?? throw new ModelNotFoundException(model);

    public async Task<IReadOnlyList<ModelSpec>> ListSpecsAsync(CancellationToken cancellationToken)
    {
        await storage.EnsureCreatedAsync(cancellationToken);
        var specs = new List<ModelSpec>();
        await foreach (var entity in Specs.QueryAsync<TableEntity>(e => e.RowKey == SpecRowKey, cancellationToken: cancellationToken))
        {
            specs.Add(JsonSerializer.Deserialize<ModelSpec>(entity.GetString("Spec"), SpecJson.Options)!);
        }

        return specs;
    }
}
