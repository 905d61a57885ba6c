using System.Text;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Monitoring;
using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Training;
using Serverless.Samples.Churn;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Pipeline;

public sealed class TrainingPipelineOrchestratorTests(PipelineHostFixture fixture) : IClassFixture<PipelineHostFixture>
{
    private static ModelSpec SampleSpec(string name) => PipelineHostFixture.SampleSpec("x") with { Name = name };

    private Task<RunStatus> RunAsync(ModelSpec spec, string csv) => fixture.RunAsync(spec, csv);

    private async Task<RunStatus> RunAsync(ModelSpec spec, byte[] data, DatasetFormat format) =>
        await fixture.WaitAsync((await fixture.StartRunAsync(spec, data, format)).RunId);

    [Fact]
    public async Task Run_GoodData_RegistersVersionOneAndMakesItChampion()
    {
        var spec = SampleSpec(Azurite.UniqueModelName("ok"));

        var run = await RunAsync(spec, ChurnDataGenerator.Generate(2500, seed: 21));

        Assert.Equal("succeeded", run.Status);
        Assert.Equal(["validate", "split", "train", "evaluate", "register", "promote"], run.Steps.Select(s => s.Name));
        Assert.All(run.Steps, s => Assert.True(s.CompletedAt >= s.StartedAt));
        Assert.Equal(1, run.Version);
        Assert.True(run.Verdict!.Passed);
        Assert.InRange(run.Metrics!["auc"], 0.75, 1.0);

        var champion = await fixture.Registry.ResolveAsync(spec.Name, "champion", CancellationToken.None);
        Assert.Equal(1, champion.Version);
        Assert.Equal(ModelVersionStatus.Ready, champion.Status);
        var card = await new ModelArtifactStore(fixture.Storage).ReadCardAsync(champion, CancellationToken.None);
        Assert.Equal(run.Dataset!.Sha256, card.Dataset.Sha256);
        Assert.Equal(champion.Sha256, card.OnnxSha256);
        Assert.Equal(run.RunId, card.RunId);
        Assert.Equal(RunPaths.Profile(run.RunId).ToString(), run.ProfilePath);
        Assert.Equal(run.ProfilePath, card.ProfilePath);
        Assert.NotNull(await new ModelArtifactStore(fixture.Storage).ReadJsonAsync(card.ProfilePath!, CancellationToken.None));
        Assert.Equal((RunTriggers.Manual, 64, 1), (card.Lineage!.Trigger, card.Lineage.SpecSha256.Length, card.Lineage.Trials.Count));
        Assert.Null(card.Lineage.Champion);
        Assert.Equal(spec.Features.Count, card.Importance!.Features.Count);
        Assert.True(card.Importance.Features[0].Share > 0, card.Importance.Describe());
        Assert.NotEmpty(await new ModelArtifactStore(fixture.Storage).ReadModelAsync(champion, CancellationToken.None));

        // The status check waits 10 minutes in this host: the run went on because the trainer's callback came.
        Assert.Contains("end noticed by callback", run.Steps.Single(s => s.Name == "train").Detail, StringComparison.Ordinal);
        Assert.Equal((TrainingJobState.Succeeded, 1, "callback"), (run.Trials![0].State, run.Trials[0].Starts, run.Trials[0].NoticedBy));
    }

    [Fact]
    public async Task Completion_DeliveredTwiceOrAfterTheRun_IsIgnoredAndOneVersionIsRegistered()
    {
        var spec = SampleSpec(Azurite.UniqueModelName("twice"));
        fixture.Relay.DeliverTwice.Add(spec.Name);

        var run = await RunAsync(spec, ChurnDataGenerator.Generate(2500, seed: 21));

        Assert.Equal("succeeded", run.Status);
        Assert.Single(await fixture.Registry.ListVersionsAsync(spec.Name, CancellationToken.None));
        var deliveries = fixture.Relay.Outcomes.Where(o => o.JobId == $"{run.RunId}-train").Select(o => o.Outcome).ToList();
        Assert.Equal(2, deliveries.Count);
        Assert.Equal(RunSignalOutcome.Accepted, deliveries[0]);

        var late = new TrainingCompletedEvent(run.RunId, $"{run.RunId}-train", TrainingJobState.Succeeded);
        Assert.Equal(RunSignalOutcome.Finished, await fixture.Client.NotifyJobCompletedAsync(late, CancellationToken.None));
        Assert.Equal(RunSignalOutcome.UnknownJob, await fixture.Client.NotifyJobCompletedAsync(late with { JobId = "someone-elses-job" }, CancellationToken.None));
        Assert.Equal(RunSignalOutcome.UnknownRun, await fixture.Client.NotifyJobCompletedAsync(late with { RunId = "no-such-run" }, CancellationToken.None));
        Assert.Single(await fixture.Registry.ListVersionsAsync(spec.Name, CancellationToken.None));
    }

    [Fact]
    public async Task Run_GridSearch_TrainsEveryTrialAndRegistersTheBestByItsMetric()
    {
        var sample = SampleSpec(Azurite.UniqueModelName("grid"));
        var spec = sample with
        {
            Trainer = sample.Trainer with
            {
                Search = new SearchSpec
                {
                    Strategy = SearchStrategies.Grid,
                    Trials = 3,
                    MaxParallel = 2,
                    Metric = "logLoss",
                    Space = new Dictionary<string, SearchDimension>
                    {
                        ["numberOfLeaves"] = new() { Values = [2, 16] },
                        ["numberOfIterations"] = new() { Values = [5, 60] },
                    },
                },
            },
        };

        var run = await RunAsync(spec, ChurnDataGenerator.Generate(1500, seed: 29));

        Assert.Equal("succeeded", run.Status);
        Assert.Equal(3, run.Trials!.Count);
        Assert.All(run.Trials, t => Assert.Equal(TrainingJobState.Succeeded, t.State));
        Assert.Equal(
            [(5.0, 2.0), (5.0, 16.0), (60.0, 2.0)],
            run.Trials.Select(t => (t.Hyperparameters["numberOfIterations"], t.Hyperparameters["numberOfLeaves"])));
        var best = run.Trials.MinBy(t => t.ValidationMetrics["logLoss"])!;
        Assert.Contains($"best of 3 trials by logLoss: {best.JobId}", run.Steps.Single(s => s.Name == "train").Detail, StringComparison.Ordinal);
        var champion = await fixture.Registry.ResolveAsync(spec.Name, "champion", CancellationToken.None);
        var card = await new ModelArtifactStore(fixture.Storage).ReadCardAsync(champion, CancellationToken.None);
        Assert.Equal(best.Hyperparameters, card.Hyperparameters);
    }

    [Fact]
    public async Task Run_SecondDatasetDrifted_IsComparedWithTheFirstAcceptedOneAndWarns()
    {
        var spec = SampleSpec(Azurite.UniqueModelName("skew"));
        var first = await RunAsync(spec, ChurnDataGenerator.Generate(2500, seed: 26));
        Assert.Equal("succeeded", first.Status);

        var drifted = Encoding.UTF8.GetBytes(ChurnDataGenerator.Generate(2500, seed: 27, drifted: true));
        var second = await fixture.WaitAsync((await fixture.StartRunAsync(spec, drifted, runId: $"{spec.Name}-run-2")).RunId);

        Assert.Contains(second.Findings!, f => f.Rule == "skew" && f.Column == "tenure_months" && f.Severity == "warning");
        Assert.NotEqual("rejected", second.Status);
        Assert.Contains("warning(s)", second.Steps[0].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_ParquetDataset_TrainsLikeCsv()
    {
        var spec = SampleSpec(Azurite.UniqueModelName("pq"));
        var parquet = await ParquetFixtures.FromChurnCsvAsync(ChurnDataGenerator.Generate(2500, seed: 21));

        var run = await RunAsync(spec, parquet, DatasetFormat.Parquet);

        Assert.Equal("succeeded", run.Status);
        Assert.EndsWith(".parquet", run.Dataset!.Path, StringComparison.Ordinal);
        Assert.InRange(run.Metrics!["auc"], 0.75, 1.0);
    }

    [Fact]
    public async Task Run_AfterAChampion_IsGatedAgainstItOnTheSameSplitOverallAndPerSlice()
    {
        var sample = SampleSpec(Azurite.UniqueModelName("champ"));
        var first = await RunAsync(sample, ChurnDataGenerator.Generate(2500, seed: 21));
        Assert.Equal("succeeded", first.Status);
        Assert.Null(first.Verdict!.ChampionVersion);

        // Demanding a 0.2 AUC gain over a champion trained on the same kind of data cannot pass.
        var strict = sample with
        {
            Evaluation = sample.Evaluation with
            {
                Gate = sample.Evaluation.Gate with
                {
                    Changes = [new ChangeThresholdSpec("auc", 0.2, null)],
                    Slices = new SliceGateSpec { Features = ["contract"], MinRows = 30, Thresholds = [new ThresholdSpec("auc", 0.5, null)] },
                },
            },
        };
        var refused = await fixture.WaitAsync((await fixture.StartRunAsync(strict, Encoding.UTF8.GetBytes(ChurnDataGenerator.Generate(2500, seed: 22)), runId: $"{sample.Name}-run-2")).RunId);

        Assert.Equal("gateFailed", refused.Status);
        Assert.Equal(1, refused.Verdict!.ChampionVersion);
        var change = Assert.Single(refused.Verdict.Checks, c => c.Kind == GateCheckKinds.Change);
        Assert.False(change.Passed);
        Assert.Equal(await ChampionAucOnTestSplitAsync(sample, refused.RunId), change.Baseline!.Value, 6);
        Assert.Equal(3, refused.Verdict.Checks.Count(c => c.Scope.StartsWith("contract=", StringComparison.Ordinal)));
        Assert.Contains(refused.Verdict.Checks, c => c.Kind == GateCheckKinds.Serving && c.Metric == "latencyP99Ms" && c.Passed);
        Assert.Single(await fixture.Registry.ListVersionsAsync(sample.Name, CancellationToken.None));

        // Allowing 0.05 of regression lets an equivalent candidate through; it becomes champion v2.
        var tolerant = strict with { Evaluation = strict.Evaluation with { Gate = strict.Evaluation.Gate with { Changes = [new ChangeThresholdSpec("auc", -0.05, null)] } } };
        var accepted = await fixture.WaitAsync((await fixture.StartRunAsync(tolerant, Encoding.UTF8.GetBytes(ChurnDataGenerator.Generate(2500, seed: 23)), runId: $"{sample.Name}-run-3")).RunId);

        Assert.Equal("succeeded", accepted.Status);
        Assert.Equal((1, 2), (accepted.Verdict!.ChampionVersion, accepted.Version));
        var champion = await fixture.Registry.ResolveAsync(sample.Name, "champion", CancellationToken.None);
        Assert.Equal(2, champion.Version);
        var lineage = (await new ModelArtifactStore(fixture.Storage).ReadCardAsync(champion, CancellationToken.None)).Lineage!;
        Assert.Equal(1, lineage.Champion!.Version);
        Assert.Equal(3, lineage.Slices.Count);
        var testRows = int.Parse(accepted.Steps.Single(s => s.Name == "split").Detail!.Split("test ")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(testRows, lineage.Slices.Sum(s => s.Rows));
    }

    /// <summary>The champion's AUC on a run's test split, computed here independently of the pipeline.</summary>
    private async Task<double> ChampionAucOnTestSplitAsync(ModelSpec spec, string runId)
    {
        var champion = await fixture.Registry.ResolveAsync(spec.Name, "champion", CancellationToken.None);
        var onnx = await new ModelArtifactStore(fixture.Storage).ReadModelAsync(champion, CancellationToken.None);
        var test = (await fixture.Storage.Blob(RunPaths.Split(runId, "test")).DownloadContentAsync()).Value.Content.ToString();
        var batch = LabeledBatch.ReadCsv(new StringReader(test), spec);
        using var model = new Lifecycle.Scoring.OnnxModel(onnx, spec);
        return TaskMetrics.Binary(batch.Labels, model.Predict(batch.Features))["auc"];
    }

    [Fact]
    public async Task Run_StartedTwiceWithTheSameId_StartsOnce()
    {
        var spec = SampleSpec(Azurite.UniqueModelName("dup"));
        var run = await RunAsync(spec, ChurnDataGenerator.Generate(800, seed: 22));
        var again = new TrainingRunRequest(run.RunId, spec, run.Dataset!, RunTriggers.Manual);

        Assert.False(await fixture.Client.StartRunAsync(again, CancellationToken.None));
        Assert.Single(await fixture.Registry.ListVersionsAsync(spec.Name, CancellationToken.None));
    }

    [Fact]
    public async Task Run_InvalidData_IsRejectedWithEveryProblemAndTrainsNothing()
    {
        var spec = SampleSpec(Azurite.UniqueModelName("bad"));
        var csv = ChurnDataGenerator.Generate(300, seed: 23).Replace("support_calls", "calls", StringComparison.Ordinal);

        var run = await RunAsync(spec, csv);

        Assert.Equal("rejected", run.Status);
        Assert.Equal(["validate"], run.Steps.Select(s => s.Name));
        Assert.Contains(run.Findings!, p => p.Column == "support_calls" && p.Rule == "missing-column");
        Assert.Empty(await fixture.Registry.ListVersionsAsync(spec.Name, CancellationToken.None));
    }

    [Fact]
    public async Task Run_CandidateBelowTheGate_IsNotRegistered()
    {
        var spec = SampleSpec(Azurite.UniqueModelName("gate")) with
        {
            Evaluation = new EvaluationSpec { Gate = new GateSpec { Thresholds = [new ThresholdSpec("auc", 0.99, null)] } },
        };

        var run = await RunAsync(spec, ChurnDataGenerator.Generate(1500, seed: 24));

        Assert.Equal("gateFailed", run.Status);
        var check = Assert.Single(run.Verdict!.Checks, c => !c.Passed);
        Assert.Equal("auc", check.Metric);
        Assert.Equal("failed", run.Steps[^1].Outcome);
        Assert.Empty(await fixture.Registry.ListVersionsAsync(spec.Name, CancellationToken.None));
        Assert.Empty(await fixture.Registry.ListAliasesAsync(spec.Name, CancellationToken.None));
    }

    [Fact]
    public async Task Run_ReadsItsDatasetOnce_ValidationWritesTheSplit_AndTheTrainerGetsTheTrainingLabelsCounted()
    {
        var spec = SampleSpec(Azurite.UniqueModelName("once"));
        var csv = ChurnDataGenerator.Generate(1500, seed: 26);

        var request = await fixture.StartRunAsync(spec, csv);
        var run = await fixture.WaitAsync(request.RunId);

        Assert.Equal("succeeded", run.Status);
        var reads = fixture.HostRequests.Sent.Where(r => r.StartsWith("GET ", StringComparison.Ordinal) && r.Contains(request.Dataset.Path, StringComparison.Ordinal) && !r.Contains("comp=", StringComparison.Ordinal)).ToList();
        Assert.Single(reads);

        // The partitions are the validation pass's, row for row what the splitter alone would write.
        using var train = new StringWriter();
        using var validation = new StringWriter();
        using var test = new StringWriter();
        var counts = DatasetSplitter.Split(new StringReader(csv), spec.Split, train, validation, test);
        var runId = run.RunId;
        foreach (var (partition, expected) in new[] { ("train", train), ("validation", validation), ("test", test) })
        {
            var written = (await fixture.Storage.Blob(RunPaths.Split(runId, partition)).DownloadContentAsync()).Value.Content.ToString();
            Assert.Equal(expected.ToString().ReplaceLineEndings("\n"), written.ReplaceLineEndings("\n"));
        }

        var job = await new TrainingJobStore(fixture.Storage).ReadSpecAsync(TrainingJobPaths.Spec(runId, run.Trials!.Single().JobId), CancellationToken.None);
        var positives = train.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Count(l => l.EndsWith(",1", StringComparison.Ordinal));
        Assert.Equal(new LabelFacts(counts.Train, positives > 0 && positives < counts.Train ? 2 : 1, 0), job!.TrainLabels);
    }

    [Fact]
    public async Task Run_TheJobScoresItsCandidateOnTheTestSplit_AndTheChampionIsScoredWhileItTrains_TheGateOnlyCompares()
    {
        var sample = SampleSpec(Azurite.UniqueModelName("where"));
        var spec = sample with { Evaluation = sample.Evaluation with { Gate = new GateSpec() } };
        var first = await RunAsync(spec, ChurnDataGenerator.Generate(1500, seed: 27));
        Assert.Equal("succeeded", first.Status);

        var run = await fixture.WaitAsync((await fixture.StartRunAsync(spec, Encoding.UTF8.GetBytes(ChurnDataGenerator.Generate(1500, seed: 28)), runId: spec.Name + "-second")).RunId);

        Assert.Equal("succeeded", run.Status);
        var jobId = run.Trials!.Single().JobId;
        var inJob = (await fixture.Storage.Blob(TrainingJobPaths.TestEvaluation(run.RunId, jobId)).DownloadContentAsync()).Value.Content.ToObjectFromJson<TestEvaluation>(SpecJson.Options)!;
        var evaluation = (await fixture.Storage.Blob(RunPaths.Evaluation(run.RunId)).DownloadContentAsync()).Value.Content.ToObjectFromJson<EvaluationResult>(SpecJson.Options)!;
        Assert.Equal(inJob.Candidate.Metrics, evaluation.Metrics);
        Assert.Equal(1, evaluation.Champion!.Version);

        // What the job and the champion's scoring wrote is what scoring the two graphs on the split gives.
        var test = (await fixture.Storage.Blob(RunPaths.Split(run.RunId, "test")).DownloadContentAsync()).Value.Content.ToString();
        var batch = LabeledBatch.ReadCsv(new StringReader(test), spec);
        var candidate = (await fixture.Registry.GetVersionAsync(spec.Name, 2, CancellationToken.None)).ModelPath;
        var champion = (await fixture.Registry.GetVersionAsync(spec.Name, 1, CancellationToken.None)).ModelPath;
        async Task<IReadOnlyDictionary<string, double>> ScoreAsync(string path)
        {
            using var graph = new Serverless.Lifecycle.Scoring.OnnxModel((await fixture.Storage.Blob(Serverless.Lifecycle.Storage.BlobPath.Parse(path)).DownloadContentAsync()).Value.Content.ToArray(), spec);
            return ModelEvaluator.Evaluate(graph, batch, spec.Evaluation.Gate.Slices).Metrics;
        }

        Assert.Equal(await ScoreAsync(candidate), evaluation.Metrics);
        Assert.Equal(await ScoreAsync(champion), evaluation.Champion.Metrics);
        Assert.Equal(batch.Rows, evaluation.TestRows);

        // The champion's graph was read once in the second run: scored during training, not again at the gate.
        var championReads = fixture.HostRequests.Sent.Count(r => r.StartsWith("GET ", StringComparison.Ordinal) && r.EndsWith($"/models/{spec.Name}/1/model.onnx", StringComparison.Ordinal));
        Assert.Equal(1, championReads);
    }

    [Fact]
    public async Task Run_TrainerFails_EndsTrainingFailedWithTheTrainersReason()
    {
        // Validation would block single-class data; this spec only warns, so the trainer is the one to fail.
        var sample = SampleSpec(Azurite.UniqueModelName("fail"));
        var spec = sample with
        {
            Validation = sample.Validation with { Severity = new Dictionary<string, string> { ["class-balance"] = "warning", ["constant"] = "warning" } },
        };
        var csv = string.Join('\n', ChurnDataGenerator.Generate(600, seed: 25).Split('\n').Select((line, i) => i == 0 || line.Length == 0 ? line : line[..^1] + "0"));

        var run = await RunAsync(spec, csv);

        Assert.Equal("trainingFailed", run.Status);
        Assert.Contains("only one class", run.Error, StringComparison.Ordinal);
        Assert.Contains(run.Findings!, f => f.Rule == "class-balance" && f.Severity == "warning");
        Assert.Equal("failed", run.Steps[^1].Outcome);
        Assert.Empty(await fixture.Registry.ListVersionsAsync(spec.Name, CancellationToken.None));
    }
}
