using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Scoring;
using Serverless.Lifecycle.Tests.Training;
using Serverless.Samples.Churn;
using Serverless.Trainer;

namespace Serverless.Lifecycle.Tests.Evaluation;

/// <summary>Scoring a large split in a part per core gives the predictions one call gives, row for row in the split's order.</summary>
public sealed class ModelEvaluatorTests
{
    [Fact]
    public void Predict_ALargeSplitInParts_IsOneCallsPredictions_InOrder()
    {
        using var data = new TrainingData(rows: 600);
        using var model = new OnnxModel(TabularTrainer.Train(data.Spec, data.Train, data.Validation).Onnx, data.Spec);
        var rows = (ModelEvaluator.ParallelRows * 2) + 7;
        var batch = LabeledBatch.ReadCsv(new StringReader(ChurnDataGenerator.Generate(rows, seed: 74)), data.Spec).Features;

        var inParts = ModelEvaluator.Predict(model, batch);
        var inOne = model.Predict(batch);

        Assert.Equal(rows, inParts.Count);
        Assert.Equal(inOne, inParts);
    }

    [Fact]
    public void Slice_CopiesTheRowsItNames()
    {
        using var data = new TrainingData(rows: 300);
        var batch = LabeledBatch.ReadCsv(new StringReader(ChurnDataGenerator.Generate(50, seed: 75)), data.Spec).Features;

        var slice = batch.Slice(10, 5);

        Assert.Equal(5, slice.Rows);
        foreach (var (name, values) in batch.Numeric)
        {
            Assert.Equal(values[10..15], slice.Numeric[name]);
        }

        foreach (var (name, values) in batch.Categorical)
        {
            Assert.Equal(values[10..15], slice.Categorical[name]);
        }
    }
}
