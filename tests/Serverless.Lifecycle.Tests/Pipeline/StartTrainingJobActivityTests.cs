using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Pipeline.Activities;
using Serverless.Lifecycle.Storage;
using Serverless.Lifecycle.Tests.Training;
using Serverless.Lifecycle.Training;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Pipeline;

/// <summary>The job spec the start activity writes: where and how the trainer reports its end, with no secret in it.</summary>
public sealed class StartTrainingJobActivityTests
{
    private static async Task<TrainingJobSpec> StartAsync(TrainingOptions options)
    {
        using var storage = Azurite.CreateStorage();
        var runId = Azurite.UniqueModelName("start");
        var spec = PipelineHostFixture.SampleSpec("start");
        var split = new DatasetSplit($"runs/{runId}/split/train.csv", $"runs/{runId}/split/validation.csv", $"runs/{runId}/split/test.csv", new SplitCounts(1, 1, 1));
        var dataset = new DatasetVersion("churn", "datasets/churn/x.csv", "\"0x1\"", new string('0', 64), 1, DateTimeOffset.UnixEpoch);
        var job = new TrainingJobInput(runId, $"{runId}-train", spec, dataset, split, spec.Trainer.Algorithm, spec.Trainer.Hyperparameters, DateTime.UtcNow.AddHours(1));
        var dispatcher = new RecordingDispatcher();

        await new StartTrainingJobActivity(new TrainingJobStore(storage), dispatcher, Options.Create(options)).RunAsync(null!, new StartTrainingInput(job, 1));

        var started = Assert.Single(dispatcher.Started);
        // job.json, as the trainer reads it, says the same.
        var stored = await new TrainingJobStore(storage).ReadSpecAsync(TrainingJobPaths.Spec(runId, job.JobId), CancellationToken.None);
        Assert.Equal((started.CallbackUrl, started.CallbackAudience), (stored.CallbackUrl, stored.CallbackAudience));
        return stored;
    }

    [Fact]
    public async Task InAzure_TheCallbackIsTheAppsRouteWithTheAudienceOfTheTrainersToken_AndNoKey()
    {
        var job = await StartAsync(new TrainingOptions { CallbackBaseUrl = new Uri("https://func-x.azurewebsites.net"), CallbackAudience = "api://11111111-2222-3333-4444-555555555555" });

        Assert.Equal($"https://func-x.azurewebsites.net/api/runs/{job.RunId}/jobs/{job.JobId}/complete", job.CallbackUrl!.ToString());
        Assert.Empty(job.CallbackUrl.Query);
        Assert.Equal("api://11111111-2222-3333-4444-555555555555", job.CallbackAudience);
    }

    [Fact]
    public async Task WithoutACallbackUrl_ThereIsNoCallbackAndNoAudience()
    {
        var job = await StartAsync(new TrainingOptions { CallbackAudience = "api://app" });

        Assert.Null(job.CallbackUrl);
        Assert.Null(job.CallbackAudience);
    }
}
