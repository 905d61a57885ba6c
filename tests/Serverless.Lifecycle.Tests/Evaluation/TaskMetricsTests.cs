using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Scoring;
using Serverless.Lifecycle.Serving;

namespace Serverless.Lifecycle.Tests.Evaluation;

public sealed class TaskMetricsTests
{
    private static readonly string[] Abc = ["a", "b", "c"];

    private static ModelPrediction P(float probability) => new(probability >= 0.5f, probability, (float)Math.Log(probability / (1 - probability)));

    private static ModelPrediction C(params float[] probabilities)
    {
        var best = Array.IndexOf(probabilities, probabilities.Max());
        return new ModelPrediction(false, probabilities[best], probabilities[best]) { Class = Abc[best], Probabilities = probabilities };
    }

    private static ModelPrediction V(float value) => new(false, float.NaN, value);

    [Fact]
    public void Binary_MatchesHandComputedValues()
    {
        bool[] labels = [true, true, false, false, true, false];
        ModelPrediction[] predictions = [P(0.9f), P(0.4f), P(0.35f), P(0.2f), P(0.8f), P(0.6f)];

        var metrics = TaskMetrics.Binary(labels, predictions);

        // Positives 0.9, 0.4, 0.8 vs negatives 0.35, 0.2, 0.6: 3 + 2 + 3 = 8 of 9 pairs ordered correctly.
        Assert.Equal(8.0 / 9.0, metrics["auc"], 6);
        // Predicted labels: T F F F T T -> 4 of 6 correct; precision 2/3, recall 2/3.
        Assert.Equal(4.0 / 6.0, metrics["accuracy"], 6);
        Assert.Equal(2.0 / 3.0, metrics["precision"], 6);
        Assert.Equal(2.0 / 3.0, metrics["recall"], 6);
        Assert.Equal(2.0 / 3.0, metrics["f1"], 6);
        // ML.NET reports binary log-loss in bits.
        var expected = -(Math.Log2(0.9) + Math.Log2(0.4) + Math.Log2(0.65) + Math.Log2(0.8) + Math.Log2(0.8) + Math.Log2(0.4)) / 6;
        Assert.Equal(expected, metrics["logLoss"], 4);
    }

    [Fact]
    public void Binary_MismatchedLengths_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => TaskMetrics.Binary([true, false], [P(0.5f)]));
    }

    [Fact]
    public void Multiclass_MatchesHandComputedValues()
    {
        string[] labels = ["a", "b", "c", "a", "a"];
        ModelPrediction[] predictions = [C(0.7f, 0.2f, 0.1f), C(0.1f, 0.6f, 0.3f), C(0.5f, 0.2f, 0.3f), C(0.3f, 0.4f, 0.3f), C(0.8f, 0.1f, 0.1f)];

        var metrics = TaskMetrics.Multiclass(labels, predictions, Abc);

        // Right on rows 1, 2 and 5: micro 3/5. Per class: a 2 of 3, b 1 of 1, c 0 of 1: macro (2/3 + 1 + 0) / 3.
        Assert.Equal(0.6, metrics["microAccuracy"], 6);
        Assert.Equal(5.0 / 9.0, metrics["macroAccuracy"], 6);
        // Multiclass log-loss is in nats: the mean of -ln(probability of the true class).
        var expected = -(Math.Log(0.7) + Math.Log(0.6) + Math.Log(0.3) + Math.Log(0.3) + Math.Log(0.8)) / 5;
        Assert.Equal(expected, metrics["logLoss"], 4);
    }

    [Fact]
    public void Multiclass_LabelTheModelNeverSaw_CountsAsAMiss()
    {
        string[] labels = ["a", "d"];
        ModelPrediction[] predictions = [C(0.7f, 0.2f, 0.1f), C(0.1f, 0.6f, 0.3f)];

        var metrics = TaskMetrics.Multiclass(labels, predictions, Abc);

        Assert.Equal(0.5, metrics["microAccuracy"], 6);
        // Probability 0 for the unseen class: far worse than the seen row's -ln(0.7).
        Assert.True(metrics["logLoss"] > 10, $"log-loss {metrics["logLoss"]}");
    }

    [Fact]
    public void Regression_MatchesHandComputedValues()
    {
        float[] labels = [1, 2, 3, 4];
        ModelPrediction[] predictions = [V(1.5f), V(2), V(2.5f), V(5)];

        var metrics = TaskMetrics.Regression(labels, predictions);

        // Errors 0.5, 0, -0.5, 1: MAE 0.5, MSE 0.375; the labels' mean is 2.5, their sum of squares 5, the residuals' 1.5.
        Assert.Equal(0.5, metrics["mae"], 6);
        Assert.Equal(Math.Sqrt(0.375), metrics["rmse"], 6);
        Assert.Equal(1 - (1.5 / 5), metrics["r2"], 6);
    }

    [Theory]
    [InlineData(100, 99)]
    [InlineData(10, 10)]
    [InlineData(1, 1)]
    [InlineData(250, 248)]
    public void NearestRankP99_IsTheCeilingRankValue_NeverAnInterpolation(int count, double expected)
    {
        // 1..count shuffled: the p99 by nearest rank is the ⌈0.99·count⌉-th smallest.
        var values = Enumerable.Range(1, count).Select(v => (double)v).OrderBy(v => (v * 7919) % count).ToList();

        Assert.Equal(expected, Serverless.Lifecycle.Evaluation.ModelEvaluator.NearestRankP99(values));
    }
}
