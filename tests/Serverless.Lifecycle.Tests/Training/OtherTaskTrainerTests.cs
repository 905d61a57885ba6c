using Serverless.Lifecycle.Evaluation;
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
}
