using Microsoft.ML;
using Microsoft.ML.Data;
using Serverless.Lifecycle.Serving;

namespace Serverless.Lifecycle.Evaluation;

/// <summary>Binary classification metrics computed by ML.NET's evaluator, keyed by the spec's metric names.</summary>
public static class BinaryMetrics
{
    public static IReadOnlyDictionary<string, double> Compute(IReadOnlyList<bool> labels, IReadOnlyList<ModelPrediction> predictions)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(predictions);
        if (labels.Count != predictions.Count || labels.Count == 0)
        {
            throw new ArgumentException($"Need as many predictions as labels, and at least one; got {predictions.Count} and {labels.Count}.", nameof(predictions));
        }

        var ml = new MLContext(seed: 0);
        var rows = labels.Select((label, i) => new ScoredRow
        {
            Label = label,
            Score = predictions[i].Score,
            Probability = predictions[i].Probability,
            PredictedLabel = predictions[i].Label,
        });
        var data = ml.Data.LoadFromEnumerable(rows);
        var metrics = ml.BinaryClassification.Evaluate(data);
        return new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["auc"] = metrics.AreaUnderRocCurve,
            ["accuracy"] = metrics.Accuracy,
            ["f1"] = metrics.F1Score,
            ["precision"] = metrics.PositivePrecision,
            ["recall"] = metrics.PositiveRecall,
            ["logLoss"] = metrics.LogLoss,
        };
    }

    private sealed class ScoredRow
    {
        public bool Label { get; set; }

        public float Score { get; set; }

        public float Probability { get; set; }

        public bool PredictedLabel { get; set; }
    }
}
