using Azure.Storage.Blobs;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;
using Serverless.Lifecycle.Training;
using Serverless.Tests;
using Serverless.Trainer;

namespace Serverless.Lifecycle.Tests.Training;

/// <summary>The trainer's progress writer: the latest report reaches the blob, and storage that refuses never reaches training.</summary>
public sealed class ProgressWriterTests
{
    private static TrainingProgress Report(int epoch, bool finished = false) =>
        new("ignored", TrainerAlgorithms.Mlp, "cpu", epoch, 10, epoch, finished, 1000, [new EpochProgress(epoch, 0.5, 0.6, MetricNames.Accuracy, 0.7)], DateTimeOffset.UnixEpoch);

    [Fact]
    public async Task ManyReports_ThenFlush_TheBlobHoldsTheLastOneUnderTheJobsId()
    {
        using var storage = Azurite.CreateStorage();
        await storage.EnsureCreatedAsync();
        var path = TrainingJobPaths.Progress(Azurite.UniqueModelName("progress"), "job-1");
        var writer = new ProgressWriter(storage.Blob(path), "job-1");

        for (var epoch = 1; epoch <= 50; epoch++)
        {
            writer.Report(Report(epoch, finished: epoch == 50));
        }

        writer.Flush();

        var stored = (await storage.Blob(path).DownloadContentAsync()).Value.Content.ToObjectFromJson<TrainingProgress>(SpecJson.Options)!;
        Assert.Equal((50, "job-1", true), (stored.Epoch, stored.JobId, stored.Finished));
    }

    [Fact]
    public void StorageThatRefusesEveryWrite_NeverReachesTheTrainingThread()
    {
        // Nothing listens on port 1: every upload fails to connect.
        var blob = new BlobClient(new Uri("http://127.0.0.1:1/devstoreaccount1/runs/x/jobs/y/progress.json"), new BlobClientOptions { Retry = { MaxRetries = 0 } });
        var writer = new ProgressWriter(blob, "y");

        var error = Record.Exception(() =>
        {
            for (var epoch = 1; epoch <= 20; epoch++)
            {
                writer.Report(Report(epoch));
            }

            writer.Flush();
        });

        Assert.Null(error);
    }
}
