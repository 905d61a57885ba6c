using System.Globalization;
using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Evaluation;

/// <summary>
/// The gate, like TFX's Evaluator blessing: value thresholds on the candidate, change thresholds
/// against the champion scored on the same test split, both overall and per slice, plus the
/// serving checks the caller measured. Every check is recorded pass or fail with its reason. A
/// metric that was not measured (missing or NaN, on either side) fails its check rather than being
/// skipped, and a champion that could not be scored on this split fails every change check, so the
/// gate never passes by default. Without a champion (the first model of a name) change checks do not
/// apply; nor do they when the champion is unservable (its own files fail their hash check or will
/// not load): it cannot serve, so there is nothing to be better than, one check records why, and the
/// value thresholds and serving checks alone decide, so a good candidate can replace it.
/// </summary>
public static class EvaluationGate
{
    public static GateVerdict Decide(GateSpec gate, IReadOnlyDictionary<string, double> metrics) =>
        Decide(gate, new EvaluatedModel(null, metrics, []), champion: null, serving: []);

    public static GateVerdict Decide(GateSpec gate, EvaluatedModel candidate, EvaluatedModel? champion, IReadOnlyList<GateCheck> serving)
    {
        ArgumentNullException.ThrowIfNull(gate);
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(serving);
        var checks = new List<GateCheck>();
        AddValueChecks(checks, gate.Thresholds, candidate.Metrics, GateScopes.Overall);
        var compared = champion;
        if (champion is { Unservable: true })
        {
            checks.Add(new GateCheck(
                "champion", null, "servable", 0, true,
                $"champion v{champion.Version} cannot be served ({champion.Error}), so there is nothing to compare against: change checks do not apply, and the value thresholds decide",
                GateScopes.Overall, GateCheckKinds.Change));
            compared = null;
        }

        if (compared is not null)
        {
            AddChangeChecks(checks, gate.Changes, candidate.Metrics, compared.Error is null ? compared.Metrics : null, compared, GateScopes.Overall);
        }

        if (gate.Slices is { } slices)
        {
            foreach (var slice in candidate.Slices.Where(s => s.Rows >= slices.MinRows))
            {
                AddValueChecks(checks, slices.Thresholds, slice.Metrics, slice.Scope);
                if (compared is not null)
                {
                    var baseline = compared.Error is null ? compared.Slices.FirstOrDefault(s => s.Scope == slice.Scope)?.Metrics : null;
                    AddChangeChecks(checks, slices.Changes, slice.Metrics, baseline, compared, slice.Scope);
                }
            }
        }

        if (gate.MaxFeatureShare is { } maxShare)
        {
            checks.Add(ShareCheck(candidate.Importance, maxShare));
        }

        checks.AddRange(serving);
        return new GateVerdict(checks.TrueForAll(c => c.Passed), checks, champion?.Version);
    }

    private static void AddValueChecks(List<GateCheck> checks, IReadOnlyList<ThresholdSpec> thresholds, IReadOnlyDictionary<string, double> metrics, string scope)
    {
        foreach (var threshold in thresholds)
        {
            var observed = Measured(metrics, threshold.Metric);
            if (threshold.Min is { } min)
            {
                checks.Add(ValueCheck(threshold.Metric, observed, ">=", min, observed >= min, scope));
            }

            if (threshold.Max is { } max)
            {
                checks.Add(ValueCheck(threshold.Metric, observed, "<=", max, observed <= max, scope));
            }
        }
    }

    private static void AddChangeChecks(
        List<GateCheck> checks, IReadOnlyList<ChangeThresholdSpec> changes, IReadOnlyDictionary<string, double> metrics, IReadOnlyDictionary<string, double>? baseline, EvaluatedModel champion, string scope)
    {
        foreach (var change in changes)
        {
            var higher = (change.Direction ?? (MetricNames.HigherIsBetter(change.Metric) ? MetricDirections.Higher : MetricDirections.Lower)) == MetricDirections.Higher;
            var observed = Measured(metrics, change.Metric);
            var before = baseline is null ? null : Measured(baseline, change.Metric);

            // The improvement in the better direction: positive is better than the champion.
            double? delta = observed - before is { } d ? (higher ? d : -d) : null;
            double? relative = delta is { } x && before is { } b ? (b == 0 ? (x == 0 ? 0 : x * double.PositiveInfinity) : x / Math.Abs(b)) : null;
            if (change.MinDelta is { } minDelta)
            {
                checks.Add(ChangeCheck(change.Metric, observed, before, "improvement >=", minDelta, delta, champion, scope, higher));
            }

            if (change.MinRelativeDelta is { } minRelative)
            {
                checks.Add(ChangeCheck(change.Metric, observed, before, "relative improvement >=", minRelative, relative, champion, scope, higher));
            }
        }
    }

    private static double? Measured(IReadOnlyDictionary<string, double> metrics, string metric) =>
        metrics.TryGetValue(metric, out var value) && !double.IsNaN(value) ? value : null;

    private static GateCheck ValueCheck(string metric, double? observed, string comparison, double threshold, bool passed, string scope)
    {
        var bound = F(threshold);
        var reason = observed is { } value
            ? $"{Prefix(scope)}{metric} = {F(value)} {(passed ? "meets" : "fails")} {comparison} {bound}"
            : $"{Prefix(scope)}{metric} was not measured, so {comparison} {bound} cannot be shown";
        return new GateCheck(metric, observed, comparison, threshold, passed, reason, scope);
    }

    private static GateCheck ChangeCheck(
        string metric, double? observed, double? before, string comparison, double threshold, double? change, EvaluatedModel champion, string scope, bool higher)
    {
        var passed = change >= threshold;
        var better = higher ? "higher" : "lower";
        var versus = $"champion v{champion.Version}";
        var reason = (observed, before, change) switch
        {
            _ when champion.Error is not null => $"{Prefix(scope)}{metric}: {versus} could not be scored ({champion.Error}), so the change cannot be shown",
            (null, _, _) => $"{Prefix(scope)}{metric} of the candidate was not measured, so its change against {versus} cannot be shown",
            (_, null, _) => $"{Prefix(scope)}{metric} of {versus} was not measured, so the change cannot be shown",
            _ => $"{Prefix(scope)}{metric} = {F(observed!.Value)} vs {versus} {F(before!.Value)}: {comparison[..^3]} {F(change!.Value)} ({better} is better) {(passed ? "meets" : "fails")} >= {F(threshold)}",
        };
        return new GateCheck(metric, observed, comparison, threshold, passed, reason, scope, GateCheckKinds.Change, before);
    }

    /// <summary>No single feature may carry more than <paramref name="maxShare"/> of the candidate's importance.</summary>
    private static GateCheck ShareCheck(ImportanceReport? importance, double maxShare)
    {
        const string Metric = "featureShare";
        if (importance is not { Features.Count: > 0 })
        {
            return new GateCheck(Metric, null, "<=", maxShare, false, $"the candidate's feature importance was not measured, so a largest share <= {F(maxShare)} cannot be shown", Kind: GateCheckKinds.Importance);
        }

        var top = importance.Features[0];
        var passed = top.Share <= maxShare;
        var reason = string.Create(
            CultureInfo.InvariantCulture,
            $"largest share of the importance: {top.Feature} carries {ImportanceReport.Percent(top.Share)} ({importance.Metric} drops {top.Drop:G4} when it is shuffled), {(passed ? "meets" : "fails")} <= {ImportanceReport.Percent(maxShare)}");
        return new GateCheck(Metric, top.Share, "<=", maxShare, passed, reason, Kind: GateCheckKinds.Importance);
    }

    private static string Prefix(string scope) => scope == GateScopes.Overall ? "" : $"[{scope}] ";

    private static string F(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
}
