using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Registry;

/// <summary>A model's versions: numbers reserved without gaps, completed once verified, retired (archived or deleted) with an audit event each.</summary>
public sealed class VersionStore(LifecycleStorage storage, AuditTrail trail, TimeProvider clock)
{
    // Concurrent registrations that collide take the next number, for at most this many attempts.
    private const int MaxReserveAttempts = 20;

    private TableClient Versions => storage.Table(StorageNames.VersionsTable);

    /// <summary>
    /// Reserves the next version number for a run. Idempotent: a run that already reserved one
    /// gets it back. Numbers come from inserting the row for max + 1, which fails for all but one
    /// of several concurrent registrations, so versions have no gaps and no duplicates.
    /// </summary>
    public async Task<ModelVersion> ReserveAsync(string model, string runId, CancellationToken cancellationToken)
    {
        await storage.EnsureCreatedAsync(cancellationToken);
        for (var attempt = 0; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var versions = await ListAsync(model, cancellationToken);
            var mine = versions.FirstOrDefault(v => v.RunId == runId);
            if (mine is not null)
            {
                return mine;
            }

            var next = versions.Count == 0 ? 1 : versions.Max(v => v.Version) + 1;
            var version = new ModelVersion(
                model,
                next,
                ModelVersionStatus.Pending,
                runId,
                $"{StorageNames.ModelsContainer}/{model}/{next}/model.onnx",
                $"{StorageNames.ModelsContainer}/{model}/{next}/{ModelArtifactStore.CardFileName}",
                null,
                clock.GetUtcNow(),
                new Dictionary<string, double>());
            try
            {
                await Versions.AddEntityAsync(ToEntity(version), cancellationToken);
                return version;
            }
            catch (RequestFailedException ex) when (ex.Status == 409 && attempt < MaxReserveAttempts - 1)
            {
                // Another registration took this number first; read again (after a short, growing pause) and take the next one.
                await Task.Delay(RegistryRetry.Backoff(attempt), clock, cancellationToken);
            }
            catch (RequestFailedException ex) when (ex.Status == 409)
            {
                throw new InvalidOperationException(
                    $"Could not reserve a version number for run {runId} of '{model}': {MaxReserveAttempts} concurrent registrations took each number first. The pipeline's retry tries again.", ex);
            }
        }
    }

    /// <summary>
    /// Marks a reserved version ready once its artifacts are written and verified, recording the SHA-256
    /// of its ONNX file and of its card (null only for a version that has no card).
    /// </summary>
    public async Task<ModelVersion> CompleteAsync(ModelVersion reserved, string sha256, string? cardSha256, IReadOnlyDictionary<string, double> metrics, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reserved);
        var current = await Versions.GetEntityAsync<TableEntity>(reserved.Model, VersionKey(reserved.Version), cancellationToken: cancellationToken);
        var stored = FromEntity(current.Value);
        if (stored.Status == ModelVersionStatus.Ready)
        {
            // A retry after a crash: the row was completed; its audit event may not have been appended.
            await trail.EnsureAsync(current.Value, cancellationToken);
            return stored;
        }

        var ready = stored with { Status = ModelVersionStatus.Ready, Sha256 = sha256, CardSha256 = cardSha256, Metrics = metrics };
        var audit = trail.New(reserved.Model, AuditActions.VersionRegistered, $"pipeline run {reserved.RunId}", null, null, reserved.Version, null);
        await Versions.UpdateEntityAsync(AuditTrail.WithAudit(ToEntity(ready), audit), current.Value.ETag, TableUpdateMode.Replace, cancellationToken);
        await trail.AppendAsync(audit, cancellationToken);
        return ready;
    }

    /// <summary>
    /// Records why serving cannot load a version (or, with null, that it loads again). The row is
    /// rewritten as read with only that column changed, conditional on its ETag, so it never undoes a
    /// concurrent status change; a lost race is left to the next load that notices.
    /// </summary>
    public async Task RecordServingProblemAsync(string model, int version, string? problem, CancellationToken cancellationToken)
    {
        var current = await Versions.GetEntityIfExistsAsync<TableEntity>(model, VersionKey(version), cancellationToken: cancellationToken);
        if (!current.HasValue || current.Value!.GetString("ServingProblem") == problem)
        {
            return;
        }

        try
        {
            var entity = current.Value;
            if (problem is null)
            {
                entity.Remove("ServingProblem");
            }
            else
            {
                entity["ServingProblem"] = problem;
            }

            await Versions.UpdateEntityAsync(entity, entity.ETag, TableUpdateMode.Replace, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 412)
        {
            // The row changed meanwhile; the next load records what it finds.
        }
    }

    /// <summary>All versions of a model, newest first.</summary>
    public async Task<IReadOnlyList<ModelVersion>> ListAsync(string model, CancellationToken cancellationToken)
    {
        await storage.EnsureCreatedAsync(cancellationToken);
        var versions = new List<ModelVersion>();
        await foreach (var entity in Versions.QueryAsync<TableEntity>(e => e.PartitionKey == model, cancellationToken: cancellationToken))
        {
            versions.Add(FromEntity(entity));
        }

        return versions;
    }

    public async Task<ModelVersion> GetAsync(string model, int version, CancellationToken cancellationToken)
    {
        await storage.EnsureCreatedAsync(cancellationToken);
        var entity = await Versions.GetEntityIfExistsAsync<TableEntity>(model, VersionKey(version), cancellationToken: cancellationToken);
        return entity.HasValue ? FromEntity(entity.Value!) : throw new ModelVersionNotFoundException(model, version);
    }

    /// <summary>
    /// Archives or deletes (marks deleted) a version. <paramref name="aliasesOn"/> names the aliases that
    /// point at it: refused while there are any, and undone if one moved there meanwhile.
    /// </summary>
    public async Task<ModelVersion> RetireAsync(
        string model, int version, ModelVersionStatus status, string actor, string? reason, Func<CancellationToken, Task<IReadOnlyList<string>>> aliasesOn, CancellationToken cancellationToken)
    {
        var verb = status == ModelVersionStatus.Deleted ? "deleted" : "archived";
        await storage.EnsureCreatedAsync(cancellationToken);
        var row = await Versions.GetEntityIfExistsAsync<TableEntity>(model, VersionKey(version), cancellationToken: cancellationToken);
        var entry = row.HasValue ? FromEntity(row.Value!) : throw new ModelVersionNotFoundException(model, version);
        if (entry.Status == status)
        {
            // Done already (also a retry after a crash): the change's audit event may not have been appended.
            await trail.EnsureAsync(row.Value!, cancellationToken);
            return entry;
        }

        if (entry.Status == ModelVersionStatus.Deleted)
        {
            throw new InvalidOperationException($"Version {version} of '{model}' is deleted; it cannot be {verb}.");
        }

        if (entry.Status == ModelVersionStatus.Pending)
        {
            throw new InvalidOperationException($"Version {version} of '{model}' is still being registered; it cannot be {verb} yet.");
        }

        var carrying = await aliasesOn(cancellationToken);
        if (carrying.Count > 0)
        {
            throw new InvalidOperationException($"Version {version} of '{model}' carries {string.Join(", ", carrying)}; move the alias before it can be {verb}.");
        }

        var stored = await Versions.GetEntityAsync<TableEntity>(model, VersionKey(version), cancellationToken: cancellationToken);
        var retired = entry with { Status = status };
        var audit = trail.New(model, status == ModelVersionStatus.Deleted ? AuditActions.Deleted : AuditActions.Archived, actor, null, version, null, reason);
        await Versions.UpdateEntityAsync(AuditTrail.WithAudit(ToEntity(retired), audit), stored.Value.ETag, TableUpdateMode.Replace, cancellationToken);

        // An alias set between the check and the update would point at a retired version: undo.
        if ((await aliasesOn(cancellationToken)).Count > 0)
        {
            var now = await Versions.GetEntityAsync<TableEntity>(model, VersionKey(version), cancellationToken: cancellationToken);
            await Versions.UpdateEntityAsync(ToEntity(entry), now.Value.ETag, TableUpdateMode.Replace, cancellationToken);
            throw new InvalidOperationException($"An alias moved to version {version} of '{model}' while it was being {verb}; it was not {verb}.");
        }

        await trail.AppendAsync(audit, cancellationToken);
        return retired;
    }

    /// <summary>Row keys that sort newest version first.</summary>
    internal static string VersionKey(int version) => (int.MaxValue - version).ToString("D10", CultureInfo.InvariantCulture);

    private static TableEntity ToEntity(ModelVersion version) => new(version.Model, VersionKey(version.Version))
    {
        ["Version"] = version.Version,
        ["Status"] = version.Status.ToString(),
        ["RunId"] = version.RunId,
        ["ModelPath"] = version.ModelPath,
        ["CardPath"] = version.CardPath,
        ["Sha256"] = version.Sha256,
        ["CreatedAt"] = version.CreatedAt,
        ["Metrics"] = JsonSerializer.Serialize(version.Metrics, SpecJson.Options),
        ["ServingProblem"] = version.ServingProblem,
        ["CardSha256"] = version.CardSha256,
    };

    private static ModelVersion FromEntity(TableEntity entity) => new(
        entity.PartitionKey,
        entity.GetInt32("Version") ?? 0,
        Enum.Parse<ModelVersionStatus>(entity.GetString("Status")),
        entity.GetString("RunId"),
        entity.GetString("ModelPath"),
        entity.GetString("CardPath"),
        entity.GetString("Sha256"),
        entity.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.MinValue,
        JsonSerializer.Deserialize<Dictionary<string, double>>(entity.GetString("Metrics") ?? "{}", SpecJson.Options) ?? [])
    {
        ServingProblem = entity.GetString("ServingProblem"),
        CardSha256 = entity.GetString("CardSha256"),
    };
}
