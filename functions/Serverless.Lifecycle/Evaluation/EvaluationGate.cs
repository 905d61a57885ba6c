using System.Globalization;
using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Evaluation;

/// <summary>
/// The value-threshold gate: every threshold of the spec is checked against the candidate's
/// metrics and recorded, pass or fail, with its reason. A metric the evaluation did not
/// produce (or produced as NaN) fails its check rather than being skipped.
/// </summary>
public static class EvaluationGate
{
    public static GateVerdict Decide(GateSpec gate, IReadOnlyDictionary<string, double> metrics)
    {
        ArgumentNullException.ThrowIfNull(gate);
        ArgumentNullException.ThrowIfNull(metrics);
        var checks = new List<GateCheck>();
        foreach (var threshold in gate.Thresholds)
        {
            double? observed = metrics.TryGetValue(threshold.Metric, out var value) && !double.IsNaN(value) ? value : null;
            if (threshold.Min is { } min)
            {
                checks.Add(Check(threshold.Metric, observed, ">=", min, observed >= min));
            }

            if (threshold.Max is { } max)
            {
                checks.Add(Check(threshold.Metric, observed, "<=", max, observed <= max));
            }
        }

        return new GateVerdict(checks.TrueForAll(c => c.Passed), checks);
    }

    private static GateCheck Check(string metric, double? observed, string comparison, double threshold, bool passed)
    {
        var bound = threshold.ToString("G6", CultureInfo.InvariantCulture);
        var reason = observed is { } value
            ? string.Create(CultureInfo.InvariantCulture, $"{metric} = {value:G6} {(passed ? "meets" : "fails")} {comparison} {bound}")
            : $"{metric} was not measured, so {comparison} {bound} cannot be shown";
        return new GateCheck(metric, observed, comparison, threshold, passed, reason);
    }
}
