using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Pipeline.Activities;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;
using Serverless.Lifecycle.Tests.Serving;
using Serverless.Lifecycle.Training;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Pipeline;

/// <summary>
/// The evaluate step on Azurite with a real trained model: it takes the candidate's test scores
/// from the built-in trainer's job and the champion scored while the job trained (while it is still
/// the champion), and scores itself what it cannot take: a trainer of the model's own is not taken
/// at its word, and a champion that moved is scored again. The scores handed in here are made up,
/// so whether the step used them or scored shows in the result.
/// </summary>
public sealed class EvaluateWhereTheDataIsTests : IAsyncLifetime
{
    private const double MadeUpAuc = 0.123;
    private readonly LifecycleStorage storage = Azurite.CreateStorage();
    private readonly string model = Azurite.UniqueModelName("where");
    private ModelRegistry registry = null!;
    private TrainedSample sample = null!;

    public async Task InitializeAsync()
    {
        registry = new ModelRegistry(storage, TimeProvider.System);
        sample = await ServedVersions.TrainSampleAsync(registry, model);
    }

    public Task DisposeAsync()
    {
        storage.Dispose();
        return Task.CompletedTask;
    }

    private static EvaluatedModel MadeUp(int? version) => new(version, new Dictionary<string, double> { [MetricNames.Auc] = MadeUpAuc }, []);

    /// <summary>A run's candidate as its job left it: the ONNX artifact, the test split, and (when given) the job's own test scores.</summary>
    private async Task<EvaluateInput> CandidateAsync(ModelSpec spec, TestEvaluation? scoredInJob, ChampionScore? champion = null)
    {
        var runId = $"{model}-{Guid.NewGuid():N}"[..40];
        const string jobId = "train";
        var onnx = TrainingJobPaths.Onnx(runId, jobId);
        await storage.Blob(onnx).UploadAsync(new BinaryData(sample.Onnx), overwrite: true);
        var test = RunPaths.Split(runId, "test");
        await storage.Blob(test).UploadAsync(BinaryData.FromString(sample.TestCsv), overwrite: true);
        if (scoredInJob is not null)
        {
            await storage.Blob(TrainingJobPaths.TestEvaluation(runId, jobId)).UploadAsync(BinaryData.FromObjectAsJson(scoredInJob, SpecJson.Options), overwrite: true);
        }

        var artifact = new TrainingArtifact(TrainingJobPaths.OnnxFileName, onnx.ToString(), ModelArtifactStore.Sha256Hex(sample.Onnx), sample.Onnx.Length);
        var job = new TrainingJobResult(jobId, TrainingJobState.Succeeded, null, new Dictionary<string, double>(), [artifact], null, 1, "test", "test");
        var split = new DatasetSplit(RunPaths.Split(runId, "train").ToString(), RunPaths.Split(runId, "validation").ToString(), test.ToString(), new Serverless.Lifecycle.Data.SplitCounts(1, 1, 1));
        return new EvaluateInput(runId, spec, job, split, champion);
    }

    private Task<EvaluationResult> EvaluateAsync(EvaluateInput input) =>
        new EvaluateModelActivity(storage, new ModelArtifactStore(storage), registry).RunAsync(null!, input);

    [Fact]
    public async Task TheBuiltInTrainersTestScores_AreTakenAsTheCandidates()
    {
        var input = await CandidateAsync(sample.Spec, new TestEvaluation(777, MadeUp(null)));

        var result = await EvaluateAsync(input);

        Assert.Equal(MadeUpAuc, result.Metrics[MetricNames.Auc]);
        Assert.Equal(777, result.TestRows);

        // The serving checks still ran on the graph itself.
        Assert.Contains(result.Verdict.Checks, c => c.Metric == "latencyP99Ms" && c.Observed > 0);
    }

    [Fact]
    public async Task ATrainerOfTheModelsOwn_IsNotTakenAtItsWord_TheCandidateIsScoredHere()
    {
        var custom = sample.Spec with { Trainer = sample.Spec.Trainer with { LocalCommand = ["/usr/bin/python3", "train.py"] } };
        var input = await CandidateAsync(custom, new TestEvaluation(777, MadeUp(null)));

        var result = await EvaluateAsync(input);

        var rows = sample.TestCsv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length - 1;
        Assert.Equal(rows, result.TestRows);
        Assert.NotEqual(MadeUpAuc, result.Metrics[MetricNames.Auc]);
        Assert.InRange(result.Metrics[MetricNames.Auc], 0.6, 1.0);
    }

    [Fact]
    public async Task TheChampionScoredWhileTheJobTrained_IsTaken_WhileItIsStillTheChampion_AndScoredAgainOnceItMoved()
    {
        var v1 = await ServedVersions.RegisterAsync(storage, registry, sample.Spec, sample.Onnx);
        var v2 = await ServedVersions.RegisterAsync(storage, registry, sample.Spec, sample.Onnx);
        await registry.SetAliasAsync(model, ReservedAliases.Champion, v1.Version, null, "test", null, CancellationToken.None);
        var scoredDuringTraining = new ChampionScore(MadeUp(v1.Version));

        var still = await EvaluateAsync(await CandidateAsync(sample.Spec, null, scoredDuringTraining));
        await registry.SetAliasAsync(model, ReservedAliases.Champion, v2.Version, null, "test", null, CancellationToken.None);
        var moved = await EvaluateAsync(await CandidateAsync(sample.Spec, null, scoredDuringTraining));

        Assert.Equal((v1.Version, MadeUpAuc), (still.Champion!.Version, still.Champion.Metrics[MetricNames.Auc]));
        Assert.Equal(v2.Version, moved.Champion!.Version);

        // Scored here: the same graph as the candidate, on the same split, scores the same.
        Assert.Equal(moved.Metrics[MetricNames.Auc], moved.Champion.Metrics[MetricNames.Auc]);
    }

    [Fact]
    public async Task ScoreChampionActivity_ScoresTheChampionAsTheEvaluateStepWould()
    {
        var v1 = await ServedVersions.RegisterAsync(storage, registry, sample.Spec, sample.Onnx);
        await registry.SetAliasAsync(model, ReservedAliases.Champion, v1.Version, null, "test", null, CancellationToken.None);
        var input = await CandidateAsync(sample.Spec, null);

        var score = await new ScoreChampionActivity(storage, new ModelArtifactStore(storage), registry).RunAsync(null!, new ScoreChampionInput(input.RunId, sample.Spec, input.Split.TestPath));
        var evaluated = await EvaluateAsync(input);

        Assert.Equal(v1.Version, score.Champion!.Version);
        Assert.Equal(evaluated.Champion!.Metrics, score.Champion.Metrics);
    }
}
