using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Serving;

namespace Serverless.Lifecycle.Tests.Evaluation;

public sealed class BinaryMetricsTests
{
    private static ModelPrediction P(float probability) => new(probability >= 0.5f, probability, (float)Math.Log(probability / (1 - probability)));

    [Fact]
    public void Compute_MatchesHandComputedValues()
    {
        bool[] labels = [true, true, false, false, true, false];
        ModelPrediction[] predictions = [P(0.9f), P(0.4f), P(0.35f), P(0.2f), P(0.8f), P(0.6f)];

        var metrics = BinaryMetrics.Compute(labels, predictions);

        // Positives 0.9, 0.4, 0.8 vs negatives 0.35, 0.2, 0.6: 3 + 2 + 3 = 8 of 9 pairs ordered correctly.
        Assert.Equal(8.0 / 9.0, metrics["auc"], 6);
        // Predicted labels: T F F F T T -> 4 of 6 correct; precision 2/3, recall 2/3.
        Assert.Equal(4.0 / 6.0, metrics["accuracy"], 6);
        Assert.Equal(2.0 / 3.0, metrics["precision"], 6);
        Assert.Equal(2.0 / 3.0, metrics["recall"], 6);
        Assert.Equal(2.0 / 3.0, metrics["f1"], 6);
        // ML.NET reports log-loss in bits.
        var expected = -(Math.Log2(0.9) + Math.Log2(0.4) + Math.Log2(0.65) + Math.Log2(0.8) + Math.Log2(0.8) + Math.Log2(0.4)) / 6;
        Assert.Equal(expected, metrics["logLoss"], 4);
    }

    [Fact]
    public void Compute_MismatchedLengths_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => BinaryMetrics.Compute([true, false], [P(0.5f)]));
    }
}
