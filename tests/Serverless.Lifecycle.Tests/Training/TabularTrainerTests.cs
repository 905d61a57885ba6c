using Microsoft.ML;
using Microsoft.ML.Data;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Scoring;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;
using Serverless.Trainer;

namespace Serverless.Lifecycle.Tests.Training;

public sealed class TabularTrainerTests
{
    private static IReadOnlyList<ModelPrediction> ScoreWithOnnx(byte[] onnx, TrainingData data, string csv)
    {
        using var reader = new StreamReader(csv);
        var batch = LabeledBatch.ReadCsv(reader, data.Spec);
        using var model = new OnnxModel(onnx, data.Spec);
        return model.Predict(batch.Features);
    }

    private static ModelSpec WithAlgorithm(ModelSpec spec, string algorithm) => algorithm == spec.Trainer.Algorithm
        ? spec
        : spec with { Trainer = spec.Trainer with { Algorithm = algorithm, Hyperparameters = new Dictionary<string, double>() } };

    [Theory]
    [InlineData(TrainerAlgorithms.LightGbm)]
    [InlineData(TrainerAlgorithms.FastTree)]
    [InlineData(TrainerAlgorithms.Sdca)]
    public void Train_OnnxRuntimeMatchesMlNetOnTheTestSplit(string algorithm)
    {
        using var data = new TrainingData();
        var spec = WithAlgorithm(data.Spec, algorithm);

        var trained = TabularTrainer.Train(spec, data.Train, data.Validation);

        var loader = TabularTrainer.CreateLoader(trained.Context, spec, data.Test, includeLabel: false);
        var scored = trained.Transformer.Transform(loader.Load(data.Test));
        var mlNetProbability = scored.GetColumn<float>(OnnxOutputs.Probability).ToArray();
        var mlNetLabel = scored.GetColumn<bool>(OnnxOutputs.PredictedLabel).ToArray();
        var onnx = ScoreWithOnnx(trained.Onnx, data, data.Test);

        Assert.Equal(mlNetProbability.Length, onnx.Count);
        Assert.True(onnx.Count > 300, $"the test split has only {onnx.Count} rows");
        var maxDifference = onnx.Select((p, i) => Math.Abs(p.Probability - mlNetProbability[i])).Max();
        Assert.True(maxDifference <= 1e-5, $"max probability difference {maxDifference}");
        Assert.Equal(mlNetLabel, onnx.Select(p => p.Label));
        Assert.True(trained.Parity.LabelsIdentical);
        Assert.True(trained.Parity.MaxProbabilityDifference <= 1e-5);
    }

    [Theory]
    [InlineData(TrainerAlgorithms.LightGbm)]
    [InlineData(TrainerAlgorithms.FastTree)]
    [InlineData(TrainerAlgorithms.Sdca)]
    public void Train_LearnsTheSignal(string algorithm)
    {
        using var data = new TrainingData();

        var trained = TabularTrainer.Train(WithAlgorithm(data.Spec, algorithm), data.Train, data.Validation);

        // The generator's signal supports an AUC near 0.8; chance is 0.5.
        Assert.InRange(trained.ValidationMetrics["auc"], 0.7, 0.95);
        Assert.All(MetricNames.RequiredValidation(ModelTasks.Binary), m => Assert.True(double.IsFinite(trained.ValidationMetrics[m]), m));
    }

    [Theory]
    [InlineData(TrainerAlgorithms.LightGbm)]
    [InlineData(TrainerAlgorithms.FastTree)]
    [InlineData(TrainerAlgorithms.Sdca)]
    public void Train_SameDataAndSeed_GivesIdenticalPredictions(string algorithm)
    {
        using var data = new TrainingData(rows: 1500);
        var spec = WithAlgorithm(data.Spec, algorithm);

        var first = TabularTrainer.Train(spec, data.Train, data.Validation);
        var second = TabularTrainer.Train(spec, data.Train, data.Validation);

        Assert.Equal(
            ScoreWithOnnx(first.Onnx, data, data.Test).Select(p => p.Probability),
            ScoreWithOnnx(second.Onnx, data, data.Test).Select(p => p.Probability));
    }

    [Fact]
    public void Train_LightGbmOnDataLargeEnoughForCategoricalSplits_ExportsAModelOnnxRuntimeLoads()
    {
        // At this size LightGBM would use its own categorical splits, which export as branches on
        // feature -1 that ONNX Runtime refuses; the trainer turns them off.
        using var data = new TrainingData(rows: 100_000, seed: 5);

        var trained = TabularTrainer.Train(data.Spec, data.Train, data.Validation);

        Assert.True(trained.Parity.LabelsIdentical);
        Assert.True(trained.Parity.MaxProbabilityDifference <= 1e-5);
        Assert.Equal(ScoreWithOnnx(trained.Onnx, data, data.Test).Count, File.ReadLines(data.Test).Count() - 1);
    }

    [Fact]
    public void Train_SingleClassLabel_FailsWithAClearReason()
    {
        using var data = new TrainingData(rows: 600, transform: csv => string.Join('\n', csv.Split('\n').Select((line, i) => i == 0 || line.Length == 0 ? line : line[..^1] + "0")));

        var ex = Assert.Throws<TrainingFailedException>(() => TabularTrainer.Train(data.Spec, data.Train, data.Validation));
        Assert.Contains("only one class", ex.Message, StringComparison.Ordinal);
    }
}
