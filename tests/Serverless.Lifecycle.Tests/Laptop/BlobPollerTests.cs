using Microsoft.Extensions.DependencyInjection;
using Serverless.Laptop;
using Serverless.Lifecycle.Monitoring;
using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Tests.Pipeline;
using Serverless.Samples.Churn;

namespace Serverless.Lifecycle.Tests.Laptop;

/// <summary>Laptop mode's blob poller, the stand-in for Event Grid's blob events, handing new datasets to the new-data trigger.</summary>
public sealed class BlobPollerTests(PipelineHostFixture fixture) : IClassFixture<PipelineHostFixture>
{
    /// <summary>A clock a minute ahead, so a blob written just now has settled.</summary>
    private sealed class AMinuteLater : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow().AddMinutes(1);
    }

    [Theory]
    [InlineData(2, true)]
    [InlineData(BlobPoller.MaxAttempts + 2, false)]
    public async Task NewDataset_AFailedStartIsRetriedOnLaterPolls_ThenGivenUp(int failures, bool starts)
    {
        var spec = PipelineHostFixture.SampleSpec("watched");
        await fixture.Registry.PutSpecAsync(spec, "test", CancellationToken.None);
        var pipeline = new FlakyPipeline(fixture.Client, failures);
        var options = new MonitoringOptions { Enabled = true };
        options.ModelPrefixes.Add(spec.Name);
        var trigger = fixture.Services.GetRequiredService<NewDataTrigger>();
        var watcher = new BlobPoller(
            fixture.Storage,
            new BlobPollerSettings("datasets", "dataset-watcher", TimeSpan.FromSeconds(1), blob => options.Covers(blob.Split('/')[0]), (blob, ct) => trigger.OnBlobAsync(blob, pipeline, ct)),
            new AMinuteLater(),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<BlobPoller>.Instance);
        await watcher.PollAsync(CancellationToken.None);

        var blob = fixture.Storage.Blob(new Lifecycle.Storage.BlobPath("datasets", $"{spec.Name}/drop.csv"));
        var etag = (await blob.UploadAsync(BinaryData.FromString(ChurnDataGenerator.Generate(2500, seed: 25)), overwrite: true)).Value.ETag.ToString();
        var runId = $"{spec.Name}-data-{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"datasets/{spec.Name}/drop.csv|{etag}")))[..24]}";
        for (var poll = 0; poll < BlobPoller.MaxAttempts + 3; poll++)
        {
            await watcher.PollAsync(CancellationToken.None);
        }

        // Every failed poll tried once; the one that succeeded started the run, and no poll after it tried again.
        Assert.Equal(Math.Min(failures + 1, BlobPoller.MaxAttempts), pipeline.Starts);
        var run = await fixture.Client.GetRunAsync(runId, CancellationToken.None);
        Assert.Equal(starts, run is not null);
        if (run is not null)
        {
            Assert.Equal(("succeeded", NewDataTrigger.Trigger), ((await fixture.WaitAsync(runId)).Status, run.Trigger));
        }
    }
}
