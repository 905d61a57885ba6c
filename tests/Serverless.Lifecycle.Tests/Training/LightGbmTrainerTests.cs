using Microsoft.ML;
using Microsoft.ML.Data;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Serving;
using Serverless.Trainer;

namespace Serverless.Lifecycle.Tests.Training;

public sealed class LightGbmTrainerTests
{
    private static IReadOnlyList<ModelPrediction> ScoreWithOnnx(byte[] onnx, TrainingData data, string csv)
    {
        using var reader = new StreamReader(csv);
        var batch = LabeledBatch.ReadCsv(reader, data.Spec);
        using var model = new OnnxModel(onnx, data.Spec);
        return model.Predict(batch.Features);
    }

    [Fact]
    public void Train_OnnxRuntimeMatchesMlNetOnTheTestSplit()
    {
        using var data = new TrainingData();

        var trained = LightGbmTrainer.Train(data.Spec, data.Train, data.Validation);

        var loader = LightGbmTrainer.CreateLoader(trained.Context, data.Spec, data.Test, includeLabel: false);
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

    [Fact]
    public void Train_LearnsTheSignal()
    {
        using var data = new TrainingData();

        var trained = LightGbmTrainer.Train(data.Spec, data.Train, data.Validation);

        // The generator's signal supports an AUC near 0.8; chance is 0.5.
        Assert.InRange(trained.ValidationMetrics["auc"], 0.7, 0.95);
    }

    [Fact]
    public void Train_SameDataAndSeed_GivesIdenticalPredictions()
    {
        using var data = new TrainingData(rows: 1500);

        var first = LightGbmTrainer.Train(data.Spec, data.Train, data.Validation);
        var second = LightGbmTrainer.Train(data.Spec, data.Train, data.Validation);

        Assert.Equal(
            ScoreWithOnnx(first.Onnx, data, data.Test).Select(p => p.Probability),
            ScoreWithOnnx(second.Onnx, data, data.Test).Select(p => p.Probability));
    }

    [Fact]
    public void Train_SingleClassLabel_FailsWithAClearReason()
    {
        using var data = new TrainingData(rows: 600, transform: csv => string.Join('\n', csv.Split('\n').Select((line, i) => i == 0 || line.Length == 0 ? line : line[..^1] + "0")));

        var ex = Assert.Throws<TrainingFailedException>(() => LightGbmTrainer.Train(data.Spec, data.Train, data.Validation));
        Assert.Contains("only one class", ex.Message, StringComparison.Ordinal);
    }
}
