using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Scoring;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;
using Serverless.Lifecycle.Tests.Training;
using Serverless.Tests;
using Serverless.Trainer;

namespace Serverless.Lifecycle.Tests.Evaluation;

/// <summary>
/// Permutation feature importance over ONNX Runtime, on <see cref="SignalData"/>, where one feature
/// decides the label and two others are noise: for every task and every algorithm that trains it,
/// the signal is ranked first and carries most of the importance.
/// </summary>
public sealed class PermutationImportanceTests : IDisposable
{
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("importance-");

    public void Dispose() => folder.Delete(recursive: true);

    private static ModelSpec Spec(string task, string algorithm) => SignalData.Spec(task, algorithm);

    /// <summary>Writes train, validation and test CSV files of <paramref name="rows"/> each; returns their paths.</summary>
    private (string Train, string Validation, string Test) WriteData(string task, int rows = 1500)
    {
        string Write(string name, int seed)
        {
            var path = Path.Combine(folder.FullName, $"{task}-{name}.csv");
            File.WriteAllText(path, SignalData.Csv(task, rows, seed));
            return path;
        }

        return (Write("train", 3), Write("validation", 4), Write("test", 5));
    }

    private static LabeledBatch Read(string path, ModelSpec spec)
    {
        using var reader = new StreamReader(path);
        return LabeledBatch.ReadCsv(reader, spec);
    }

    private static void AssertSignalFirst(ImportanceReport? report, string task)
    {
        Assert.NotNull(report);
        Assert.Equal(MetricNames.Importance(task), report.Metric);
        Assert.Equal(["color", "noise", "signal"], report.Features.Select(f => f.Feature).Order(StringComparer.Ordinal));
        var top = report.Features[0];
        Assert.True(top.Feature == "signal", $"ranked first: {report.Describe()}");
        Assert.True(top.Share > 0.8, $"the signal's share is {top.Share:P1}: {report.Describe()}");
        Assert.True(top.Drop > 5 * top.Spread, $"the signal's drop {top.Drop} is not clear of its spread {top.Spread}");
        Assert.All(report.Features.Skip(1), f => Assert.True(f.Drop < top.Drop / 5, $"{f.Feature} drops {f.Drop}, against the signal's {top.Drop}"));
        Assert.Equal(1.0, report.Features.Sum(f => f.Share), 6);
    }

    [Theory]
    [InlineData(ModelTasks.Binary, TrainerAlgorithms.LightGbm)]
    [InlineData(ModelTasks.Binary, TrainerAlgorithms.FastTree)]
    [InlineData(ModelTasks.Binary, TrainerAlgorithms.Sdca)]
    [InlineData(ModelTasks.Multiclass, TrainerAlgorithms.LightGbm)]
    [InlineData(ModelTasks.Multiclass, TrainerAlgorithms.Sdca)]
    [InlineData(ModelTasks.Regression, TrainerAlgorithms.LightGbm)]
    [InlineData(ModelTasks.Regression, TrainerAlgorithms.FastTree)]
    [InlineData(ModelTasks.Regression, TrainerAlgorithms.Sdca)]
    public void Importance_WhereOneFeatureCarriesTheSignal_RanksItFirst(string task, string algorithm)
    {
        var spec = Spec(task, algorithm);
        var (train, validation, test) = WriteData(task);
        var trained = TabularTrainer.Train(spec, train, validation);
        using var model = new OnnxModel(trained.Onnx, spec);

        var report = PermutationImportance.Compute(model, Read(test, spec), new ImportanceSpec(), seed: 1);

        AssertSignalFirst(report, task);
        Assert.Equal((1500, 3), (report!.Rows, report.Repeats));
    }

    [Theory]
    [InlineData(ModelTasks.Binary)]
    [InlineData(ModelTasks.Multiclass)]
    [InlineData(ModelTasks.Regression)]
    public async Task Importance_OfTheDeepModel_RanksTheSignalFirst(string task)
    {
        var spec = Spec(task, TrainerAlgorithms.Mlp);
        var (train, validation, test) = WriteData(task);
        using var storage = Azurite.CreateStorage();
        var runId = Azurite.UniqueModelName("importance");
        var job = await DeepTrainerHost.TrainAsync(storage, spec, File.ReadAllText(train), File.ReadAllText(validation), runId, $"{runId}-train");
        Assert.True(job.Onnx is not null, $"{job.Result.Error}\n{job.Output}");
        using var model = new OnnxModel(job.Onnx, spec);

        AssertSignalFirst(PermutationImportance.Compute(model, Read(test, spec), new ImportanceSpec(), seed: 1), task);
    }

    [Fact]
    public void Importance_SameModelAndSplit_GivesTheSameReport_OnASampleOfMaxRows()
    {
        var spec = Spec(ModelTasks.Binary, TrainerAlgorithms.LightGbm);
        var (train, validation, test) = WriteData(ModelTasks.Binary);
        using var model = new OnnxModel(TabularTrainer.Train(spec, train, validation).Onnx, spec);
        var options = new ImportanceSpec { MaxRows = 600, Repeats = 5 };

        var first = PermutationImportance.Compute(model, Read(test, spec), options, seed: 9)!;
        var second = PermutationImportance.Compute(model, Read(test, spec), options, seed: 9)!;
        var otherSeed = PermutationImportance.Compute(model, Read(test, spec), options, seed: 10)!;

        Assert.Equal((600, 5), (first.Rows, first.Repeats));
        Assert.Equal(first.Features, second.Features);
        Assert.Equal(first.Baseline, second.Baseline);
        Assert.NotEqual(first.Features.Select(f => f.Drop), otherSeed.Features.Select(f => f.Drop));
        Assert.Equal("signal", otherSeed.Features[0].Feature);
    }

    [Fact]
    public void Importance_WithAnotherMetric_MeasuresThatMetricsDrop()
    {
        var spec = Spec(ModelTasks.Binary, TrainerAlgorithms.LightGbm);
        var (train, validation, test) = WriteData(ModelTasks.Binary);
        using var model = new OnnxModel(TabularTrainer.Train(spec, train, validation).Onnx, spec);
        var batch = Read(test, spec);

        var report = PermutationImportance.Compute(model, batch, new ImportanceSpec { Metric = MetricNames.LogLoss }, seed: 1)!;

        // Log-loss is lower-is-better: a shuffle that makes it larger is a positive drop.
        Assert.Equal(MetricNames.LogLoss, report.Metric);
        Assert.Equal(ModelEvaluator.Evaluate(model, batch, null).Metrics[MetricNames.LogLoss], report.Baseline, 9);
        Assert.Equal("signal", report.Features[0].Feature);
        Assert.True(report.Features[0].Drop > 0.3, $"log-loss rose by {report.Features[0].Drop}");
    }

    [Fact]
    public void EvaluateCandidate_MeasuresImportanceUnlessTheSpecTurnsItOff()
    {
        var spec = Spec(ModelTasks.Regression, TrainerAlgorithms.LightGbm);
        var (train, validation, test) = WriteData(ModelTasks.Regression);
        var onnx = TabularTrainer.Train(spec, train, validation).Onnx;
        var off = spec with { Evaluation = spec.Evaluation with { Importance = spec.Evaluation.Importance with { Enabled = false } } };
        using var model = new OnnxModel(onnx, spec);
        using var withoutImportance = new OnnxModel(onnx, off);

        var measured = ModelEvaluator.EvaluateCandidate(model, Read(test, spec));
        var notMeasured = ModelEvaluator.EvaluateCandidate(withoutImportance, Read(test, off));

        Assert.Equal("signal", measured.Importance!.Features[0].Feature);
        Assert.Equal(MetricNames.Rmse, measured.Importance.Metric);
        Assert.Null(notMeasured.Importance);
        Assert.Equal(measured.Metrics, notMeasured.Metrics);
    }

    [Fact]
    public void Importance_OnASplitWithOneClass_IsNotMeasured()
    {
        var spec = Spec(ModelTasks.Binary, TrainerAlgorithms.LightGbm);
        var (train, validation, test) = WriteData(ModelTasks.Binary);
        using var model = new OnnxModel(TabularTrainer.Train(spec, train, validation).Onnx, spec);
        var batch = Read(test, spec);
        var positives = Enumerable.Range(0, batch.Rows).Where(i => batch.Labels[i]).ToList();

        Assert.Null(PermutationImportance.Compute(model, batch.Subset(positives), new ImportanceSpec(), seed: 1));
    }
}
