using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Registry;

/// <summary>
/// The model registry on Azure Tables: specs, versions, aliases and an append-only audit trail.
/// Every write is conditional on an ETag or an insert, so concurrent writers cannot lose an update.
/// </summary>
public sealed class ModelRegistry(LifecycleStorage storage, TimeProvider clock)
{
    private const string SpecRowKey = "spec";
    private const int MaxUnconditionalRetries = 5;

    // Concurrent registrations and unconditional alias moves that collide read again after 50 ms,
    // doubling to at most 2 s, for at most this many attempts: bounded, and spread out so they do not collide again.
    private const int MaxReserveAttempts = 20;
    private static readonly TimeSpan ConflictBackoff = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan MaxConflictBackoff = TimeSpan.FromSeconds(2);

    private TableClient Specs => storage.Table(StorageNames.SpecsTable);

    private TableClient Versions => storage.Table(StorageNames.VersionsTable);

    private TableClient Aliases => storage.Table(StorageNames.AliasesTable);

    private TableClient Audit => storage.Table(StorageNames.AuditTable);

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

        await AppendAuditAsync(spec.Name, existing.HasValue ? AuditActions.SpecUpdated : AuditActions.SpecRegistered, actor, null, null, null, cancellationToken);
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

    /// <summary>
    /// Reserves the next version number for a run. Idempotent: a run that already reserved one
    /// gets it back. Numbers come from inserting the row for max + 1, which fails for all but one
    /// of several concurrent registrations, so versions have no gaps and no duplicates.
    /// </summary>
    public async Task<ModelVersion> ReserveVersionAsync(string model, string runId, CancellationToken cancellationToken)
    {
        await storage.EnsureCreatedAsync(cancellationToken);
        for (var attempt = 0; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var versions = await ListVersionsAsync(model, cancellationToken);
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
                $"{StorageNames.ModelsContainer}/{model}/{next}/card.json",
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
                await Task.Delay(StorageFaults.Backoff(attempt, ConflictBackoff, MaxConflictBackoff), clock, cancellationToken);
            }
            catch (RequestFailedException ex) when (ex.Status == 409)
            {
                throw new InvalidOperationException(
                    $"Could not reserve a version number for run {runId} of '{model}': {MaxReserveAttempts} concurrent registrations took each number first. The pipeline's retry tries again.", ex);
            }
        }
    }

    /// <summary>Marks a reserved version ready once its artifacts are written and verified.</summary>
    public async Task<ModelVersion> CompleteVersionAsync(ModelVersion reserved, string sha256, IReadOnlyDictionary<string, double> metrics, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reserved);
        var current = await Versions.GetEntityAsync<TableEntity>(reserved.Model, VersionKey(reserved.Version), cancellationToken: cancellationToken);
        var stored = FromEntity(current.Value);
        if (stored.Status == ModelVersionStatus.Ready)
        {
            // A retry after a crash: the row was completed; its audit event may not have been appended.
            await EnsureAuditAsync(current.Value, cancellationToken);
            return stored;
        }

        var ready = stored with { Status = ModelVersionStatus.Ready, Sha256 = sha256, Metrics = metrics };
        var audit = NewAudit(reserved.Model, AuditActions.VersionRegistered, $"pipeline run {reserved.RunId}", null, null, reserved.Version, null);
        await Versions.UpdateEntityAsync(WithAudit(ToEntity(ready), audit), current.Value.ETag, TableUpdateMode.Replace, cancellationToken);
        await AppendAuditAsync(audit, cancellationToken);
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
    public async Task<IReadOnlyList<ModelVersion>> ListVersionsAsync(string model, CancellationToken cancellationToken)
    {
        await storage.EnsureCreatedAsync(cancellationToken);
        var versions = new List<ModelVersion>();
        await foreach (var entity in Versions.QueryAsync<TableEntity>(e => e.PartitionKey == model, cancellationToken: cancellationToken))
        {
            versions.Add(FromEntity(entity));
        }

        return versions;
    }

    public async Task<ModelVersion> GetVersionAsync(string model, int version, CancellationToken cancellationToken)
    {
        await storage.EnsureCreatedAsync(cancellationToken);
        var entity = await Versions.GetEntityIfExistsAsync<TableEntity>(model, VersionKey(version), cancellationToken: cancellationToken);
        return entity.HasValue ? FromEntity(entity.Value!) : throw new ModelVersionNotFoundException(model, version);
    }

    public async Task<IReadOnlyList<AliasState>> ListAliasesAsync(string model, CancellationToken cancellationToken)
    {
        await storage.EnsureCreatedAsync(cancellationToken);
        var aliases = new List<AliasState>();
        await foreach (var entity in Aliases.QueryAsync<TableEntity>(e => e.PartitionKey == model, cancellationToken: cancellationToken))
        {
            aliases.Add(ToAlias(entity));
        }

        return aliases;
    }

    public async Task<AliasState?> TryGetAliasAsync(string model, string alias, CancellationToken cancellationToken)
    {
        await storage.EnsureCreatedAsync(cancellationToken);
        var entity = await Aliases.GetEntityIfExistsAsync<TableEntity>(model, alias, cancellationToken: cancellationToken);
        return entity.HasValue ? ToAlias(entity.Value!) : null;
    }

    /// <summary>
    /// Points <paramref name="alias"/> at <paramref name="version"/>. With <paramref name="expectedETag"/>
    /// the move happens only if nobody moved the alias since (else <see cref="AliasConflictException"/>);
    /// without it the move wins over concurrent ones, still as one atomic conditional write.
    /// Moving an alias to where it already points changes nothing and records nothing.
    /// </summary>
    public async Task<AliasState> SetAliasAsync(
        string model, string alias, int version, string? expectedETag, string actor, string? reason, CancellationToken cancellationToken, string action = AuditActions.AliasMoved)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(alias);
        if (ReservedAliases.Problem(alias) is { } problem)
        {
            throw new ArgumentException(problem, nameof(alias));
        }

        var target = await GetVersionAsync(model, version, cancellationToken);
        if (target.Status != ModelVersionStatus.Ready)
        {
            throw new InvalidOperationException(target.Status == ModelVersionStatus.Pending
                ? $"Version {version} of '{model}' is still being registered and cannot carry an alias yet."
                : $"Version {version} of '{model}' is {target.Status.ToString().ToLowerInvariant()} and cannot carry an alias.");
        }

        for (var attempt = 0; ; attempt++)
        {
            var current = await Aliases.GetEntityIfExistsAsync<TableEntity>(model, alias, cancellationToken: cancellationToken);
            var currentState = current.HasValue ? ToAlias(current.Value!) : null;
            if (current.HasValue)
            {
                // The last move's audit event, if a crash lost it (a retry of that move lands here, with or without If-Match).
                await EnsureAuditAsync(current.Value!, cancellationToken);
            }

            if (expectedETag is not null && (expectedETag == AbsentETag ? currentState is not null : currentState?.ETag != expectedETag))
            {
                throw new AliasConflictException(model, alias, currentState?.Version, currentState?.ETag);
            }

            if (currentState?.Version == version && expectedETag is null)
            {
                return currentState;
            }

            var audit = NewAudit(model, action, actor, alias, currentState?.Version, version, reason);
            var entity = WithAudit(new TableEntity(model, alias) { ["Version"] = version, ["UpdatedAt"] = audit.Event.At }, audit);
            try
            {
                var response = current.HasValue
                    ? await Aliases.UpdateEntityAsync(entity, current.Value!.ETag, TableUpdateMode.Replace, cancellationToken)
                    : await Aliases.AddEntityAsync(entity, cancellationToken);
                await AppendAuditAsync(audit, cancellationToken);
                return new AliasState(model, alias, version, response.Headers.ETag?.ToString() ?? "", audit.Event.At);
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412)
            {
                if (expectedETag is not null || attempt >= MaxUnconditionalRetries)
                {
                    var latest = await TryGetAliasAsync(model, alias, cancellationToken);
                    throw new AliasConflictException(model, alias, latest?.Version, latest?.ETag);
                }

                // Another writer moved it meanwhile: look again after a short, growing pause.
                await Task.Delay(StorageFaults.Backoff(attempt, ConflictBackoff, MaxConflictBackoff), clock, cancellationToken);
            }
        }
    }

    public async Task DeleteAliasAsync(string model, string alias, string? expectedETag, string actor, CancellationToken cancellationToken)
    {
        var current = await TryGetAliasAsync(model, alias, cancellationToken) ?? throw new AliasNotFoundException(model, alias);
        if (expectedETag is not null && current.ETag != expectedETag)
        {
            throw new AliasConflictException(model, alias, current.Version, current.ETag);
        }

        try
        {
            await Aliases.DeleteEntityAsync(model, alias, new ETag(current.ETag), cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            var latest = await TryGetAliasAsync(model, alias, cancellationToken);
            throw new AliasConflictException(model, alias, latest?.Version, latest?.ETag);
        }

        await AppendAuditAsync(model, AuditActions.AliasDeleted, actor, current.Version, null, null, cancellationToken, alias);
    }

    /// <summary>
    /// Moves <c>champion</c> back to the version that was champion before the current one became
    /// champion (by a promotion or a manual move; earlier rollbacks are walked past, so repeated
    /// rollbacks step further back). Conditional on the alias not moving meanwhile.
    /// </summary>
    /// <exception cref="InvalidOperationException">There is no champion, or no earlier ready one to return to.</exception>
    public async Task<(AliasState Alias, int From)> RollbackChampionAsync(string model, string actor, string reason, CancellationToken cancellationToken)
    {
        await GetSpecAsync(model, cancellationToken);
        var current = await TryGetAliasAsync(model, ReservedAliases.Champion, cancellationToken)
            ?? throw new InvalidOperationException($"'{model}' has no champion to roll back.");
        var history = (await ListAuditAsync(model, cancellationToken))
            .Where(e => e.Alias == ReservedAliases.Champion && e.Action == AuditActions.AliasMoved)
            .OrderByDescending(e => e.At)
            .ToList();
        var promotion = history.FirstOrDefault(e => e.To == current.Version);
        if (promotion?.From is not { } previous)
        {
            throw new InvalidOperationException($"Version {current.Version} of '{model}' was its first champion; there is no earlier champion to roll back to.");
        }

        var target = await GetVersionAsync(model, previous, cancellationToken);
        if (target.Status != ModelVersionStatus.Ready)
        {
            throw new InvalidOperationException($"The previous champion, version {previous} of '{model}', is {target.Status.ToString().ToLowerInvariant()} and cannot serve again.");
        }

        var moved = await SetAliasAsync(model, ReservedAliases.Champion, previous, current.ETag, actor, reason, cancellationToken, AuditActions.Rollback);
        return (moved, current.Version);
    }

    /// <summary>An expected ETag meaning "the alias must not exist yet": the move is an insert that loses to a concurrent one.</summary>
    public const string AbsentETag = "";

    /// <summary>
    /// A pipeline run's promotion: moves <paramref name="alias"/> to <paramref name="version"/> only if it
    /// still points at <paramref name="gatedAgainst"/>, the champion the run's gate compared with (or at
    /// nothing), with an ETag-conditional write. When it moved meanwhile (a newer run promoted first), the
    /// run must be gated again against the new champion: nothing moves, and the current state is returned
    /// (its version is not <paramref name="version"/>). Idempotent: a retry after the move landed returns it.
    /// </summary>
    public async Task<AliasState> PromoteAsync(string model, string alias, int version, int? gatedAgainst, string actor, string reason, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var current = await TryGetAliasAsync(model, alias, cancellationToken);
            if (current?.Version == version)
            {
                return await SetAliasAsync(model, alias, version, null, actor, reason, cancellationToken);
            }

            if (current is not null && current.Version != gatedAgainst)
            {
                return current;
            }

            try
            {
                return await SetAliasAsync(model, alias, version, current?.ETag ?? AbsentETag, actor, reason, cancellationToken);
            }
            catch (AliasConflictException) when (attempt < MaxUnconditionalRetries)
            {
                // Moved between the read and the write: look again; it may be a newer run's promotion.
                await Task.Delay(StorageFaults.Backoff(attempt, ConflictBackoff, MaxConflictBackoff), clock, cancellationToken);
            }
        }
    }

    /// <summary>
    /// Records, once per version (a retry appends nothing more), that a run did not promote its version
    /// because the alias moved to <paramref name="current"/> after its gate and the candidate did not
    /// pass the gate again against it.
    /// </summary>
    public async Task RecordSupersededAsync(string model, string alias, int version, int current, string actor, string reason, CancellationToken cancellationToken)
    {
        var registered = await GetVersionAsync(model, version, cancellationToken);
        var key = RowKeys.NewestFirst(registered.CreatedAt) + "-superseded-" + version.ToString(CultureInfo.InvariantCulture);
        await AppendAuditAsync((key, new AuditEvent(model, AuditActions.Superseded, actor, alias, current, version, reason, clock.GetUtcNow())), cancellationToken);
    }

    /// <summary>Records a person's (or the timeout's) decision on a run's candidate in the audit trail.</summary>
    public Task RecordApprovalAsync(string model, string runId, bool approved, string actor, string reason, CancellationToken cancellationToken) =>
        AppendAuditAsync(model, approved ? AuditActions.Approved : AuditActions.Rejected, actor, null, null, $"run {runId}: {reason}", cancellationToken);

    /// <summary>Archives a ready version: it keeps its artifacts and history but takes no alias and is not served. Refused while it carries an alias.</summary>
    public Task<ModelVersion> ArchiveVersionAsync(string model, int version, string actor, string? reason, CancellationToken cancellationToken) =>
        RetireAsync(model, version, ModelVersionStatus.Archived, actor, reason, cancellationToken);

    /// <summary>
    /// Deletes a ready or archived version's ONNX file. Refused while it carries an alias. The
    /// version is marked deleted before its file goes, so nothing serves it in between; calling
    /// again after a crash finishes the deletion.
    /// </summary>
    public async Task<ModelVersion> DeleteVersionAsync(string model, int version, string actor, string? reason, CancellationToken cancellationToken)
    {
        var deleted = await RetireAsync(model, version, ModelVersionStatus.Deleted, actor, reason, cancellationToken);
        await storage.Blob(BlobPath.Parse(deleted.ModelPath)).DeleteIfExistsAsync(cancellationToken: cancellationToken);
        return deleted;
    }

    private async Task<ModelVersion> RetireAsync(string model, int version, ModelVersionStatus status, string actor, string? reason, CancellationToken cancellationToken)
    {
        var verb = status == ModelVersionStatus.Deleted ? "deleted" : "archived";
        await storage.EnsureCreatedAsync(cancellationToken);
        var row = await Versions.GetEntityIfExistsAsync<TableEntity>(model, VersionKey(version), cancellationToken: cancellationToken);
        var entry = row.HasValue ? FromEntity(row.Value!) : throw new ModelVersionNotFoundException(model, version);
        if (entry.Status == status)
        {
            // Done already (also a retry after a crash): the change's audit event may not have been appended.
            await EnsureAuditAsync(row.Value!, cancellationToken);
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

        var carrying = (await ListAliasesAsync(model, cancellationToken)).Where(a => a.Version == version).Select(a => a.Alias).ToList();
        if (carrying.Count > 0)
        {
            throw new InvalidOperationException($"Version {version} of '{model}' carries {string.Join(", ", carrying)}; move the alias before it can be {verb}.");
        }

        var stored = await Versions.GetEntityAsync<TableEntity>(model, VersionKey(version), cancellationToken: cancellationToken);
        var retired = entry with { Status = status };
        var audit = NewAudit(model, status == ModelVersionStatus.Deleted ? AuditActions.Deleted : AuditActions.Archived, actor, null, version, null, reason);
        await Versions.UpdateEntityAsync(WithAudit(ToEntity(retired), audit), stored.Value.ETag, TableUpdateMode.Replace, cancellationToken);

        // An alias set between the check and the update would point at a retired version: undo.
        if ((await ListAliasesAsync(model, cancellationToken)).Any(a => a.Version == version))
        {
            var now = await Versions.GetEntityAsync<TableEntity>(model, VersionKey(version), cancellationToken: cancellationToken);
            await Versions.UpdateEntityAsync(ToEntity(entry), now.Value.ETag, TableUpdateMode.Replace, cancellationToken);
            throw new InvalidOperationException($"An alias moved to version {version} of '{model}' while it was being {verb}; it was not {verb}.");
        }

        await AppendAuditAsync(audit, cancellationToken);
        return retired;
    }

    /// <summary>Resolves an alias (<c>champion</c>, <c>latest</c>) or a version (<c>3</c>, <c>v3</c>) to a ready version.</summary>
    public async Task<ModelVersion> ResolveAsync(string model, string reference, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reference);
        if (ModelReference.IsVersion(reference) && int.TryParse(reference.TrimStart('v'), NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return await GetVersionAsync(model, number, cancellationToken);
        }

        if (reference == ReservedAliases.Latest)
        {
            var versions = await ListVersionsAsync(model, cancellationToken);
            return versions.FirstOrDefault(v => v.Status == ModelVersionStatus.Ready) ?? throw new AliasNotFoundException(model, reference);
        }

        var alias = await TryGetAliasAsync(model, reference, cancellationToken) ?? throw new AliasNotFoundException(model, reference);
        return await GetVersionAsync(model, alias.Version, cancellationToken);
    }

    public async Task<IReadOnlyList<AuditEvent>> ListAuditAsync(string model, CancellationToken cancellationToken)
    {
        await storage.EnsureCreatedAsync(cancellationToken);
        var events = new List<AuditEvent>();
        await foreach (var entity in Audit.QueryAsync<TableEntity>(e => e.PartitionKey == model, cancellationToken: cancellationToken))
        {
            events.Add(new AuditEvent(
                model,
                entity.GetString("Action"),
                entity.GetString("Actor"),
                entity.GetString("Alias"),
                entity.GetInt32("From"),
                entity.GetInt32("To"),
                entity.GetString("Reason"),
                entity.GetDateTimeOffset("At") ?? DateTimeOffset.MinValue));
        }

        return events;
    }

    private Task AppendAuditAsync(string model, string action, string actor, int? from, int? to, string? reason, CancellationToken cancellationToken, string? alias = null) =>
        AppendAuditAsync(NewAudit(model, action, actor, alias, from, to, reason), cancellationToken);

    /// <summary>An audit event for a change made now, with the row key it will be stored under.</summary>
    private (string Key, AuditEvent Event) NewAudit(string model, string action, string actor, string? alias, int? from, int? to, string? reason)
    {
        var now = clock.GetUtcNow();
        return (RowKeys.NewestFirst(now) + "-" + Guid.NewGuid().ToString("N"), new AuditEvent(model, action, actor, alias, from, to, reason, now));
    }

    /// <summary>
    /// Appends an audit event under its key. Idempotent: an event already stored under that key (an
    /// earlier attempt got as far) is left as it is and not counted again.
    /// </summary>
    private async Task AppendAuditAsync((string Key, AuditEvent Event) audit, CancellationToken cancellationToken)
    {
        var (key, e) = audit;
        try
        {
            await Audit.AddEntityAsync(
                new TableEntity(e.Model, key)
                {
                    ["Action"] = e.Action, ["Actor"] = e.Actor, ["Alias"] = e.Alias, ["From"] = e.From, ["To"] = e.To, ["Reason"] = e.Reason, ["At"] = e.At,
                },
                cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return;
        }

        Observability.Telemetry.RegistryEvents.Add(1, new(Observability.TelemetryNames.Tags.Model, e.Model), new(Observability.TelemetryNames.Tags.Action, e.Action));
    }

    /// <summary>
    /// Exactly one audit event per change, also across a crash: the row that carries a change also
    /// carries that change's audit event (these columns, written in the same atomic write), and the
    /// event is appended under its own key after. A retry that finds the change already made appends
    /// the event from the row (<see cref="EnsureAuditAsync"/>), which is a no-op when it is there.
    /// </summary>
    private static TableEntity WithAudit(TableEntity entity, (string Key, AuditEvent Event) audit)
    {
        var (key, e) = audit;
        entity["AuditKey"] = key;
        entity["AuditAction"] = e.Action;
        entity["AuditActor"] = e.Actor;
        entity["AuditAlias"] = e.Alias;
        entity["AuditFrom"] = e.From;
        entity["AuditTo"] = e.To;
        entity["AuditReason"] = e.Reason;
        entity["AuditAt"] = e.At;
        return entity;
    }

    /// <summary>Appends the audit event of the last change a row carries, if the crash of an earlier attempt lost it. Rows written before audit columns existed carry none.</summary>
    private Task EnsureAuditAsync(TableEntity row, CancellationToken cancellationToken) =>
        row.GetString("AuditKey") is { } key && row.GetString("AuditAction") is { } action
            ? AppendAuditAsync(
                (key, new AuditEvent(
                    row.PartitionKey, action, row.GetString("AuditActor") ?? "", row.GetString("AuditAlias"), row.GetInt32("AuditFrom"), row.GetInt32("AuditTo"),
                    row.GetString("AuditReason"), row.GetDateTimeOffset("AuditAt") ?? DateTimeOffset.MinValue)),
                cancellationToken)
            : Task.CompletedTask;

    /// <summary>Row keys that sort newest version first.</summary>
    private static string VersionKey(int version) => (int.MaxValue - version).ToString("D10", CultureInfo.InvariantCulture);

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
    };

    private static AliasState ToAlias(TableEntity entity) => new(
        entity.PartitionKey,
        entity.RowKey,
        entity.GetInt32("Version") ?? 0,
        entity.ETag.ToString(),
        entity.GetDateTimeOffset("UpdatedAt") ?? DateTimeOffset.MinValue);
}
