using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Observability;
using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Monitoring;

/// <summary>What became of one retraining trigger: the run it started, or the active run it was coalesced into.</summary>
public sealed record TriggerRecord(string Model, string Trigger, string Reason, DateTimeOffset At, string Outcome, string RunId);

public static class TriggerOutcomes
{
    public const string Started = "started";
    public const string Coalesced = "coalesced";

    /// <summary>The same trigger again (a redelivered event, a repeated pass): its run already exists; not recorded twice.</summary>
    public const string Duplicate = "duplicate";
}

/// <summary>
/// Starts retraining runs for the automatic triggers (drift, schedule, new data) so that
/// concurrent triggers for one model coalesce into one run: a model has at most one active run
/// started here, claimed with an ETag-conditional write, and a trigger that finds one running is
/// recorded as coalesced into it, never dropped silently. Every trigger is recorded with its reason.
/// </summary>
public sealed class RetrainingTriggers(LifecycleStorage storage, ModelRegistry registry, ILifecycleEvents events, TimeProvider clock)
{
    private const string ActiveRow = "active";
    private const string OccurrencePrefix = "occurrence-";

    private TableClient Table => storage.Table(StorageNames.TriggersTable);

    public async Task<TriggerRecord> TriggerAsync(string model, string trigger, string reason, DatasetVersion dataset, string runId, IPipelineClient pipeline, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        await storage.EnsureCreatedAsync(cancellationToken);
        var spec = await registry.GetSpecAsync(model, cancellationToken);
        for (var attempt = 0; ; attempt++)
        {
            var marker = await Table.GetEntityIfExistsAsync<TableEntity>(model, ActiveRow, cancellationToken: cancellationToken);
            if (marker.HasValue && marker.Value!.GetString("RunId") is { } active && active != runId
                && await pipeline.GetRunAsync(active, cancellationToken) is { Status: "pending" or "running" })
            {
                return await RecordAsync(new TriggerRecord(model, trigger, reason, clock.GetUtcNow(), TriggerOutcomes.Coalesced, active), cancellationToken);
            }

            try
            {
                var claim = new TableEntity(model, ActiveRow) { ["RunId"] = runId };
                if (marker.HasValue)
                {
                    await Table.UpdateEntityAsync(claim, marker.Value!.ETag, TableUpdateMode.Replace, cancellationToken);
                }
                else
                {
                    await Table.AddEntityAsync(claim, cancellationToken);
                }
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412 && attempt < 5)
            {
                // Another trigger claimed the model meanwhile: look again (it is now the active run), after a
                // short, growing pause so the winner can schedule its run and the losers do not collide again.
                await Task.Delay(StorageFaults.Backoff(attempt, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(1)), clock, cancellationToken);
                continue;
            }

            var started = new TriggerRecord(model, trigger, reason, clock.GetUtcNow(), TriggerOutcomes.Started, runId);
            if (await pipeline.StartRunAsync(new TrainingRunRequest(runId, spec, dataset, trigger, reason), cancellationToken))
            {
                return await RecordAsync(started, cancellationToken);
            }

            // The run exists: a repeat, unless an earlier attempt started it and failed before recording it.
            // Rare (a redelivery), so the model's trigger history is read here rather than kept indexed.
            return (await ListAsync(model, cancellationToken)).Any(r => r.RunId == runId && r.Outcome == TriggerOutcomes.Started)
                ? started with { Outcome = TriggerOutcomes.Duplicate }
                : await RecordAsync(started, cancellationToken);
        }
    }

    /// <summary>
    /// Claims <paramref name="occurrence"/> (for example a schedule's due time) for the model: true
    /// for the one caller that claims it first, false for every later or concurrent one. One point
    /// write, however many triggers the model has had.
    /// </summary>
    public async Task<bool> ClaimOccurrenceAsync(string model, string occurrence, CancellationToken cancellationToken)
    {
        await storage.EnsureCreatedAsync(cancellationToken);
        try
        {
            await Table.AddEntityAsync(new TableEntity(model, OccurrencePrefix + occurrence), cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return false;
        }
    }

    /// <summary>Gives a claimed occurrence back, when what it was claimed for could not be done.</summary>
    public async Task ReleaseOccurrenceAsync(string model, string occurrence, CancellationToken cancellationToken) =>
        await Table.DeleteEntityAsync(model, OccurrencePrefix + occurrence, cancellationToken: cancellationToken);

    /// <summary>The model's triggers, newest first.</summary>
    public async Task<IReadOnlyList<TriggerRecord>> ListAsync(string model, CancellationToken cancellationToken)
    {
        await storage.EnsureCreatedAsync(cancellationToken);
        var records = new List<TriggerRecord>();

        // Trigger records have numeric row keys; the marker and the claimed occurrences start with letters.
        await foreach (var entity in Table.QueryAsync<TableEntity>(e => e.PartitionKey == model && e.RowKey.CompareTo("a") < 0, cancellationToken: cancellationToken))
        {
            records.Add(JsonSerializer.Deserialize<TriggerRecord>(entity.GetString("Record"), SpecJson.Options)!);
        }

        return records;
    }

    private async Task<TriggerRecord> RecordAsync(TriggerRecord record, CancellationToken cancellationToken)
    {
        var key = RowKeys.NewestFirst(record.At) + "-" + Guid.NewGuid().ToString("N")[..8];
        await Table.AddEntityAsync(new TableEntity(record.Model, key) { ["Record"] = JsonSerializer.Serialize(record, SpecJson.Options) }, cancellationToken);
        Telemetry.RetrainingTriggers.Add(
            1, new(TelemetryNames.Tags.Model, record.Model), new(TelemetryNames.Tags.Trigger, record.Trigger), new(TelemetryNames.Tags.Outcome, record.Outcome));
        await events.PublishAsync(new Azure.Messaging.CloudEvent(LifecycleEventTypes.Source, LifecycleEventTypes.RetrainingTriggered, record) { Subject = $"models/{record.Model}" }, cancellationToken);
        return record;
    }
}
