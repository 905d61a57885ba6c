using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Monitoring;
using Serverless.Lifecycle.Observability;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Pipeline;

/// <summary>
/// Every run starts here, whatever asked for it: the upload and manual routes, the schedule, new
/// data (a blob event or laptop mode's poller), drift and live quality. The controller makes the
/// run's id (<see cref="RunIds"/>), applies the spec's training-data policy, schedules the run once
/// however often it is asked, and records every request with its reason and outcome.
/// <para>
/// The policy for overlapping requests: a model has one active-run mark, claimed with an
/// ETag-conditional write. An automatic trigger (schedule, new data, drift, quality) that finds the
/// marked run active is coalesced into it, never dropped silently. An explicit one (upload, manual:
/// someone asked for this data or this moment) always starts its run and takes the mark, so the
/// automatic triggers that follow coalesce into it; a run that was already active goes on. Runs
/// that overlap cannot promote over each other: promotion is conditional on the champion the run
/// was gated against (<see cref="Registry.ModelRegistry.PromoteAsync"/>), and the run that finds it
/// moved is gated again against the new champion or ends <c>superseded</c>.
/// </para>
/// </summary>
public sealed class RunController(LifecycleStorage storage, ModelRegistry registry, TrainingDataPolicy trainingData, ILifecycleEvents events, TimeProvider clock)
{
    private const string ActiveRow = "active";
    private const string OccurrencePrefix = "occurrence-";

    // Claim conflicts resolve in a look or two (the loser finds the winner's claim and coalesces); the bound is for safety.
    private const int MaxClaimAttempts = 10;

    /// <summary>How long a claim whose run is not visible yet still counts as active (its trigger is scheduling the run).</summary>
    private static readonly TimeSpan ClaimGrace = TimeSpan.FromSeconds(10);

    private TableClient Table => storage.Table(StorageNames.TriggersTable);

    /// <summary>
    /// Starts the run <paramref name="request"/> asks for, or coalesces it into the model's active run
    /// (automatic triggers only), or finds it already started (the same request again).
    /// </summary>
    public async Task<TriggerRecord> StartAsync(RunRequest request, IPipelineClient pipeline, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(pipeline);
        var (spec, trigger, reason, dataset) = (request.Spec, request.Trigger, request.Reason, request.Dataset);
        var runId = trigger switch
        {
            RunTriggers.Upload or RunTriggers.NewData => RunIds.ForDataset(dataset),
            RunTriggers.Import => RunIds.ForImport(spec.Name, request.Import?.Sha256 ?? throw new ArgumentException("An import run needs the imported model.", nameof(request)), dataset),
            RunTriggers.Manual => RunIds.ForManual(spec.Name),
            _ => RunIds.ForOccurrence(spec.Name, trigger, request.For ?? throw new ArgumentException($"A {trigger} run needs the time it is for.", nameof(request))),
        };

        if (request.PrepareData && await pipeline.GetRunAsync(runId, cancellationToken) is null)
        {
            // The training data per the spec's policy, prepared once per run: a repeat finds the run and its data.
            (dataset, var note) = await trainingData.PrepareAsync(spec, dataset, cancellationToken);
            reason = $"{reason} Training {note}.";
        }

        return await TriggerAsync(spec, trigger, reason, dataset, runId, pipeline, !RunTriggers.IsExplicit(trigger), cancellationToken, request.Import);
    }

    /// <summary>
    /// Starts a run that rebuilds a registered version from what its card recorded
    /// (<see cref="TrainingRunRequest.Reproduce"/>): its dataset, its spec, and the algorithm,
    /// hyperparameters and seed of the job that made it (a search's best trial), trained as one job. It
    /// registers and promotes nothing, so it neither takes the model's active-run mark nor is coalesced
    /// into the active run: it runs beside whatever else runs, and is recorded like every other request,
    /// so the model's run list shows it. An imported version recorded no training: <see cref="NotReproducibleException"/>.
    /// </summary>
    public async Task<TriggerRecord> ReproduceAsync(ModelCard card, string asked, IPipelineClient pipeline, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(card);
        ArgumentNullException.ThrowIfNull(pipeline);
        if (card.Imported is { } imported)
        {
            throw new NotReproducibleException(
                card.Model, card.Version, $"Version {card.Version} of '{card.Model}' was imported ({imported.Producer}, by {imported.Actor}): it was trained elsewhere, so this product recorded no training to reproduce.");
        }

        var spec = card.Spec with { Trainer = card.Spec.Trainer with { Algorithm = card.Algorithm, Hyperparameters = card.Hyperparameters, Seed = card.Seed, Search = null } };
        var target = new ReproduceTarget(card.Version, card.OnnxSha256, card.TrainerVersion);
        var (dataset, reason) = (card.Dataset, $"reproduce version {card.Version} from {card.Dataset.Path} (SHA-256 {card.Dataset.Sha256}), seed {card.Seed}, trainer {card.TrainerVersion}; {asked}");
        await storage.EnsureCreatedAsync(cancellationToken);
        var runId = RunIds.ForReproduce(spec.Name, target.Version);
        var at = NowToTheMillisecond();
        await pipeline.StartRunAsync(new TrainingRunRequest(runId, spec, dataset, RunTriggers.Reproduce, reason, Reproduce: target), cancellationToken);
        return await RecordStartedOnceAsync(new TriggerRecord(spec.Name, RunTriggers.Reproduce, reason, at, TriggerOutcomes.Started, runId), checkHistory: false, cancellationToken);
    }

    /// <summary>The controller bound to one Durable engine's client, as monitoring asks for runs.</summary>
    public IRunRequests For(IPipelineClient pipeline) => new BoundRequests(this, pipeline);

    private sealed class BoundRequests(RunController controller, IPipelineClient pipeline) : IRunRequests
    {
        public Task<TriggerRecord> RequestAsync(RunRequest request, CancellationToken cancellationToken) => controller.StartAsync(request, pipeline, cancellationToken);
    }

    /// <summary>
    /// Starts run <paramref name="runId"/> unless the model's marked run is active, in which case the
    /// request is recorded as coalesced into it; with <paramref name="coalesce"/> false (an explicit
    /// request) the run starts anyway and takes the mark. A run that exists already is not started
    /// again (the request is a <see cref="TriggerOutcomes.Duplicate"/>, or recorded once if it never was).
    /// </summary>
    public async Task<TriggerRecord> TriggerAsync(string model, string trigger, string reason, DatasetVersion dataset, string runId, IPipelineClient pipeline, CancellationToken cancellationToken, bool coalesce = true) =>
        await TriggerAsync(await registry.GetSpecAsync(model, cancellationToken), trigger, reason, dataset, runId, pipeline, coalesce, cancellationToken);

    private async Task<TriggerRecord> TriggerAsync(ModelSpec spec, string trigger, string reason, DatasetVersion dataset, string runId, IPipelineClient pipeline, bool coalesce, CancellationToken cancellationToken, ImportedModel? import = null)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        await storage.EnsureCreatedAsync(cancellationToken);
        var model = spec.Name;
        for (var attempt = 0; ; attempt++)
        {
            var marker = await Table.GetEntityIfExistsAsync<TableEntity>(model, ActiveRow, cancellationToken: cancellationToken);
            var holder = marker.HasValue ? marker.Value!.GetString("RunId") : null;
            if (holder != runId && await pipeline.GetRunAsync(runId, cancellationToken) is not null)
            {
                // The run this request asks for exists and is not the marked one. If the mark moved since it
                // was read, a concurrent delivery has just claimed and started it: look again, to be
                // recorded under that claim. Otherwise it is an old run (an event delivered again after
                // other runs took the mark, a poller looking again after a restart): nothing to start.
                var again = await Table.GetEntityIfExistsAsync<TableEntity>(model, ActiveRow, cancellationToken: cancellationToken);
                if ((again.HasValue ? again.Value!.ETag : default) != (marker.HasValue ? marker.Value!.ETag : default) && attempt < MaxClaimAttempts - 1)
                {
                    continue;
                }

                return await RecordStartedOnceAsync(new TriggerRecord(model, trigger, reason, clock.GetUtcNow(), TriggerOutcomes.Started, runId), checkHistory: true, cancellationToken);
            }

            string? displaced = null;
            if (holder is not null)
            {
                var claimedAt = marker.Value!.GetDateTimeOffset("ClaimedAt");
                var run = await ClaimedRunAsync(pipeline, holder, claimedAt, cancellationToken);
                if (holder == runId && run is not null)
                {
                    // This trigger's run exists: a concurrent or later delivery of the same trigger, or the
                    // retry of an attempt that started it and died before recording it.
                    return await RecordStartedOnceAsync(new TriggerRecord(model, trigger, reason, claimedAt ?? clock.GetUtcNow(), TriggerOutcomes.Started, runId), checkHistory: claimedAt is null, cancellationToken);
                }

                // An explicit run that took the mark from an active run keeps that run's id: automatic
                // triggers coalesce into whichever of the two is still active.
                var active = run is { IsFinished: false } ? holder
                    : marker.Value.GetString("Displaced") is { } earlier && earlier != runId && await pipeline.GetRunAsync(earlier, cancellationToken) is { IsFinished: false } ? earlier
                    : null;
                if (coalesce && active is not null)
                {
                    return await RecordAsync(new TriggerRecord(model, trigger, reason, clock.GetUtcNow(), TriggerOutcomes.Coalesced, active), RecordKey(clock.GetUtcNow(), null), cancellationToken);
                }

                // The marked runs have ended, or the claim went stale without a run (its trigger died), or
                // this request is explicit: take over (an explicit one keeps the active run it displaces).
                displaced = active;
            }

            // To the millisecond: later deliveries read it back from the table and must derive the same record key.
            var claimTime = NowToTheMillisecond();
            try
            {
                var claim = new TableEntity(model, ActiveRow) { ["RunId"] = runId, ["ClaimedAt"] = claimTime, ["Displaced"] = displaced };
                if (marker.HasValue)
                {
                    await Table.UpdateEntityAsync(claim, marker.Value!.ETag, TableUpdateMode.Replace, cancellationToken);
                }
                else
                {
                    await Table.AddEntityAsync(claim, cancellationToken);
                }
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412 && attempt < MaxClaimAttempts - 1)
            {
                // Another trigger claimed the model meanwhile: look again (it is now the active run, or about
                // to be), after a short, growing pause so the losers do not collide again.
                await Task.Delay(StorageFaults.Backoff(attempt, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(1)), clock, cancellationToken);
                continue;
            }

            // A run that already existed before this claim (a late redelivery) was recorded under another claim.
            var created = await pipeline.StartRunAsync(new TrainingRunRequest(runId, spec, dataset, trigger, reason, import), cancellationToken);
            return await RecordStartedOnceAsync(new TriggerRecord(model, trigger, reason, claimTime, TriggerOutcomes.Started, runId), checkHistory: !created, cancellationToken);
        }
    }

    /// <summary>Now, cut to the millisecond: the precision a table keeps, so a time read back gives the same record key.</summary>
    private DateTimeOffset NowToTheMillisecond()
    {
        var now = clock.GetUtcNow().UtcTicks;
        return new DateTimeOffset(now - (now % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
    }

    /// <summary>
    /// The run a claim names. A claim whose run is not visible yet belongs to a trigger that is scheduling
    /// it right now: it is waited for (briefly; polls) while the claim is younger than <see cref="ClaimGrace"/>,
    /// so a concurrent trigger coalesces into it rather than starting a second run. Null once the claim
    /// is older than that with still no run: its trigger died between claiming and scheduling.
    /// </summary>
    private async Task<RunStatus?> ClaimedRunAsync(IPipelineClient pipeline, string holder, DateTimeOffset? claimedAt, CancellationToken cancellationToken)
    {
        while (true)
        {
            var run = await pipeline.GetRunAsync(holder, cancellationToken);
            if (run is not null || claimedAt is not { } at || clock.GetUtcNow() - at >= ClaimGrace)
            {
                return run;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), clock, cancellationToken);
        }
    }

    /// <summary>
    /// Records that the trigger started its run, exactly once however many deliveries or retries get
    /// here: the record's key derives from the claim that started the run (its time, which every later
    /// delivery reads from the same marker, and the run id), so only the first insert lands and every
    /// later one is a <see cref="TriggerOutcomes.Duplicate"/>. With <paramref name="checkHistory"/> (the run
    /// existed before this claim, or the marker predates claim times) the trigger history is read first.
    /// </summary>
    private async Task<TriggerRecord> RecordStartedOnceAsync(TriggerRecord started, bool checkHistory, CancellationToken cancellationToken)
    {
        if (checkHistory && (await ListAsync(started.Model, cancellationToken)).Any(r => r.RunId == started.RunId && r.Outcome == TriggerOutcomes.Started))
        {
            return started with { Outcome = TriggerOutcomes.Duplicate };
        }

        try
        {
            return await RecordAsync(started, RecordKey(started.At, started.RunId), cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return started with { Outcome = TriggerOutcomes.Duplicate };
        }
    }

    /// <summary>Trigger records sort newest first; a started run's key is fixed by its id, any other's is unique.</summary>
    private static string RecordKey(DateTimeOffset at, string? runId) =>
        RowKeys.NewestFirst(at) + "-" + (runId is null
            ? Guid.NewGuid().ToString("N")[..8]
            : Convert.ToHexStringLower(System.IO.Hashing.XxHash3.Hash(System.Text.Encoding.UTF8.GetBytes(runId))));

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

    /// <summary>
    /// The runs requests started for the model, newest first, at most <paramref name="limit"/>: the
    /// <see cref="TriggerOutcomes.Started"/> records (a coalesced request started no run of its own).
    /// One query on the model's partition; <paramref name="after"/> is the <see cref="RunPage.Continuation"/>
    /// of the page before, the key of its last record, so later pages start where it ended.
    /// </summary>
    public async Task<RunPage> ListRunsAsync(string model, int limit, string? after, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        if (after is not null && !IsContinuation(after))
        {
            throw new ArgumentException($"'{after}' is not a continuation this listing gave.", nameof(after));
        }

        await storage.EnsureCreatedAsync(cancellationToken);
        var start = after ?? "";
        var runs = new List<TriggerRecord>();
        string? last = null;
        await foreach (var entity in Table.QueryAsync<TableEntity>(
            e => e.PartitionKey == model && e.RowKey.CompareTo(start) > 0 && e.RowKey.CompareTo("a") < 0, cancellationToken: cancellationToken))
        {
            var record = JsonSerializer.Deserialize<TriggerRecord>(entity.GetString("Record"), SpecJson.Options)!;
            if (record.Outcome != TriggerOutcomes.Started || runs.Exists(r => r.RunId == record.RunId))
            {
                continue;
            }

            if (runs.Count == limit)
            {
                // One more started run exists: the page ends at the last one it holds.
                return new RunPage(runs, last);
            }

            runs.Add(record);
            last = entity.RowKey;
        }

        return new RunPage(runs, null);
    }

    /// <summary>A trigger record's key as <see cref="RecordKey"/> makes it: the newest-first time, a dash, a hex suffix.</summary>
    public static bool IsContinuation(string token) =>
        token.Length is > 20 and <= 64 && token[19] == '-' && token[..19].All(char.IsAsciiDigit) && token[20..].All(char.IsAsciiHexDigitLower);

    private async Task<TriggerRecord> RecordAsync(TriggerRecord record, string key, CancellationToken cancellationToken)
    {
        await Table.AddEntityAsync(new TableEntity(record.Model, key) { ["Record"] = JsonSerializer.Serialize(record, SpecJson.Options) }, cancellationToken);
        Telemetry.RetrainingTriggers.Add(
            1, new(TelemetryNames.Tags.Model, record.Model), new(TelemetryNames.Tags.Trigger, record.Trigger), new(TelemetryNames.Tags.Outcome, record.Outcome));
        await events.PublishAsync(new Azure.Messaging.CloudEvent(LifecycleEventTypes.Source, LifecycleEventTypes.RetrainingTriggered, record) { Subject = $"models/{record.Model}" }, cancellationToken);
        return record;
    }
}
