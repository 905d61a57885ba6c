using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Storage;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Serving;

public sealed class PredictionLogTests : IDisposable
{
    private readonly LifecycleStorage storage = Azurite.CreateStorage();
    private readonly string model = Azurite.UniqueModelName("log");

    public void Dispose() => storage.Dispose();

    private PredictionLog Create(int buffer = 1000, int maxBatch = 1000) => new(
        storage,
        Options.Create(new PredictionLogOptions { BufferRecords = buffer, MaxBatchRecords = maxBatch, FlushInterval = TimeSpan.FromMilliseconds(50) }),
        TimeProvider.System,
        NullLogger<PredictionLog>.Instance);

    private PredictionRecord Record(int row, DateTimeOffset time) => new(
        "req-1", row, time, model, 3, "champion", "predict",
        new Dictionary<string, object?> { ["tenure_months"] = 2f, ["monthly_charges"] = null, ["contract"] = "one-year" },
        "1", 0.75, null, 1.5);

    private async Task<List<(string Name, List<JsonNode> Lines)>> BlobsAsync()
    {
        await storage.EnsureCreatedAsync(CancellationToken.None);
        var blobs = new List<(string, List<JsonNode>)>();
        var container = storage.Container(StorageNames.PredictionsContainer);
        await foreach (var item in container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, model + "/", CancellationToken.None))
        {
            var text = (await container.GetBlobClient(item.Name).DownloadContentAsync()).Value.Content.ToString();
            blobs.Add((item.Name, text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList()));
        }

        return blobs;
    }

    [Fact]
    public async Task Records_AreWrittenAsJsonLinesPerModelAndHour_AndTheBufferIsFlushedOnStop()
    {
        var log = Create();
        var ten = new DateTimeOffset(2026, 11, 26, 10, 59, 59, TimeSpan.Zero);
        await log.StartAsync(CancellationToken.None);

        log.Write([Record(0, ten), Record(1, ten.AddSeconds(2))]);
        await log.StopAsync(CancellationToken.None);

        var blobs = await BlobsAsync();
        Assert.Equal(2, blobs.Count);
        Assert.StartsWith($"{model}/2026/11/26/10/", blobs[0].Name, StringComparison.Ordinal);
        Assert.StartsWith($"{model}/2026/11/26/11/", blobs[1].Name, StringComparison.Ordinal);
        var line = blobs[0].Lines.Single();
        Assert.Equal(("req-1", 0, 3, "champion", "1", 0.75), ((string)line["requestId"]!, (int)line["row"]!, (int)line["version"]!, (string)line["alias"]!, (string)line["label"]!, (double)line["probability"]!));
        Assert.Equal(JsonValueKind.Null, line["inputs"]!["monthly_charges"]?.GetValueKind() ?? JsonValueKind.Null);
        Assert.Equal("one-year", (string)line["inputs"]!["contract"]!);
        Assert.Equal((2, 0), (log.Written, log.Dropped));
    }

    [Fact]
    public async Task FullBuffer_DropsAndCountsWithoutWaiting_AndKeepsWhatItHolds()
    {
        var log = Create(buffer: 10);
        var now = DateTimeOffset.UtcNow;

        // Not started: nothing drains the buffer, so the eleventh record on finds it full.
        var lost = log.Write(Enumerable.Range(0, 15).Select(i => Record(i, now)));
        await log.StartAsync(CancellationToken.None);
        await log.StopAsync(CancellationToken.None);

        Assert.Equal(5, lost);
        Assert.Equal((10, 5), (log.Written, log.Dropped));
        Assert.Equal(Enumerable.Range(0, 10), (await BlobsAsync()).SelectMany(b => b.Lines).Select(l => (int)l["row"]!).Order());
    }

    [Fact]
    public async Task LargeBursts_AreSplitIntoBatchesOfTheConfiguredSize()
    {
        var log = Create(buffer: 1000, maxBatch: 100);
        var now = new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

        log.Write(Enumerable.Range(0, 250).Select(i => Record(i, now)));
        await log.StartAsync(CancellationToken.None);
        await log.StopAsync(CancellationToken.None);

        var blobs = await BlobsAsync();
        Assert.Equal(250, blobs.Sum(b => b.Lines.Count));
        Assert.All(blobs, b => Assert.InRange(b.Lines.Count, 1, 100));
    }

    [Fact]
    public async Task ReadLatest_ReturnsTheNewestServedPredictionsAcrossHours_OldestFirst()
    {
        var log = Create();
        var start = new DateTimeOffset(2026, 11, 26, 9, 50, 0, TimeSpan.Zero);
        var records = Enumerable.Range(0, 30).Select(i => Record(i, start.AddMinutes(i))).ToList();
        records[29] = records[29] with { Served = false };
        records[28] = records[28] with { Error = "boom", Label = null };
        log.Write(records);
        await log.StartAsync(CancellationToken.None);
        await log.StopAsync(CancellationToken.None);

        var latest = await new PredictionLogReader(storage).ReadLatestAsync(model, 5, start.AddHours(1), TimeSpan.FromDays(1), new UnreadableLines());

        // Rows 23 to 27 (10:13 to 10:17): the newest five served ones; 28 failed and 29 was a shadow.
        Assert.Equal([23, 24, 25, 26, 27], latest.Select(r => r.Row));

        // Twenty reach back across the hour into 09:58.
        var acrossHours = await new PredictionLogReader(storage).ReadLatestAsync(model, 20, start.AddHours(1), TimeSpan.FromDays(1), new UnreadableLines());
        Assert.Equal(Enumerable.Range(8, 20), acrossHours.Select(r => r.Row));
        Assert.Contains(acrossHours, r => r.Time.Hour == 9);
    }
}
