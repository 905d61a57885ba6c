using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Lifecycle.Monitoring;
using Serverless.Lifecycle.Observability;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;
using Serverless.Samples.Churn;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Pipeline;

/// <summary>
/// The retraining loop: production traffic in the prediction log, the monitor's report against
/// the champion's training profile, and its decision: nothing for undrifted traffic; for drifted
/// traffic, wait for the second drifted window, then a retraining run with the drift as its
/// reason, then a cooldown. With <c>drift.shareOf: importance</c>, the share of the champion's
/// importance on the drifted features decides instead of their number.
/// </summary>
public sealed class DriftRetrainingTests(PipelineHostFixture fixture) : IClassFixture<PipelineHostFixture>
{
    private static ModelSpec Monitored(string prefix) => PipelineHostFixture.SampleSpec(prefix) with
    {
        Drift = new DriftSpec { WindowMinutes = 60, MinSamples = 200, ConsecutiveWindows = 2, CooldownHours = 24 },
    };

    /// <summary>
    /// Logs generated rows as served predictions of version 1, and waits until the log has written them;
    /// <paramref name="overrides"/> gives every row the same value of the features it names.
    /// </summary>
    private async Task LogTrafficAsync(ModelSpec spec, int rows, int seed, bool drifted, IReadOnlyDictionary<string, string>? overrides = null)
    {
        var lines = ChurnDataGenerator.Generate(rows, seed, drifted).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var header = lines[0].Split(',');
        var now = DateTimeOffset.UtcNow;
        var records = lines.Skip(1).Select((line, i) =>
        {
            var fields = line.Split(',');
            var inputs = spec.Features.ToDictionary(
                f => f.Name,
                f => (overrides?.GetValueOrDefault(f.Name) ?? fields[Array.IndexOf(header, f.Name)]) is var text && f.IsNumeric ? (text.Length == 0 ? null : (object?)double.Parse(text, CultureInfo.InvariantCulture)) : text);
            return new PredictionRecord($"{spec.Name}-{seed}-{i}", 0, now, spec.Name, 1, "champion", "predict", inputs, fields[^1], 0.5, null, 1);
        }).ToList();
        fixture.Services.GetRequiredService<PredictionLog>().Write(records);

        var reader = fixture.Services.GetRequiredService<PredictionLogReader>();
        var written = await Eventually.WaitAsync(
            async () =>
            {
                var logged = 0;
                await foreach (var record in reader.ReadAsync(spec.Name, now.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1), new UnreadableLines()))
                {
                    logged += record.RequestId.StartsWith($"{spec.Name}-{seed}-", StringComparison.Ordinal) ? 1 : 0;
                }

                return logged;
            },
            logged => logged == records.Count,
            interval: TimeSpan.FromMilliseconds(100));
        Assert.True(written == records.Count, $"The prediction log wrote {written} of the {records.Count} records.");
    }

    private DriftMonitor Monitor => fixture.Services.GetRequiredService<DriftMonitor>();

    private IRunRequests Runs => fixture.Services.GetRequiredService<Lifecycle.Pipeline.RunController>().For(fixture.Client);

    [Fact]
    public async Task ByImportance_DriftInFeaturesTheChampionHardlyUses_StartsNothing_WhereTheShareOfFeaturesWouldRetrain()
    {
        // Traffic like the training data but for two inputs the churn model hardly uses, each always one
        // value: 2 of 6 features drift, the 30% that makes a window drift by count, but little of the importance.
        var spec = Monitored("weighted") with { Drift = new DriftSpec { MinSamples = 200, ConsecutiveWindows = 1, DriftedShare = 0.3, ShareOf = DriftShares.Importance } };
        Assert.Equal("succeeded", (await fixture.RunAsync(spec, ChurnDataGenerator.Generate(2500, seed: 21))).Status);
        var champion = await fixture.Registry.ResolveAsync(spec.Name, ReservedAliases.Champion, CancellationToken.None);
        var importance = (await new ModelArtifactStore(fixture.Storage).ReadCardAsync(champion, CancellationToken.None)).Importance!;
        await LogTrafficAsync(spec, 600, seed: 41, drifted: false, new Dictionary<string, string> { ["payment_method"] = "mailed-check", ["internet_service"] = "none" });

        var entry = (await Monitor.RunAsync(spec.Name, Runs, CancellationToken.None))!;

        var report = (await new ModelArtifactStore(fixture.Storage).ReadJsonAsync(entry.ReportPath, CancellationToken.None))!.Value.GetProperty("report");
        var drifted = report.GetProperty("features").EnumerateArray().Where(f => f.GetProperty("drifted").GetBoolean()).Select(f => f.GetProperty("feature").GetString()!).ToList();
        Assert.Equal(["internet_service", "payment_method"], drifted.Order(StringComparer.Ordinal));
        Assert.True(entry.DriftedShare >= 0.3, $"by count {entry.DriftedShare}: the share of features would have drifted");
        Assert.Equal(importance.ShareOf(drifted), entry.ImportanceDriftedShare!.Value, 9);
        Assert.True(entry.ImportanceDriftedShare < 0.1, $"{entry.ImportanceDriftedShare} of the importance: {importance.Describe(6)}");
        Assert.Equal((DriftStatuses.NoDrift, MonitoringActions.None, "importance"), (entry.Status, entry.Decision.Action, report.GetProperty("shareOf").GetString()));
        Assert.Contains("of the importance that makes the dataset drift", entry.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ByImportance_DriftInTheFeaturesTheChampionReliesOn_Retrains()
    {
        var spec = Monitored("weighted-on") with { Drift = new DriftSpec { MinSamples = 200, ConsecutiveWindows = 1, DriftedShare = 0.3, ShareOf = DriftShares.Importance } };
        Assert.Equal("succeeded", (await fixture.RunAsync(spec, ChurnDataGenerator.Generate(2500, seed: 21))).Status);
        await LogTrafficAsync(spec, 600, seed: 41, drifted: true);

        var entry = (await Monitor.RunAsync(spec.Name, Runs, CancellationToken.None))!;

        Assert.True(entry.ImportanceDriftedShare > 0.5, $"{entry.ImportanceDriftedShare} of the importance");
        Assert.Equal((DriftStatuses.Drift, MonitoringActions.Retrain), (entry.Status, entry.Decision.Action));
        Assert.Contains("of the model's importance", entry.Decision.Reason, StringComparison.Ordinal);
        var run = await fixture.WaitAsync(entry.Decision.RunId!);
        Assert.Equal(("succeeded", RunTriggers.Drift), (run.Status, run.Trigger));
    }

    [Fact]
    public async Task UndriftedTraffic_IsReportedAndStartsNothing()
    {
        var spec = Monitored("calm");
        Assert.Equal("succeeded", (await fixture.RunAsync(spec, ChurnDataGenerator.Generate(2500, seed: 21))).Status);
        await LogTrafficAsync(spec, 600, seed: 40, drifted: false);

        var entry = (await Monitor.RunAsync(spec.Name, Runs, CancellationToken.None))!;

        Assert.Equal((DriftStatuses.NoDrift, MonitoringActions.None), (entry.Status, entry.Decision.Action));
        Assert.Null(entry.Decision.RunId);
        Assert.Single(await Monitor.ListAsync(spec.Name, 10, CancellationToken.None));
    }

    [Fact]
    public async Task ADamagedLogBlob_IsLeftOutAndNamed_AndTheRestOfTheWindowIsMonitored()
    {
        var spec = Monitored("damaged");
        Assert.Equal("succeeded", (await fixture.RunAsync(spec, ChurnDataGenerator.Generate(2500, seed: 21))).Status);
        await LogTrafficAsync(spec, 600, seed: 43, drifted: false);

        // A blob in the window whose second line was cut short: one good record, one that is not.
        var now = DateTimeOffset.UtcNow;
        var good = System.Text.Json.JsonSerializer.Serialize(
            new PredictionRecord("damaged-good", 0, now, spec.Name, 1, "champion", "predict", new Dictionary<string, object?> { ["tenure_months"] = 12.0 }, "false", 0.2, null, 1), PredictionLog.JsonOptions);
        var blob = string.Create(CultureInfo.InvariantCulture, $"{spec.Name}/{now.UtcDateTime:yyyy/MM/dd/HH}/damaged.jsonl");
        await fixture.Services.GetRequiredService<Lifecycle.Storage.LifecycleStorage>().Blob(new Lifecycle.Storage.BlobPath("predictions", blob))
            .UploadAsync(BinaryData.FromString(good + "\n" + good[..40] + "\n"), overwrite: true);

        var entry = (await Monitor.RunAsync(spec.Name, Runs, CancellationToken.None))!;

        Assert.Equal((DriftStatuses.NoDrift, MonitoringActions.None, 1), (entry.Status, entry.Decision.Action, entry.UnreadableLines));
        Assert.Contains($"line 2 of the prediction log {blob}", entry.Summary, StringComparison.Ordinal);
        Assert.Equal(1, Assert.Single(await Monitor.ListAsync(spec.Name, 10, CancellationToken.None)).UnreadableLines);
    }

    [Fact]
    public async Task DriftedTraffic_WaitsForASecondWindow_ThenRetrainsWithTheReason_ThenCoolsDown()
    {
        var spec = Monitored("drifty");
        using var metrics = new Observability.MetricCapture();
        Assert.Equal("succeeded", (await fixture.RunAsync(spec, ChurnDataGenerator.Generate(2500, seed: 21))).Status);
        await LogTrafficAsync(spec, 600, seed: 41, drifted: true);

        var first = (await Monitor.RunAsync(spec.Name, Runs, CancellationToken.None))!;
        var second = (await Monitor.RunAsync(spec.Name, Runs, CancellationToken.None))!;
        var third = (await Monitor.RunAsync(spec.Name, Runs, CancellationToken.None))!;

        Assert.Equal((DriftStatuses.Drift, MonitoringActions.Wait), (first.Status, first.Decision.Action));
        Assert.Equal(MonitoringActions.Retrain, second.Decision.Action);
        Assert.Contains("monthly_charges", second.Decision.Reason, StringComparison.Ordinal);
        Assert.Equal(MonitoringActions.Cooldown, third.Decision.Action);

        var run = await fixture.WaitAsync(second.Decision.RunId!);
        Assert.Equal(("succeeded", "drift"), (run.Status, run.Trigger));
        Assert.Equal(2, (await fixture.Registry.ResolveAsync(spec.Name, ReservedAliases.Champion, CancellationToken.None)).Version);
        Assert.Equal([MonitoringActions.Cooldown, MonitoringActions.Retrain, MonitoringActions.Wait], (await Monitor.ListAsync(spec.Name, 10, CancellationToken.None)).Select(e => e.Decision.Action));

        // Every window is a metric per feature and test (with its threshold beside it), and a CloudEvent; the retraining trigger is one too.
        var statistics = metrics.Points(TelemetryNames.DriftStatistic, spec.Name);
        Assert.Contains(statistics, s => (string?)s.Tags["feature"] == "monthly_charges" && (string?)s.Tags["test"] == DriftTests.KolmogorovSmirnov && s.Tags["drifted"] is true);
        // Three windows, every feature, two tests each (the defaults: psi and ks, or psi and chiSquare).
        Assert.Equal(3 * spec.Features.Count * 2, statistics.Where(s => (string?)s.Tags["feature"] != "prediction").Sum(s => s.Count));
        var threshold = Assert.Single(metrics.Points(TelemetryNames.DriftThreshold, spec.Name), t => (string?)t.Tags["feature"] == "monthly_charges" && (string?)t.Tags["test"] == DriftTests.KolmogorovSmirnov);
        Assert.Equal(DriftTests.DefaultThresholds[DriftTests.KolmogorovSmirnov] * 3, threshold.Sum, 12);
        Assert.Equal(3, metrics.Points(TelemetryNames.DriftWindows, spec.Name).Sum(w => w.Sum));
        var trigger = Assert.Single(metrics.Points(TelemetryNames.RetrainingTriggers, spec.Name));
        Assert.Equal(("drift", "started", 1.0), (trigger.Tags["trigger"], trigger.Tags["outcome"], trigger.Sum));

        // Two runs (the first, manual; the retraining, drift), each counted once though the orchestrator replays after every step.
        var runs = metrics.Points(TelemetryNames.Runs, spec.Name);
        Assert.Equal(
            [("drift", "succeeded", 1.0), ("manual", "succeeded", 1.0)],
            runs.Select(r => ((string)r.Tags["trigger"]!, (string)r.Tags["outcome"]!, r.Sum)).Order());
        Assert.Equal(2, metrics.Points(TelemetryNames.RunDuration, spec.Name).Sum(r => r.Count));
        var steps = metrics.Points(TelemetryNames.RunStepDuration, spec.Name);
        Assert.Equal(["evaluate", "promote", "register", "split", "train", "validate"], steps.Select(s => (string)s.Tags["step"]!).Distinct().Order());
        Assert.All(steps, s => Assert.Equal(2, s.Count));
        var verdict = Assert.Single(metrics.Points(TelemetryNames.GateVerdicts, spec.Name));
        Assert.Equal((true, "none", 2.0), (verdict.Tags["passed"], verdict.Tags["check"], verdict.Sum));
        foreach (var name in new[] { TelemetryNames.DriftStatistic, TelemetryNames.DriftThreshold, TelemetryNames.DriftWindows, TelemetryNames.RetrainingTriggers, TelemetryNames.Runs, TelemetryNames.RunDuration, TelemetryNames.RunStepDuration, TelemetryNames.GateVerdicts })
        {
            Observability.MetricCapture.AssertDeclaredDimensions(name, metrics.Points(name, spec.Name));
        }

        var events = fixture.Events.Published.Where(e => e.Subject == $"models/{spec.Name}").ToList();
        Assert.Equal(3, events.Count(e => e.Type == LifecycleEventTypes.DriftReported));
        Assert.Single(events, e => e.Type == LifecycleEventTypes.RetrainingTriggered);
    }

    [Fact]
    public async Task LiveQualityBelowTheCard_RetrainsAtOnceWithTheQualityAsTheReason()
    {
        var spec = Monitored("quality") with
        {
            Retraining = new RetrainingSpec { OnQualityDrop = new QualityDropSpec("accuracy", 0.1, MinLabelled: 100), TrainingData = TrainingDataPolicies.NewestWithFeedback },
        };
        Assert.Equal("succeeded", (await fixture.RunAsync(spec, ChurnDataGenerator.Generate(2500, seed: 21))).Status);
        await LogTrafficAsync(spec, 300, seed: 42, drifted: false);

        // Ground truth that contradicts every logged prediction: live accuracy 0.
        var wrong = new List<Feedback>();
        await foreach (var record in fixture.Services.GetRequiredService<PredictionLogReader>().ReadAsync(spec.Name, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow, new UnreadableLines()))
        {
            wrong.Add(new Feedback(record.RequestId, record.Row, record.Label == "1" ? "0" : "1", DateTimeOffset.UtcNow));
        }

        await fixture.Services.GetRequiredService<FeedbackStore>().SaveAsync(spec.Name, wrong, CancellationToken.None);

        var entry = (await Monitor.RunAsync(spec.Name, Runs, CancellationToken.None))!;

        Assert.Equal(DriftStatuses.NoDrift, entry.Status);
        Assert.Equal(MonitoringActions.Retrain, entry.Decision.Action);
        Assert.True(entry.Quality!.Degraded);
        Assert.Equal((300L, 0.0), (entry.Quality.Labelled, entry.Quality.Live["accuracy"]));
        Assert.Contains("Live accuracy 0 against", entry.Decision.Reason, StringComparison.Ordinal);
        // The feedback contradicts mostly right predictions, so the rows it labels are mostly wrong:
        // the candidate trained on them is worse, and the gate stops it. The champion stays.
        var run = await fixture.WaitAsync(entry.Decision.RunId!);
        Assert.Equal(("gateFailed", "quality"), (run.Status, run.Trigger));
        Assert.Equal(1, (await fixture.Registry.ResolveAsync(spec.Name, ReservedAliases.Champion, CancellationToken.None)).Version);

        // It trained on the newest dataset plus the 300 production rows, labelled by their feedback.
        var trained = (await fixture.Storage.Blob(Lifecycle.Storage.BlobPath.Parse(run.Dataset!.Path)).DownloadContentAsync()).Value.Content.ToString();
        var lines = trained.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(1 + 2500 + 300, lines.Length);
        Assert.Contains("plus 300 production row(s) with feedback", entry.Decision.Reason, StringComparison.Ordinal);
        var header = lines[0].Split(',');
        var produced = lines[^1].Split(',');
        Assert.Equal(wrong.Single(f => f.RequestId == $"{spec.Name}-42-299").Label, produced[Array.IndexOf(header, "churned")]);
    }
}
