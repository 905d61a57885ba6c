using Google.Protobuf;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Scoring;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;
using Serverless.Trainer;

namespace Serverless.Lifecycle.Tests.Training;

/// <summary>
/// Multiclass and regression on the churn data: the internet service (which the monthly charges
/// mostly give away), and the churn label read as a number.
/// </summary>
public sealed class OtherTaskTrainerTests
{
    private static ModelSpec For(ModelSpec sample, string task, string label, string algorithm) => sample with
    {
        Task = task,
        Label = label,
        Features = sample.Features.Where(f => f.Name != label && !(label == "internet_service" && f.Name == "contract")).ToList(),
        Trainer = sample.Trainer with { Algorithm = algorithm, Hyperparameters = new Dictionary<string, double>() },
    };

    [Theory]
    [InlineData(ModelTasks.Multiclass, "internet_service", TrainerAlgorithms.LightGbm)]
    [InlineData(ModelTasks.Multiclass, "internet_service", TrainerAlgorithms.Sdca)]
    [InlineData(ModelTasks.Regression, "churned", TrainerAlgorithms.LightGbm)]
    [InlineData(ModelTasks.Regression, "churned", TrainerAlgorithms.FastTree)]
    [InlineData(ModelTasks.Regression, "churned", TrainerAlgorithms.Sdca)]
    public void Train_OnnxMatchesMlNetAndTheSameSeedGivesTheSameModel(string task, string label, string algorithm)
    {
        using var data = new TrainingData(rows: 2000);
        var spec = For(data.Spec, task, label, algorithm);

        var first = TabularTrainer.Train(spec, data.Train, data.Validation);
        var second = TabularTrainer.Train(spec, data.Train, data.Validation);

        Assert.True(first.Parity.Rows > 200, $"parity on {first.Parity.Rows} rows");
        Assert.True(first.Parity.LabelsIdentical);
        Assert.True(first.Parity.MaxProbabilityDifference <= TabularTrainer.ParityTolerance, $"max difference {first.Parity.MaxProbabilityDifference}");
        Assert.Equal(MetricNames.RequiredValidation(task).Order(), first.ValidationMetrics.Keys.Order());
        Assert.All(first.ValidationMetrics.Values, v => Assert.True(double.IsFinite(v)));
        Assert.Equal(first.Onnx, second.Onnx);
    }

    [Fact]
    public void Train_MulticlassLearnsMoreThanTheMajorityClass()
    {
        using var data = new TrainingData(rows: 3000);

        var trained = TabularTrainer.Train(For(data.Spec, ModelTasks.Multiclass, "internet_service", TrainerAlgorithms.LightGbm), data.Train, data.Validation);

        Assert.InRange(trained.ValidationMetrics[MetricNames.MicroAccuracy], 0.0, 1.0);
        Assert.InRange(trained.ValidationMetrics[MetricNames.MacroAccuracy], 0.6, 1.0);
    }

    [Fact]
    public void Train_RegressionExplainsSomeOfTheVariance()
    {
        using var data = new TrainingData(rows: 3000);

        var trained = TabularTrainer.Train(For(data.Spec, ModelTasks.Regression, "churned", TrainerAlgorithms.LightGbm), data.Train, data.Validation);

        Assert.InRange(trained.ValidationMetrics[MetricNames.R2], 0.05, 1.0);
        Assert.True(trained.ValidationMetrics[MetricNames.Rmse] > 0);
    }

    [Fact]
    public void Train_FastTreeMulticlass_FailsNamingTheAlgorithmsThatCan()
    {
        using var data = new TrainingData(rows: 600);

        var error = Assert.Throws<TrainingFailedException>(
            () => TabularTrainer.Train(For(data.Spec, ModelTasks.Multiclass, "internet_service", TrainerAlgorithms.FastTree), data.Train, data.Validation));

        Assert.Contains("'fasttree' does not train multiclass models; use lightgbm or sdca", error.Message, StringComparison.Ordinal);
    }

    private static LabeledBatch ReadTest(TrainingData data, ModelSpec spec)
    {
        using var reader = new StreamReader(data.Test);
        return LabeledBatch.ReadCsv(reader, spec);
    }

    [Fact]
    public void Multiclass_GraphNamesItsClasses_ServingAndEvaluationReadThem()
    {
        using var data = new TrainingData(rows: 2000);
        var spec = For(data.Spec, ModelTasks.Multiclass, "internet_service", TrainerAlgorithms.LightGbm);
        var trained = TabularTrainer.Train(spec, data.Train, data.Validation);
        var test = ReadTest(data, spec);

        using var model = new OnnxModel(trained.Onnx, spec);
        var predictions = model.Predict(test.Features);
        var evaluated = ModelEvaluator.Evaluate(model, test, new SliceGateSpec { Features = ["payment_method"] });

        Assert.Equal(test.Classes.Distinct().Order(), model.Classes.Order());
        Assert.All(predictions, p =>
        {
            Assert.Equal(1.0, p.Probabilities!.Sum(), 4);
            Assert.Equal(model.Classes[p.Probabilities!.ToList().IndexOf(p.Probabilities!.Max())], p.Class);
        });

        // Micro accuracy is the share of rows whose predicted class is the label, counted here.
        var right = predictions.Where((p, i) => p.Class == test.Classes[i]).Count();
        Assert.Equal(right / (double)test.Rows, evaluated.Metrics[MetricNames.MicroAccuracy], 6);
        Assert.InRange(evaluated.Metrics[MetricNames.MacroAccuracy], 0.6, 1.0);
        Assert.Equal(test.Rows, evaluated.Slices.Sum(s => s.Rows));
        Assert.All(evaluated.Slices, s => Assert.True(s.Metrics.ContainsKey(MetricNames.LogLoss), $"slice {s.Value}"));
    }

    [Fact]
    public void Regression_EvaluationMatchesErrorsComputedByHand()
    {
        using var data = new TrainingData(rows: 2000);
        var spec = For(data.Spec, ModelTasks.Regression, "churned", TrainerAlgorithms.LightGbm);
        var trained = TabularTrainer.Train(spec, data.Train, data.Validation);
        var test = ReadTest(data, spec);

        using var model = new OnnxModel(trained.Onnx, spec);
        var predictions = model.Predict(test.Features);
        var evaluated = ModelEvaluator.Evaluate(model, test, null);

        var errors = predictions.Select((p, i) => (double)p.Score - test.Values[i]).ToList();
        Assert.Equal(Math.Sqrt(errors.Average(e => e * e)), evaluated.Metrics[MetricNames.Rmse], 4);
        Assert.Equal(errors.Average(Math.Abs), evaluated.Metrics[MetricNames.Mae], 4);
        Assert.All(predictions, p => Assert.True(float.IsNaN(p.Probability)));
    }

    [Fact]
    public void Multiclass_GraphWithoutItsClasses_OrForAnotherTask_IsRefusedAtLoad()
    {
        using var data = new TrainingData(rows: 800);
        var spec = For(data.Spec, ModelTasks.Multiclass, "internet_service", TrainerAlgorithms.LightGbm);
        var trained = TabularTrainer.Train(spec, data.Train, data.Validation);
        var stripped = Onnx.ModelProto.Parser.ParseFrom(trained.Onnx);
        stripped.MetadataProps.Clear();

        var noClasses = Assert.Throws<InvalidDataException>(() => new OnnxModel(stripped.ToByteArray(), spec));
        var otherTask = Assert.Throws<InvalidDataException>(() => new OnnxModel(trained.Onnx, spec with { Task = ModelTasks.Regression }));

        Assert.Contains(OnnxMetadata.Classes, noClasses.Message, StringComparison.Ordinal);
        Assert.Contains("trained for task 'multiclass'", otherTask.Message, StringComparison.Ordinal);
    }
}
