using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.Laptop;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Serving;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Laptop;

/// <summary>Laptop mode's batch-input poller while storage refuses connections.</summary>
public sealed class BlobPollerOutageTests
{
    [Fact]
    public async Task StorageRefused_ThePollerLogsTheFailureAndKeepsRunning()
    {
        await using var azurite = new FaultyAzurite();
        using var storage = azurite.CreateStorage();
        await storage.EnsureCreatedAsync();
        var registry = new ModelRegistry(storage, TimeProvider.System);
        using var server = new ModelServer(registry, new ModelArtifactStore(storage), Options.Create(new ServingOptions()), TimeProvider.System);
        var logger = new RecordingLogger<BlobPoller>();
        var scorer = new BatchScorer(storage, server, TimeProvider.System);
        var watcher = new BlobPoller(
            storage,
            new BlobPollerSettings("batch-input", "batch-input", TimeSpan.FromMilliseconds(200), _ => true, (blob, ct) => scorer.ScoreAsync(blob, ct)),
            TimeProvider.System,
            logger);
        azurite.Set(FaultMode.Refuse);
        await watcher.StartAsync(CancellationToken.None);

        // A poll spends the SDK's retries (about 25 s for blobs), then must survive what they throw.
        var warnings = await Eventually.WaitAsync(
            () => Task.FromResult(logger.Entries.Count(e => e.Level == LogLevel.Warning)), n => n > 0 || watcher.ExecuteTask!.IsCompleted);
        Assert.False(watcher.ExecuteTask!.IsCompleted, "The poller stopped: " + watcher.ExecuteTask.Exception);
        Assert.True(warnings > 0);
        await watcher.StopAsync(CancellationToken.None);
    }
}
