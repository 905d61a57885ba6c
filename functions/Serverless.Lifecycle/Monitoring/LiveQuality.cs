using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Scoring;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Monitoring;

/// <summary>
/// A version's quality in production: its logged predictions joined with feedback by request id
/// and row, scored with the same evaluators as the gate, and compared with the card's test
/// metrics under the spec's degradation rule.
/// </summary>
public sealed record LiveQuality(int Version, long Labelled, IReadOnlyDictionary<string, double> Live, IReadOnlyDictionary<string, double> Card, string? Metric, double? Drop, bool Degraded, string Summary)
{
    public static LiveQuality Compute(ModelSpec spec, int version, IReadOnlyDictionary<string, double> card, IReadOnlyList<(PredictionRecord Prediction, string Truth)> labelled)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(card);
        ArgumentNullException.ThrowIfNull(labelled);
        var live = labelled.Count == 0 ? new Dictionary<string, double>() : Measure(spec.Task, labelled);
        var rule = spec.Retraining.OnQualityDrop;
        if (rule is null || !live.TryGetValue(rule.Metric, out var value) || !card.TryGetValue(rule.Metric, out var tested))
        {
            return new LiveQuality(version, labelled.Count, live, card, rule?.Metric, null, false, $"{labelled.Count} prediction(s) with feedback.");
        }

        var drop = MetricNames.HigherIsBetter(rule.Metric) ? tested - value : value - tested;
        var judged = labelled.Count >= rule.MinLabelled;
        var degraded = judged && drop > rule.MaxDrop;
        var summary = !judged
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Live {rule.Metric} {value:G4} on {labelled.Count} prediction(s) with feedback; {rule.MinLabelled} are needed to judge it.")
            : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Live {rule.Metric} {value:G4} against {tested:G4} on the test split (worse by {drop:G4}; at most {rule.MaxDrop:G4}) on {labelled.Count} prediction(s) with feedback.");
        return new LiveQuality(version, labelled.Count, live, card, rule.Metric, drop, degraded, summary);
    }

    /// <summary>
    /// The live metrics of predictions with their feedback (<see cref="Metrics"/>), from the gate's
    /// evaluators; a metric undefined on them (R² of a constant target, AUC of one class) is left out.
    /// </summary>
    public static Dictionary<string, double> Measure(string task, IReadOnlyList<(PredictionRecord Prediction, string Truth)> labelled)
    {
        ArgumentNullException.ThrowIfNull(labelled);
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        switch (task)
        {
            case ModelTasks.Multiclass:
                metrics[MetricNames.MicroAccuracy] = labelled.Count(p => p.Prediction.Label == p.Truth) / (double)labelled.Count;
                break;
            case ModelTasks.Regression:
                var truths = labelled.Select(p => (float)double.Parse(p.Truth, System.Globalization.CultureInfo.InvariantCulture)).ToList();
                foreach (var (name, value) in TaskMetrics.Regression(truths, [.. labelled.Select(p => new ModelPrediction(false, float.NaN, (float)(p.Prediction.Value ?? double.NaN)))]))
                {
                    if (double.IsFinite(value))
                    {
                        metrics[name] = value;
                    }
                }

                break;
            default:
                var labels = labelled.Select(p => p.Truth == "1").ToList();
                var predictions = labelled.Select(p =>
                {
                    var probability = (float)(p.Prediction.Probability ?? 0.5);
                    return new ModelPrediction(p.Prediction.Label == "1", probability, MathF.Log(probability / MathF.Max(1 - probability, 1e-7f)));
                }).ToList();
                metrics[MetricNames.Accuracy] = labelled.Count(p => p.Prediction.Label == p.Truth) / (double)labelled.Count;
                if (labels.Contains(true) && labels.Contains(false))
                {
                    var binary = TaskMetrics.Binary(labels, predictions);
                    metrics[MetricNames.Auc] = binary[MetricNames.Auc];
                    metrics[MetricNames.LogLoss] = binary[MetricNames.LogLoss];
                }

                break;
        }

        return metrics;
    }
}
