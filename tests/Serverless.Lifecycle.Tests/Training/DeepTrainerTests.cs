using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Scoring;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;
using Serverless.Lifecycle.Training;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Training;

/// <summary>
/// The <c>mlp</c> algorithm, trained by the deep trainer in a Debian 13 root file system
/// (<see cref="DeepTrainerHost"/>) and checked on this host with ONNX Runtime, as serving loads it.
/// </summary>
public sealed class DeepTrainerTests : IDisposable
{
    private readonly LifecycleStorage storage = Azurite.CreateStorage();
    private readonly TrainingData data = new(rows: 1500);

    public void Dispose()
    {
        data.Dispose();
        storage.Dispose();
    }

    private static ModelSpec Mlp(ModelSpec sample, string task, string label, params (string Name, double Value)[] hyperparameters) => sample with
    {
        Name = "deep-" + task,
        Task = task,
        Label = label,
        Features = sample.Features.Where(f => f.Name != label && !(label == "internet_service" && f.Name == "contract")).ToList(),
        Trainer = sample.Trainer with
        {
            Algorithm = TrainerAlgorithms.Mlp,
            Hyperparameters = new Dictionary<string, double> { [MlpHyperparameters.Epochs] = 25 }.Concat(hyperparameters.Select(h => KeyValuePair.Create(h.Name, h.Value)))
                .GroupBy(h => h.Key).ToDictionary(g => g.Key, g => g.Last().Value),
        },
    };

    private Task<DeepJob> TrainAsync(ModelSpec spec, string jobId, string? runId = null, bool useLauncher = true)
    {
        runId ??= Azurite.UniqueModelName("deep");
        return DeepTrainerHost.TrainAsync(storage, spec, File.ReadAllText(data.Train), File.ReadAllText(data.Validation), runId, $"{runId}-{jobId}", useLauncher);
    }

    private LabeledBatch ReadTest(ModelSpec spec)
    {
        using var reader = new StreamReader(data.Test);
        return LabeledBatch.ReadCsv(reader, spec);
    }

    [Theory]
    [InlineData(ModelTasks.Binary, "churned", "auc", 0.7)]
    [InlineData(ModelTasks.Multiclass, "internet_service", "macroAccuracy", 0.45)]
    [InlineData(ModelTasks.Regression, "churned", "r2", 0.05)]
    public async Task Mlp_TrainsEachTaskInTheDebian13RootFs_AndOnnxRuntimeReproducesTorchSharp(string task, string label, string metric, double atLeast)
    {
        var spec = Mlp(data.Spec, task, label);

        var job = await TrainAsync(spec, "train");

        var result = job.Result;
        Assert.True(result.State == TrainingJobState.Succeeded, $"{result.Error}\n{job.Output}");
        Assert.True(result.Parity!.Rows > 100, $"parity on {result.Parity.Rows} rows");
        Assert.True(result.Parity.LabelsIdentical, "labels differ between TorchSharp and ONNX Runtime");
        Assert.True(result.Parity.MaxProbabilityDifference <= 1e-5, $"max difference {result.Parity.MaxProbabilityDifference}");
        Assert.Equal(MetricNames.RequiredValidation(task).Order(), result.ValidationMetrics.Keys.Where(k => MetricNames.RequiredValidation(task).Contains(k)).Order());
        Assert.All(result.ValidationMetrics.Values, v => Assert.True(double.IsFinite(v)));
        Assert.Equal("cpu", result.Device);
        Assert.True(result.TrainingRowsPerSecond > 0);
        Assert.Equal(ModelArtifactStore.Sha256Hex(job.Onnx!), result.Onnx!.Sha256);

        // Served as serving serves it: the same outputs as the tree models, and a model that learned.
        using var model = new OnnxModel(job.Onnx!, spec);
        var test = ReadTest(spec);
        var evaluated = ModelEvaluator.Evaluate(model, test, null);
        Assert.True(evaluated.Metrics[metric] >= atLeast, $"{metric} {evaluated.Metrics[metric]} on the test split");

        var progress = job.Progress!;
        Assert.True(progress.Finished);
        Assert.Equal((progress.Epoch, "cpu", result.JobId), (progress.Epochs.Count, progress.Device, progress.JobId));
        Assert.Equal(progress.Epochs.MinBy(e => e.ValidationLoss)!.Epoch, progress.BestEpoch);
    }

    [Fact]
    public async Task Mlp_SameDataSpecAndSeed_GiveTheSameOnnxBytes_AnotherSeedOthers()
    {
        var spec = Mlp(data.Spec, ModelTasks.Binary, "churned", (MlpHyperparameters.Epochs, 8));
        var runId = Azurite.UniqueModelName("deep-repro");

        var first = await TrainAsync(spec, "a", runId);
        var second = await TrainAsync(spec, "b", runId);
        var reseeded = await TrainAsync(spec with { Trainer = spec.Trainer with { Seed = spec.Trainer.Seed + 1 } }, "c", runId);

        Assert.True(first.Result.State == TrainingJobState.Succeeded, first.Result.Error);
        Assert.Equal(first.Result.Onnx!.Sha256, second.Result.Onnx!.Sha256);
        Assert.Equal(first.Result.ValidationMetrics, second.Result.ValidationMetrics);
        Assert.NotEqual(first.Result.Onnx.Sha256, reseeded.Result.Onnx!.Sha256);
    }

    [Fact]
    public async Task Mlp_EarlyStopping_StopsAfterPatienceEpochsWithoutABetterValidationLoss_AndKeepsTheBest()
    {
        var spec = Mlp(data.Spec, ModelTasks.Binary, "churned",
            (MlpHyperparameters.Epochs, 400), (MlpHyperparameters.Patience, 3), (MlpHyperparameters.LearningRate, 0.05), (MlpHyperparameters.Dropout, 0));

        var job = await TrainAsync(spec, "early");

        Assert.True(job.Result.State == TrainingJobState.Succeeded, job.Result.Error);
        var progress = job.Progress!;
        Assert.True(progress.Epoch < 400, $"ran all {progress.Epoch} epochs");
        Assert.Equal(3, progress.Epoch - progress.BestEpoch);
        Assert.Equal(progress.Epochs.MinBy(e => e.ValidationLoss)!.Epoch, progress.BestEpoch);
        Assert.True(progress.Finished);
    }

    [Fact]
    public async Task Mlp_OnThisHostItself_TrainsOnlyIfItsCppRuntimeIsNewEnough_ElseSaysWhatIsNeeded()
    {
        var spec = Mlp(data.Spec, ModelTasks.Binary, "churned", (MlpHyperparameters.Epochs, 2));
        var hostIsNewEnough = File.ReadLines("/proc/self/maps").Where(l => l.Contains("libstdc++", StringComparison.Ordinal)).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1]).Distinct()
            .Any(path => File.ReadAllText(path, System.Text.Encoding.Latin1).Contains("GLIBCXX_3.4.32", StringComparison.Ordinal));

        var job = await TrainAsync(spec, "host", useLauncher: false);

        if (hostIsNewEnough)
        {
            Assert.Equal(TrainingJobState.Succeeded, job.Result.State);
        }
        else
        {
            Assert.Equal(TrainingJobState.Failed, job.Result.State);
            Assert.Contains("GLIBCXX_3.4.32", job.Result.Error, StringComparison.Ordinal);
            Assert.Contains("Training:DeepTrainerLauncher", job.Result.Error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Mlp_ValidationSplitWithOnlyClassesTheTrainingSplitLacks_FailsSayingTheLossWasNeverFinite()
    {
        var spec = Mlp(data.Spec, ModelTasks.Multiclass, "internet_service", (MlpHyperparameters.Epochs, 5), (MlpHyperparameters.Patience, 2));
        var header = "customer_id,tenure_months,monthly_charges,support_calls,contract,internet_service,payment_method,churned";
        var train = string.Join('\n', [header, .. Enumerable.Range(0, 60).Select(i => $"c{i},{i % 50},{20 + i},{i % 4},one-year,{(i % 2 == 0 ? "dsl" : "fiber")},card,0")]) + "\n";
        var validation = string.Join('\n', [header, .. Enumerable.Range(0, 20).Select(i => $"v{i},{i},{30 + i},1,one-year,none,card,1")]) + "\n";
        var runId = Azurite.UniqueModelName("deep-nan");

        var job = await DeepTrainerHost.TrainAsync(storage, spec, train, validation, runId, $"{runId}-train");

        Assert.Equal(TrainingJobState.Failed, job.Result.State);
        Assert.Contains("validation loss was never a finite number", job.Result.Error, StringComparison.Ordinal);
        Assert.Null(job.Onnx);
    }
}
