using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Storage;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Serving;

/// <summary>The prediction log's writer while storage refuses connections, then comes back.</summary>
public sealed class PredictionLogOutageTests
{
    // Longer than the SDK's own retries for blobs (5 retries from 0.8 s, doubling: about 25 s), so the writer sees them spent.
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(40);

    private static PredictionRecord Record(string model, int row) => new(
        "req-" + row, row, DateTimeOffset.UtcNow, model, 1, "champion", "predict",
        new Dictionary<string, object?> { ["x"] = 1f }, "1", 0.5, null, 1.0);

    [Fact]
    public async Task StorageRefused_TheWriterSurvives_AndWritesWhatItHeldWhenStorageReturns()
    {
        await using var azurite = new FaultyAzurite();
        using var storage = azurite.CreateStorage();
        var model = Azurite.UniqueModelName("outage");
        await storage.EnsureCreatedAsync();
        var log = new PredictionLog(
            storage,
            Options.Create(new PredictionLogOptions { BufferRecords = 1000, MaxBatchRecords = 100, FlushInterval = TimeSpan.FromMilliseconds(50) }),
            TimeProvider.System,
            NullLogger<PredictionLog>.Instance);
        await log.StartAsync(CancellationToken.None);

        azurite.Set(FaultMode.Refuse);
        log.Write(Enumerable.Range(0, 20).Select(i => Record(model, i)));
        await Task.Delay(Outage);
        Assert.Equal((0L, 0L), (log.Written, log.Dropped));
        Assert.NotNull(log.FailingSince);
        azurite.Set(FaultMode.Pass);
        log.Write(Enumerable.Range(20, 20).Select(i => Record(model, i)));

        var accounted = await Eventually.WaitAsync(() => Task.FromResult(log.Written + log.Dropped), n => n >= 40);
        Assert.False(log.ExecuteTask!.IsFaulted, "The writer faulted: " + log.ExecuteTask.Exception);
        Assert.Equal((40L, 40L, 0L), (accounted, log.Written, log.Dropped));
        var rows = 0;
        await foreach (var blob in storage.Container(StorageNames.PredictionsContainer).GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, model + "/", CancellationToken.None))
        {
            rows += (await storage.Container(StorageNames.PredictionsContainer).GetBlobClient(blob.Name).DownloadContentAsync()).Value.Content.ToString()
                .Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        }

        Assert.Equal(40, rows);
        await log.StopAsync(CancellationToken.None);
    }
}
