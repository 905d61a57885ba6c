using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Serverless.Lifecycle.Api;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Monitoring;
using Serverless.Lifecycle.Observability;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;
using Serverless.Lifecycle.Tests.Serving;
using Serverless.Samples.Churn;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Api;

/// <summary>
/// Monitoring reports by time (GET /models/{name}/monitoring/reports) and one in full (…/reports/{id}),
/// over passes the real monitor stored on Azurite at chosen times.
/// </summary>
public sealed class MonitoringReportsApiTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 20, 10, 0, 0, TimeSpan.Zero);

    private readonly LifecycleStorage storage = Azurite.CreateStorage();
    private readonly FakeTimeProvider clock = new(T0.AddDays(-30));
    private readonly string model = Azurite.UniqueModelName("mon");
    private ModelRegistry registry = null!;
    private DriftMonitor monitor = null!;
    private MonitoringApi api = null!;
    private ModelSpec spec = null!;

    public async Task InitializeAsync()
    {
        registry = new ModelRegistry(storage, clock);
        spec = ModelSpecValidator.Parse(await File.ReadAllTextAsync(RepoPaths.SampleSpec)).Spec! with { Name = model };
        spec = spec with { Drift = spec.Drift with { WindowMinutes = 60, MinSamples = 100 }, Retraining = spec.Retraining with { OnDrift = false } };
        await registry.PutSpecAsync(spec, "test", CancellationToken.None);

        // A champion whose card points at the profile of the sample data (its ONNX file is never loaded here).
        var profile = (await DatasetValidator.ValidateAsync(new MemoryStream(Encoding.UTF8.GetBytes(ChurnDataGenerator.Generate(3000, seed: 1))), spec, null, CancellationToken.None)).Profile!;
        var profilePath = new BlobPath(StorageNames.RunsContainer, $"{model}/profile.json");
        await storage.EnsureCreatedAsync();
        await storage.Blob(profilePath).UploadAsync(BinaryData.FromObjectAsJson(profile, SpecJson.Options), overwrite: true);
        var version = await ServedVersions.RegisterAsync(storage, registry, spec, [1, 2, 3], profilePath.ToString());
        var artifacts = new ModelArtifactStore(storage);
        await registry.SetAliasAsync(model, ReservedAliases.Champion, version.Version, null, "test", null, CancellationToken.None);

        monitor = new DriftMonitor(registry, artifacts, new PredictionLogReader(storage), new DatasetStore(storage, clock), new FeedbackStore(storage), new NoLifecycleEvents(), storage, clock);
        api = new MonitoringApi(monitor, registry, storage, clock);
    }

    public Task DisposeAsync()
    {
        storage.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>One monitoring pass at <paramref name="at"/>, with <paramref name="rows"/> predictions logged in its window.</summary>
    private async Task<MonitoringEntry> PassAsync(DateTimeOffset at, int rows = 0)
    {
        clock.SetUtcNow(at);
        if (rows > 0)
        {
            var lines = ChurnDataGenerator.Generate(rows, seed: 9, drifted: true).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var header = lines[0].Split(',');
            var log = new StringBuilder();
            foreach (var (line, i) in lines.Skip(1).Select((l, i) => (l.Split(','), i)))
            {
                var inputs = spec.Features.ToDictionary(
                    f => f.Name,
                    f => line[Array.IndexOf(header, f.Name)] is var text && f.IsNumeric ? (text.Length == 0 ? null : (object?)double.Parse(text, CultureInfo.InvariantCulture)) : text);
                var record = new PredictionRecord($"r-{i}", 0, at.AddMinutes(-5), model, 1, "champion", "predict", inputs, line[^1], 0.5, null, 1);
                log.Append(System.Text.Json.JsonSerializer.Serialize(record, PredictionLog.JsonOptions)).Append('\n');
            }

            await storage.Blob(PredictionLog.BlobPathFor(model, PredictionLog.HourOf(at.AddMinutes(-5)), at)).UploadAsync(BinaryData.FromString(log.ToString()), overwrite: true);
        }

        return (await monitor.RunAsync(model, new NoRuns(), CancellationToken.None))!;
    }

    private sealed class NoRuns : IRunRequests
    {
        public Task<TriggerRecord> RequestAsync(RunRequest request, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("Retraining on drift is off in this spec; nothing may ask for a run.");
    }

    private async Task<ApiResponse> ListAsync(string? query = null, string? name = null)
    {
        var request = ApiResponse.Request(query);
        return await ApiResponse.ExecuteAsync(await api.ListReportsAsync(request, name ?? model, CancellationToken.None), request);
    }

    [Fact]
    public async Task Reports_AreListedNewestFirstWithinTheRange_DefaultingToTheLastSevenDays()
    {
        var old = await PassAsync(T0.AddDays(-8));
        var first = await PassAsync(T0);
        var second = await PassAsync(T0.AddHours(1));
        var third = await PassAsync(T0.AddDays(2));
        clock.SetUtcNow(T0.AddDays(2).AddMinutes(1));

        var all = await ListAsync();
        Assert.Equal(200, all.Status);
        var ids = all.Json["reports"]!.AsArray().Select(r => (string)r!["id"]!).ToList();
        Assert.Equal(new[] { third, second, first }.Select(e => DriftMonitor.ReportId(e.At)), ids);
        Assert.False((bool)all.Json["truncated"]!);
        var newest = all.Json["reports"]![0]!;
        Assert.Equal((DriftStatuses.InsufficientData, 1, MonitoringActions.None), ((string)newest["status"]!, (int)newest["version"]!, (string)newest["decision"]!["action"]!));
        Assert.Equal($"/api/models/{model}/monitoring/reports/{ids[0]}", (string)newest["reportUrl"]!);

        // from inclusive, to exclusive: the next page of a truncated list asks up to the oldest listed time.
        var range = await ListAsync($"?from={Uri.EscapeDataString(T0.ToString("O", CultureInfo.InvariantCulture))}&to={Uri.EscapeDataString(second.At.ToString("O", CultureInfo.InvariantCulture))}");
        Assert.True(range.Status == 200, range.ToString());
        Assert.Equal([DriftMonitor.ReportId(first.At)], range.Json["reports"]!.AsArray().Select(r => (string)r!["id"]!));

        var limited = await ListAsync($"?limit=2&from=2026-11-01");
        Assert.Equal(ids.Take(2), limited.Json["reports"]!.AsArray().Select(r => (string)r!["id"]!));
        Assert.True((bool)limited.Json["truncated"]!);

        // A range that reaches back to the first representable time is not an error.
        Assert.Equal(200, (await ListAsync("?to=0001-01-02")).Status);

        var wide = await ListAsync($"?from=2026-11-01T00:00:00Z");
        Assert.Equal(DriftMonitor.ReportId(old.At), (string)wide.Json["reports"]![3]!["id"]!);
    }

    [Theory]
    [InlineData("?limit=0", "limit")]
    [InlineData("?limit=501", "limit")]
    [InlineData("?limit=ten", "limit")]
    [InlineData("?from=yesterday", "from")]
    [InlineData("?from=11/20/2026", "from")]
    [InlineData("?to=2026-13-01", "to")]
    [InlineData("?from=2026-11-21&to=2026-11-20", "from")]
    public async Task BadQueryValues_Get400NamingTheParameter(string query, string parameter)
    {
        var response = await ListAsync(query);

        Assert.Equal(400, response.Status);
        Assert.NotNull(response.Json["errors"]![parameter]);
    }

    [Fact]
    public async Task AnUnknownModelOrReport_Gets404_AndAMalformedReportIdGets400()
    {
        Assert.Equal(404, (await ListAsync(name: "no-such-model")).Status);
        Assert.Equal(404, (await ApiResponse.ExecuteAsync(await api.GetReportAsync(model, DriftMonitor.ReportId(T0), CancellationToken.None))).Status);

        var malformed = await ApiResponse.ExecuteAsync(await api.GetReportAsync(model, "latest", CancellationToken.None));
        Assert.Equal(400, malformed.Status);
        Assert.NotNull(malformed.Json["errors"]!["reportId"]);
    }

    [Fact]
    public async Task OneReport_ComesInFull_WithEachFeaturesBins_AndAReportStoredWithoutBinsStillReads()
    {
        var entry = await PassAsync(T0, rows: 400);
        var id = DriftMonitor.ReportId(entry.At);

        var response = await ApiResponse.ExecuteAsync(await api.GetReportAsync(model, id, CancellationToken.None));

        Assert.True(response.Status == 200, response.ToString());
        Assert.Equal((id, model, 1), ((string)response.Json["id"]!, (string)response.Json["model"]!, (int)response.Json["version"]!));
        var report = response.Json["report"]!;
        Assert.Equal(400, (int)report["samples"]!);
        var chargesDrift = report["features"]!.AsArray().Single(f => (string)f!["feature"]! == "monthly_charges")!;
        var charges = chargesDrift["bins"]!;
        Assert.Equal(charges["edges"]!.AsArray().Count + 1, charges["reference"]!.AsArray().Count);

        // Missing values are in no bin: the bins hold the feature's values that were present.
        Assert.Equal((long)chargesDrift["samples"]!, charges["current"]!.AsArray().Sum(c => (long)c!));
        Assert.InRange((long)chargesDrift["samples"]!, 380, 400);
        var contract = report["features"]!.AsArray().Single(f => (string)f!["feature"]! == "contract")!["bins"]!;
        Assert.Equal(contract["categories"]!.AsArray().Count + 1, contract["current"]!.AsArray().Count);
        Assert.NotNull(report["prediction"]!["bins"]);
        Assert.Equal(MonitoringActions.None, (string)response.Json["decision"]!["action"]!);

        // The same report as it was stored before bins existed.
        var blob = storage.Blob(BlobPath.Parse(entry.ReportPath));
        var stored = JsonNode.Parse((await blob.DownloadContentAsync()).Value.Content.ToString())!;
        foreach (var feature in stored["report"]!["features"]!.AsArray())
        {
            feature!.AsObject().Remove("bins");
        }

        stored["report"]!["prediction"]!.AsObject().Remove("bins");
        await blob.UploadAsync(BinaryData.FromString(stored.ToJsonString()), overwrite: true);

        var old = await ApiResponse.ExecuteAsync(await api.GetReportAsync(model, id, CancellationToken.None));
        Assert.Equal(200, old.Status);
        Assert.All(old.Json["report"]!["features"]!.AsArray(), f => Assert.Null(f!["bins"]));
        Assert.Equal(report["features"]!.AsArray().Count, old.Json["report"]!["features"]!.AsArray().Count);
    }
}
