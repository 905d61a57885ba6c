using System.Globalization;
using System.Text.Json;
using Azure.Data.Tables;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Data.Profiling;
using Serverless.Lifecycle.Observability;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Monitoring;

public static class MonitoringActions
{
    /// <summary>Nothing to do: no drift, too little data, or no champion to watch.</summary>
    public const string None = "none";

    /// <summary>Drift, but not yet in enough windows in a row.</summary>
    public const string Wait = "wait";

    /// <summary>Drift that would retrain, inside the cooldown after the last retraining.</summary>
    public const string Cooldown = "cooldown";

    /// <summary>A retraining run was started, with the drift as its reason.</summary>
    public const string Retrain = "retrain";

    /// <summary>Drift that would retrain while another trigger's run is active: recorded against that run.</summary>
    public const string Coalesced = "coalesced";
}

/// <summary>What monitoring decided after one window, and why; <see cref="RunId"/> when it started a run.</summary>
public sealed record MonitoringDecision(string Action, string Reason, string? RunId = null);

/// <summary>
/// One monitoring pass as stored and listed: the report's verdict, the decision, and where the full
/// report is; <see cref="UnreadableLines"/> counts the log lines the pass could not read and left out.
/// </summary>
public sealed record MonitoringEntry(
    string Model,
    int Version,
    DateTimeOffset At,
    string Status,
    double DriftedShare,
    string Summary,
    MonitoringDecision Decision,
    string ReportPath,
    LiveQuality? Quality = null,
    int UnreadableLines = 0,
    double? ImportanceDriftedShare = null);

/// <summary>
/// One monitoring pass for a model: the window of logged predictions against the champion's
/// training profile, the report stored (blob JSON and a table row), and the decision: nothing,
/// wait for more drifted windows, cooldown, or a retraining run on the newest dataset with the
/// drift as its reason. The run id comes from the window, so a repeated pass starts nothing new.
/// </summary>
public sealed class DriftMonitor(
    ModelRegistry registry, ModelArtifactStore artifacts, PredictionLogReader log, DatasetStore datasets, FeedbackStore feedback, ILifecycleEvents events, LifecycleStorage storage, TimeProvider clock)
{
    private TableClient Table => storage.Table(StorageNames.MonitoringTable);

    public async Task<MonitoringEntry?> RunAsync(string model, IRunRequests runs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var spec = await registry.GetSpecAsync(model, cancellationToken);
        ModelVersion champion;
        try
        {
            champion = await registry.ResolveAsync(model, ReservedAliases.Champion, cancellationToken);
        }
        catch (AliasNotFoundException)
        {
            return null;
        }

        var card = await artifacts.ReadCardAsync(champion, cancellationToken);
        if (card.ProfilePath is not { } profilePath
            || (await artifacts.ReadJsonAsync(profilePath, cancellationToken))?.Deserialize<DatasetProfile>(SpecJson.Options) is not { } baseline)
        {
            return null;
        }

        var to = clock.GetUtcNow();
        var from = to.AddMinutes(-spec.Drift.WindowMinutes);
        IReadOnlyList<PredictionRecord>? latest = null;
        var unreadable = new UnreadableLines();
        if (spec.Drift.WindowPredictions is { } count)
        {
            latest = await log.ReadLatestAsync(model, count, to, TimeSpan.FromDays(7), unreadable, cancellationToken);
            from = latest.Count > 0 ? latest[0].Time : to;
        }

        // Feedback for the window's predictions may arrive after them: everything received since the window began.
        var truth = await feedback.LabelsAsync(model, from, cancellationToken);
        var labelled = new List<(PredictionRecord, string)>();
        var window = new DriftWindow(spec, baseline);
        await foreach (var record in latest?.ToAsyncEnumerable() ?? log.ReadAsync(model, from, to, unreadable, cancellationToken))
        {
            window.Add(record);
            if (record.Version == champion.Version && record.Served && record.Error is null && truth.TryGetValue((record.RequestId, record.Row), out var label))
            {
                labelled.Add((record, label));
            }
        }

        var report = window.Report(champion.Version, from, to, card.Importance);
        var quality = LiveQuality.Compute(spec, champion.Version, card.TestMetrics, labelled);
        var decision = await DecideAsync(spec, report, quality, runs, cancellationToken);
        var path = new BlobPath(StorageNames.MonitoringContainer, string.Create(CultureInfo.InvariantCulture, $"{model}/{to.UtcDateTime:yyyy/MM/dd/HHmmssfff}.json"));
        var unreadableLines = unreadable.Count == 0 ? null : new { count = unreadable.Count, first = unreadable.First };
        await storage.Blob(path).UploadAsync(BinaryData.FromObjectAsJson(new { report, quality, decision, unreadableLines }, SpecJson.Options), overwrite: true, cancellationToken);
        var entry = new MonitoringEntry(model, champion.Version, to, report.Status, report.DriftedShare, unreadable.AppendTo(report.Summary), decision, path.ToString(), quality, unreadable.Count, report.ImportanceDriftedShare);
        await Table.UpsertEntityAsync(
            new TableEntity(model, RowKeys.NewestFirst(to))
            {
                ["Entry"] = JsonSerializer.Serialize(entry, SpecJson.Options),
                ["Status"] = report.Status,
                ["Action"] = decision.Action,
            },
            TableUpdateMode.Replace,
            cancellationToken);
        Emit(report, decision);
        await events.PublishAsync(new Azure.Messaging.CloudEvent(LifecycleEventTypes.Source, LifecycleEventTypes.DriftReported, new { entry, features = report.Features })
        {
            Subject = $"models/{model}",
        }, cancellationToken);
        return entry;
    }

    /// <summary>Metrics of one window: every test's statistic and threshold per feature, and the window's outcome.</summary>
    private static void Emit(DriftReport report, MonitoringDecision decision)
    {
        foreach (var feature in report.Features.Append(report.Prediction).OfType<FeatureDrift>())
        {
            foreach (var test in feature.Tests)
            {
                var tags = new System.Diagnostics.TagList
                {
                    { TelemetryNames.Tags.Model, report.Model },
                    { TelemetryNames.Tags.Version, report.Version },
                    { TelemetryNames.Tags.Feature, feature.Feature },
                    { TelemetryNames.Tags.Test, test.Test },
                };
                Telemetry.DriftThreshold.Record(test.Threshold, tags);
                tags.Add(TelemetryNames.Tags.Drifted, test.Drifted);
                Telemetry.DriftStatistic.Record(test.Statistic, tags);
            }
        }

        Telemetry.DriftWindows.Add(
            1, new(TelemetryNames.Tags.Model, report.Model), new(TelemetryNames.Tags.Status, report.Status), new(TelemetryNames.Tags.Action, decision.Action));
    }

    /// <summary>The model's monitoring passes, newest first.</summary>
    public async Task<IReadOnlyList<MonitoringEntry>> ListAsync(string model, int max, CancellationToken cancellationToken)
    {
        await storage.EnsureCreatedAsync(cancellationToken);
        var entries = new List<MonitoringEntry>();
        await foreach (var entity in Table.QueryAsync<TableEntity>(e => e.PartitionKey == model, maxPerPage: max, cancellationToken: cancellationToken))
        {
            entries.Add(JsonSerializer.Deserialize<MonitoringEntry>(entity.GetString("Entry"), SpecJson.Options)!);
            if (entries.Count == max)
            {
                break;
            }
        }

        return entries;
    }

    /// <summary>
    /// The model's monitoring passes with <paramref name="from"/> &lt;= At &lt; <paramref name="to"/>, newest
    /// first, at most <paramref name="max"/>: one range query on the partition, since row keys order by time.
    /// </summary>
    public async Task<IReadOnlyList<MonitoringEntry>> ListAsync(string model, DateTimeOffset from, DateTimeOffset to, int max, CancellationToken cancellationToken)
    {
        await storage.EnsureCreatedAsync(cancellationToken);
        var (newest, oldest) = (RowKeys.NewestFirst(to), RowKeys.NewestFirst(from));
        var entries = new List<MonitoringEntry>();
        await foreach (var entity in Table.QueryAsync<TableEntity>(
            e => e.PartitionKey == model && e.RowKey.CompareTo(newest) > 0 && e.RowKey.CompareTo(oldest) <= 0, maxPerPage: max, cancellationToken: cancellationToken))
        {
            entries.Add(JsonSerializer.Deserialize<MonitoringEntry>(entity.GetString("Entry"), SpecJson.Options)!);
            if (entries.Count == max)
            {
                break;
            }
        }

        return entries;
    }

    /// <summary>The pass whose report was stored at <paramref name="at"/> (its <see cref="ReportId"/>), or null.</summary>
    public async Task<MonitoringEntry?> GetAsync(string model, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await storage.EnsureCreatedAsync(cancellationToken);
        var entity = await Table.GetEntityIfExistsAsync<TableEntity>(model, RowKeys.NewestFirst(at), cancellationToken: cancellationToken);
        return entity.HasValue ? JsonSerializer.Deserialize<MonitoringEntry>(entity.Value!.GetString("Entry"), SpecJson.Options) : null;
    }

    // To the tick, so an id names exactly one row (the row key is the pass's time in ticks).
    private const string ReportIdFormat = "yyyyMMdd'T'HHmmssfffffff'Z'";

    /// <summary>A pass's id in URLs: the UTC time it ran, to the tick, as <c>20261126T1000001234567Z</c>.</summary>
    public static string ReportId(DateTimeOffset at) => at.UtcDateTime.ToString(ReportIdFormat, CultureInfo.InvariantCulture);

    public static bool TryParseReportId(string id, out DateTimeOffset at) =>
        DateTimeOffset.TryParseExact(id, ReportIdFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out at);

    private async Task<MonitoringDecision> DecideAsync(ModelSpec spec, DriftReport report, LiveQuality quality, IRunRequests runs, CancellationToken cancellationToken)
    {
        var policy = spec.Drift;
        var drifted = report.Status == DriftStatuses.Drift;
        if (!quality.Degraded && (!drifted || !spec.Retraining.OnDrift))
        {
            var why = drifted ? $"{report.Summary} Retraining on drift is off (retraining.onDrift)." : report.Summary;
            return new MonitoringDecision(MonitoringActions.None, why);
        }

        // Live quality below the card's acts at once; drift waits for enough drifted windows in a row.
        var (trigger, reason) = quality.Degraded ? (RunTriggers.Quality, quality.Summary) : (RunTriggers.Drift, report.Summary);
        var earlier = await ListAsync(spec.Name, Math.Max(policy.ConsecutiveWindows, 50), cancellationToken);
        var inARow = 1 + earlier.TakeWhile(e => e.Status == DriftStatuses.Drift).Count();
        if (!quality.Degraded && inARow < policy.ConsecutiveWindows)
        {
            return new MonitoringDecision(MonitoringActions.Wait, $"Drift in {inARow} window(s) in a row; {policy.ConsecutiveWindows} are needed to retrain.");
        }

        if (earlier.FirstOrDefault(e => e.Decision.Action == MonitoringActions.Retrain) is { } last && last.At > report.To.AddHours(-policy.CooldownHours))
        {
            return new MonitoringDecision(MonitoringActions.Cooldown, $"{reason} Run {last.Decision.RunId} retrained at {last.At:u}, inside the {policy.CooldownHours} h cooldown.");
        }

        var dataset = await datasets.GetLatestAsync(spec.Name, cancellationToken);
        if (dataset is null)
        {
            return new MonitoringDecision(MonitoringActions.None, $"{reason} The model has no dataset to retrain on.");
        }

        // One run per window (its end is the run's key): a repeated pass over the same window finds the
        // run already started. A run already active for the model (another trigger's) absorbs this one.
        var triggered = await runs.RequestAsync(new RunRequest(spec, trigger, reason, dataset, report.To, PrepareData: true), cancellationToken);
        reason = triggered.Reason;
        return triggered.Outcome is TriggerOutcomes.Started or TriggerOutcomes.Duplicate
            ? new MonitoringDecision(MonitoringActions.Retrain, reason, triggered.RunId)
            : new MonitoringDecision(MonitoringActions.Coalesced, $"Coalesced into run {triggered.RunId}, which is already training: {reason}", triggered.RunId);
    }
}
