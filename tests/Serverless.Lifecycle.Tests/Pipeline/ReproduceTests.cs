using Microsoft.Extensions.DependencyInjection;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Monitoring;
using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;
using Serverless.Lifecycle.Training;
using Serverless.Samples.Churn;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Pipeline;

/// <summary>
/// Reproduce runs on the in-process Durable host: a registered version trained again from what its
/// card recorded gives the same ONNX bytes, and a version whose dataset changed or went away is not
/// reproduced, with the reason named. A reproduce run registers nothing.
/// </summary>
public sealed class ReproduceTests(PipelineHostFixture fixture) : IClassFixture<PipelineHostFixture>
{
    private RunController Runs => fixture.Services.GetRequiredService<RunController>();

    private ModelArtifactStore Artifacts => new(fixture.Storage);

    /// <summary>Trains version 1 of a new model and returns its card.</summary>
    private async Task<ModelCard> TrainAsync(ModelSpec spec)
    {
        var run = await fixture.RunAsync(spec, ChurnDataGenerator.Generate(2000, seed: 31));
        Assert.True(run.Status == "succeeded", $"{run.Status}: {run.Error}");
        return await Artifacts.ReadCardAsync(await fixture.Registry.GetVersionAsync(spec.Name, 1, CancellationToken.None), CancellationToken.None);
    }

    private async Task<RunStatus> ReproduceAsync(ModelCard card)
    {
        var started = await Runs.ReproduceAsync(card, "asked by a test", fixture.Client, CancellationToken.None);
        Assert.Equal((RunTriggers.Reproduce, TriggerOutcomes.Started), (started.Trigger, started.Outcome));
        return await fixture.WaitAsync(started.RunId);
    }

    [Fact]
    public async Task Reproduce_AVersionTrainedHere_GivesTheSameOnnxBytes_AndRegistersNothing()
    {
        var spec = PipelineHostFixture.SampleSpec("repro");
        var card = await TrainAsync(spec);

        var run = await ReproduceAsync(card);

        Assert.True(run.Status == "reproduced", $"{run.Status}: {run.Error}");
        Assert.Equal(["lineage", "validate", "split", "train", "compare"], run.Steps.Select(s => s.Name));
        var reproduction = run.Reproduction!;
        Assert.True(reproduction.Reproduced);
        Assert.Empty(reproduction.Differences);
        Assert.Equal((1, card.OnnxSha256, card.OnnxSha256), (reproduction.Version, reproduction.Sha256, reproduction.RecordedSha256));
        Assert.Equal(card.TrainerVersion, reproduction.TrainerVersion);
        Assert.Equal(RunTriggers.Reproduce, run.Trigger);

        // Nothing registered, nothing moved; the run is listed with the model's runs.
        Assert.Single(await fixture.Registry.ListVersionsAsync(spec.Name, CancellationToken.None));
        Assert.Equal(1, (await fixture.Registry.ResolveAsync(spec.Name, ReservedAliases.Champion, CancellationToken.None)).Version);
        Assert.Contains(await Runs.ListAsync(spec.Name, CancellationToken.None), r => r.RunId == run.RunId && r.Trigger == RunTriggers.Reproduce);
    }

    [Fact]
    public async Task Reproduce_TheBestTrialOfASearch_TrainsItAsOneJob_AndGivesItsBytes()
    {
        var sample = PipelineHostFixture.SampleSpec("repro-search");
        var spec = sample with
        {
            Trainer = sample.Trainer with
            {
                Search = new SearchSpec
                {
                    Strategy = SearchStrategies.Grid,
                    Trials = 2,
                    Space = new Dictionary<string, SearchDimension> { ["numberOfLeaves"] = new() { Values = [4, 12] } },
                },
            },
        };
        var card = await TrainAsync(spec);

        var run = await ReproduceAsync(card);

        Assert.True(run.Status == "reproduced", $"{run.Status}: {run.Error}");
        var trial = Assert.Single(run.Trials!);
        Assert.Equal(card.Hyperparameters, trial.Hyperparameters);
    }

    [Fact]
    public async Task Reproduce_AfterTheDatasetBlobWasChanged_IsNotReproduced_NamingTheDataset()
    {
        var spec = PipelineHostFixture.SampleSpec("repro-changed");
        var card = await TrainAsync(spec);
        await fixture.Storage.Blob(BlobPath.Parse(card.Dataset.Path)).UploadAsync(BinaryData.FromString(ChurnDataGenerator.Generate(2000, seed: 32)), overwrite: true);

        var run = await ReproduceAsync(card);

        Assert.Equal("notReproduced", run.Status);
        var difference = Assert.Single(run.Reproduction!.Differences);
        Assert.Equal(ReproductionDifferences.Dataset, difference.What);
        Assert.Contains($"{card.Dataset.Path} changed since version 1 was trained", difference.Detail, StringComparison.Ordinal);
        Assert.Contains(card.Dataset.Sha256, difference.Detail, StringComparison.Ordinal);
        Assert.Contains("was not reproduced: dataset:", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(run.Steps, s => s.Name == "train");
        Assert.Null(run.Reproduction.Sha256);
        Assert.Single(await fixture.Registry.ListVersionsAsync(spec.Name, CancellationToken.None));
    }

    [Fact]
    public async Task Reproduce_AfterTheDatasetBlobWasDeleted_IsNotReproduced_BeforeAnythingRuns()
    {
        var spec = PipelineHostFixture.SampleSpec("repro-gone");
        var card = await TrainAsync(spec);
        await fixture.Storage.Blob(BlobPath.Parse(card.Dataset.Path)).DeleteAsync();

        var run = await ReproduceAsync(card);

        Assert.Equal("notReproduced", run.Status);
        Assert.Equal(["lineage"], run.Steps.Select(s => s.Name));
        var difference = Assert.Single(run.Reproduction!.Differences);
        Assert.Equal((ReproductionDifferences.Dataset, $"{card.Dataset.Path} (SHA-256 {card.Dataset.Sha256}) is gone"), (difference.What, difference.Detail));
    }

    [Fact]
    public async Task Reproduce_WhenTheCardWasAlteredAfterRegistration_IsNotReproduced_NamingTheSpec()
    {
        var spec = PipelineHostFixture.SampleSpec("repro-card");
        var card = await TrainAsync(spec);
        var version = await fixture.Registry.GetVersionAsync(spec.Name, 1, CancellationToken.None);
        var stored = (await fixture.Storage.Blob(BlobPath.Parse(version.CardPath)).DownloadContentAsync()).Value.Content.ToString();
        await fixture.Storage.Blob(BlobPath.Parse(version.CardPath)).UploadAsync(BinaryData.FromString(stored.Replace("\"seed\":42", "\"seed\":43", StringComparison.Ordinal)), overwrite: true);

        var run = await ReproduceAsync(card);

        Assert.Equal("notReproduced", run.Status);
        Assert.Equal(["lineage"], run.Steps.Select(s => s.Name));
        var difference = Assert.Single(run.Reproduction!.Differences);
        Assert.Equal(ReproductionDifferences.Spec, difference.What);
        Assert.Contains("card.json does not match the SHA-256 the registry recorded", difference.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reproduce_AnImportedVersion_StartsNothing()
    {
        var spec = PipelineHostFixture.SampleSpec("repro-imported");
        var card = await TrainAsync(spec);
        var imported = card with { Imported = new ImportedModel("models/x/import.onnx", new string('a', 64), 10, new string('a', 64), null, "skl2onnx 1.17", "alice", DateTimeOffset.UnixEpoch) };

        var refused = await Assert.ThrowsAsync<NotReproducibleException>(() => Runs.ReproduceAsync(imported, "asked by a test", fixture.Client, CancellationToken.None));

        Assert.Contains("was imported (skl2onnx 1.17, by alice)", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(await Runs.ListAsync(spec.Name, CancellationToken.None), r => r.Trigger == RunTriggers.Reproduce);
    }

    [Fact]
    public void Compare_OtherBytesFromAnotherTrainerVersion_NamesBoth_AndTheSameBytesReproduce()
    {
        var target = new ReproduceTarget(3, new string('a', 64), "1.0.0");
        TrainingJobResult Job(string sha, string trainer) => new(
            "job", TrainingJobState.Succeeded, null, new Dictionary<string, double>(), [new TrainingArtifact(TrainingJobPaths.OnnxFileName, "runs/r/model.onnx", sha, 10)], null, 1, "cpu", trainer);

        var differs = Reproduction.Compare(target, Job(new string('b', 64), "1.1.0"));
        var sameBytes = Reproduction.Compare(target, Job(new string('a', 64), "1.1.0"));

        Assert.False(differs.Reproduced);
        Assert.Equal([ReproductionDifferences.Bytes, ReproductionDifferences.Trainer], differs.Differences.Select(d => d.What));
        Assert.Contains("trained now by trainer 1.1.0; version 3 was trained by 1.0.0", differs.Differences[1].Detail, StringComparison.Ordinal);
        Assert.True(sameBytes.Reproduced);
        Assert.Empty(sameBytes.Differences);
    }
}
