using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Registry;

/// <summary>
/// A model's aliases (<c>champion</c>, <c>challenger</c>, your own): every move one ETag-conditional
/// write carrying its audit event, promotions conditional on the champion a gate compared with.
/// </summary>
public sealed class AliasStore(LifecycleStorage storage, VersionStore versions, AuditTrail trail, TimeProvider clock)
{
    private const int MaxUnconditionalRetries = 5;

    private TableClient Aliases => storage.Table(StorageNames.AliasesTable);

    /// <summary>The aliases that point at <paramref name="version"/>.</summary>
    public async Task<IReadOnlyList<string>> OnVersionAsync(string model, int version, CancellationToken cancellationToken) =>
        [.. (await ListAsync(model, cancellationToken)).Where(a => a.Version == version).Select(a => a.Alias)];

    public async Task<IReadOnlyList<AliasState>> ListAsync(string model, CancellationToken cancellationToken)
    {
        await storage.EnsureCreatedAsync(cancellationToken);
        var aliases = new List<AliasState>();
        await foreach (var entity in Aliases.QueryAsync<TableEntity>(e => e.PartitionKey == model, cancellationToken: cancellationToken))
        {
            aliases.Add(ToAlias(entity));
        }

        return aliases;
    }

    public async Task<AliasState?> TryGetAsync(string model, string alias, CancellationToken cancellationToken)
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
    public async Task<AliasState> SetAsync(
        string model, string alias, int version, string? expectedETag, string actor, string? reason, CancellationToken cancellationToken, string action = AuditActions.AliasMoved)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(alias);
        if (ReservedAliases.Problem(alias) is { } problem)
        {
            throw new ArgumentException(problem, nameof(alias));
        }

        var target = await versions.GetAsync(model, version, cancellationToken);
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
                await trail.EnsureAsync(current.Value!, cancellationToken);
            }

            if (expectedETag is not null && (expectedETag == AbsentETag ? currentState is not null : currentState?.ETag != expectedETag))
            {
                throw new AliasConflictException(model, alias, currentState?.Version, currentState?.ETag);
            }

            if (currentState?.Version == version && expectedETag is null)
            {
                return currentState;
            }

            var audit = trail.New(model, action, actor, alias, currentState?.Version, version, reason);
            var entity = AuditTrail.WithAudit(new TableEntity(model, alias) { ["Version"] = version, ["UpdatedAt"] = audit.Event.At }, audit);
            try
            {
                var response = current.HasValue
                    ? await Aliases.UpdateEntityAsync(entity, current.Value!.ETag, TableUpdateMode.Replace, cancellationToken)
                    : await Aliases.AddEntityAsync(entity, cancellationToken);
                await trail.AppendAsync(audit, cancellationToken);
                return new AliasState(model, alias, version, response.Headers.ETag?.ToString() ?? "", audit.Event.At);
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412)
            {
                if (expectedETag is not null || attempt >= MaxUnconditionalRetries)
                {
                    var latest = await TryGetAsync(model, alias, cancellationToken);
                    throw new AliasConflictException(model, alias, latest?.Version, latest?.ETag);
                }

                // Another writer moved it meanwhile: look again after a short, growing pause.
                await Task.Delay(RegistryRetry.Backoff(attempt), clock, cancellationToken);
            }
        }
    }

    public async Task DeleteAsync(string model, string alias, string? expectedETag, string actor, CancellationToken cancellationToken)
    {
        var current = await TryGetAsync(model, alias, cancellationToken) ?? throw new AliasNotFoundException(model, alias);
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
            var latest = await TryGetAsync(model, alias, cancellationToken);
            throw new AliasConflictException(model, alias, latest?.Version, latest?.ETag);
        }

        await trail.AppendAsync(model, AuditActions.AliasDeleted, actor, current.Version, null, null, cancellationToken, alias);
    }

    /// <summary>
    /// Moves <c>champion</c> back to the version that was champion before the current one became
    /// champion (by a promotion or a manual move; earlier rollbacks are walked past, so repeated
    /// rollbacks step further back). Conditional on the alias not moving meanwhile.
    /// </summary>
    /// <exception cref="InvalidOperationException">There is no champion, or no earlier ready one to return to.</exception>
    public async Task<(AliasState Alias, int From)> RollbackChampionAsync(string model, string actor, string reason, CancellationToken cancellationToken, string? expectedETag = null)
    {
        var current = await TryGetAsync(model, ReservedAliases.Champion, cancellationToken)
            ?? throw new InvalidOperationException($"'{model}' has no champion to roll back.");

        // With the champion's ETag as its caller saw it, a rollback decided on a stale page loses.
        if (expectedETag is not null && expectedETag != current.ETag)
        {
            throw new AliasConflictException(model, ReservedAliases.Champion, current.Version, current.ETag);
        }

        var history = (await trail.ListAsync(model, cancellationToken))
            .Where(e => e.Alias == ReservedAliases.Champion && e.Action == AuditActions.AliasMoved)
            .OrderByDescending(e => e.At)
            .ToList();
        var promotion = history.FirstOrDefault(e => e.To == current.Version);
        if (promotion?.From is not { } previous)
        {
            throw new InvalidOperationException($"Version {current.Version} of '{model}' was its first champion; there is no earlier champion to roll back to.");
        }

        var target = await versions.GetAsync(model, previous, cancellationToken);
        if (target.Status != ModelVersionStatus.Ready)
        {
            throw new InvalidOperationException($"The previous champion, version {previous} of '{model}', is {target.Status.ToString().ToLowerInvariant()} and cannot serve again.");
        }

        var moved = await SetAsync(model, ReservedAliases.Champion, previous, current.ETag, actor, reason, cancellationToken, AuditActions.Rollback);
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
            var current = await TryGetAsync(model, alias, cancellationToken);
            if (current?.Version == version)
            {
                return await SetAsync(model, alias, version, null, actor, reason, cancellationToken);
            }

            if (current is not null && current.Version != gatedAgainst)
            {
                return current;
            }

            try
            {
                return await SetAsync(model, alias, version, current?.ETag ?? AbsentETag, actor, reason, cancellationToken);
            }
            catch (AliasConflictException) when (attempt < MaxUnconditionalRetries)
            {
                // Moved between the read and the write: look again; it may be a newer run's promotion.
                await Task.Delay(RegistryRetry.Backoff(attempt), clock, cancellationToken);
            }
        }
    }

    private static AliasState ToAlias(TableEntity entity) => new(
        entity.PartitionKey,
        entity.RowKey,
        entity.GetInt32("Version") ?? 0,
        entity.ETag.ToString(),
        entity.GetDateTimeOffset("UpdatedAt") ?? DateTimeOffset.MinValue);
}
