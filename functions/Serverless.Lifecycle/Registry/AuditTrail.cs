using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Registry;

/// <summary>
/// The registry's append-only audit trail: one event per change to a spec, a version or an alias,
/// exactly once also across a crash (the changed row carries its event; see <see cref="WithAudit"/>).
/// </summary>
public sealed class AuditTrail(LifecycleStorage storage, TimeProvider clock)
{
    private TableClient Audit => storage.Table(StorageNames.AuditTable);

    public async Task<IReadOnlyList<AuditEvent>> ListAsync(string model, CancellationToken cancellationToken)
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

    public Task AppendAsync(string model, string action, string actor, int? from, int? to, string? reason, CancellationToken cancellationToken, string? alias = null) =>
        AppendAsync(New(model, action, actor, alias, from, to, reason), cancellationToken);

    /// <summary>An audit event for a change made now, with the row key it will be stored under.</summary>
    public (string Key, AuditEvent Event) New(string model, string action, string actor, string? alias, int? from, int? to, string? reason)
    {
        var now = clock.GetUtcNow();
        return (RowKeys.NewestFirst(now) + "-" + Guid.NewGuid().ToString("N"), new AuditEvent(model, action, actor, alias, from, to, reason, now));
    }

    /// <summary>
    /// Appends an audit event under its key. Idempotent: an event already stored under that key (an
    /// earlier attempt got as far) is left as it is and not counted again.
    /// </summary>
    public async Task AppendAsync((string Key, AuditEvent Event) audit, CancellationToken cancellationToken)
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
    /// the event from the row (<see cref="EnsureAsync"/>), which is a no-op when it is there.
    /// </summary>
    public static TableEntity WithAudit(TableEntity entity, (string Key, AuditEvent Event) audit)
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
    public Task EnsureAsync(TableEntity row, CancellationToken cancellationToken) =>
        row.GetString("AuditKey") is { } key && row.GetString("AuditAction") is { } action
            ? AppendAsync(
                (key, new AuditEvent(
                    row.PartitionKey, action, row.GetString("AuditActor") ?? "", row.GetString("AuditAlias"), row.GetInt32("AuditFrom"), row.GetInt32("AuditTo"),
                    row.GetString("AuditReason"), row.GetDateTimeOffset("AuditAt") ?? DateTimeOffset.MinValue)),
                cancellationToken)
            : Task.CompletedTask;
}
