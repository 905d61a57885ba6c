using System.IO.Hashing;
using System.Text;
using Serverless.Lifecycle.Data.Profiling;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Monitoring;

public static class DriftStatuses
{
    public const string Drift = "drift";
    public const string NoDrift = "noDrift";
    public const string InsufficientData = "insufficientData";
}

/// <summary>One test on one feature: the statistic, its p-value where it has one, the threshold and the outcome.</summary>
public sealed record DriftTestResult(string Test, double Statistic, double? PValue, double Threshold, bool Drifted);

/// <summary>A feature's drift and production data quality in the window.</summary>
public sealed record FeatureDrift(
    string Feature, string Type, long Samples, double MissingRate, double OutOfRangeRate, double UnseenRate, IReadOnlyList<DriftTestResult> Tests, bool Drifted);

/// <summary>
/// What one monitoring window found against the training profile: every feature's tests and
/// data quality, the predictions' drift against the training labels, and the verdict.
/// </summary>
public sealed record DriftReport(
    string Model,
    int Version,
    DateTimeOffset From,
    DateTimeOffset To,
    long Samples,
    string Status,
    double DriftedShare,
    IReadOnlyList<FeatureDrift> Features,
    FeatureDrift? Prediction,
    string Summary);

/// <summary>
/// The window's data, accumulated one prediction at a time in bounded memory: per numeric feature
/// the counts in the baseline histogram's bins and a uniform sample of up to
/// <see cref="SampleSize"/> values (bottom-k by the hash of request id and row); per categorical
/// feature the counts of the baseline's categories and of everything else; and the predictions.
/// </summary>
public sealed class DriftWindow
{
    public const int SampleSize = 5000;

    private readonly ModelSpec spec;
    private readonly DatasetProfile baseline;
    private readonly Dictionary<string, NumericWindow> numeric = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CategoricalWindow> categorical = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> predicted = new(StringComparer.Ordinal);
    private readonly NumericWindow? predictedValues;

    public DriftWindow(ModelSpec spec, DatasetProfile baseline)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(baseline);
        this.spec = spec;
        this.baseline = baseline;
        foreach (var feature in spec.Features)
        {
            if (!baseline.Features.TryGetValue(feature.Name, out var profile))
            {
                continue;
            }

            if (feature.IsNumeric && profile.Numeric is { } statistics)
            {
                numeric[feature.Name] = new NumericWindow(statistics.Histogram.Edges, feature.Range);
            }
            else if (!feature.IsNumeric && profile.Categorical is { } categories)
            {
                categorical[feature.Name] = new CategoricalWindow(categories.Top.Select(c => c.Value).ToList(), feature.Categories);
            }
        }

        if (spec.Task == ModelTasks.Regression && baseline.Label?.Values is { } target)
        {
            predictedValues = new NumericWindow(target.Histogram.Edges, null);
        }
    }

    public long Count { get; private set; }

    /// <summary>Adds one served prediction; failed scorings and shadow predictions are not production traffic and are skipped.</summary>
    public void Add(PredictionRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (!record.Served || record.Error is not null)
        {
            return;
        }

        Count++;
        var hash = XxHash3.HashToUInt64(Encoding.UTF8.GetBytes($"{record.RequestId}:{record.Row}"));
        foreach (var (name, window) in numeric)
        {
            window.Add(record.Inputs.TryGetValue(name, out var value) ? Number(value) : null, hash);
        }

        foreach (var (name, window) in categorical)
        {
            window.Add(record.Inputs.TryGetValue(name, out var value) ? value?.ToString() : null);
        }

        if (predictedValues is not null)
        {
            predictedValues.Add(record.Value, hash);
        }
        else if (record.Label is { } label)
        {
            predicted[label] = predicted.GetValueOrDefault(label) + 1;
        }
    }

    /// <summary>The report for this window against the baseline, under the spec's drift policy.</summary>
    public DriftReport Report(int version, DateTimeOffset from, DateTimeOffset to)
    {
        var policy = spec.Drift;
        if (Count < policy.MinSamples)
        {
            return new DriftReport(spec.Name, version, from, to, Count, DriftStatuses.InsufficientData, 0, [], null,
                $"{Count} prediction(s) in the window; {policy.MinSamples} are needed to judge drift.");
        }

        var features = new List<FeatureDrift>();
        foreach (var feature in spec.Features)
        {
            if (numeric.TryGetValue(feature.Name, out var n))
            {
                var profile = baseline.Features[feature.Name];
                features.Add(n.Drift(feature.Name, FeatureTypes.Numeric, profile.Numeric!.Histogram.Counts, profile.Sample, profile.Numeric.StandardDeviation, policy.NumericTests, policy, Count));
            }
            else if (categorical.TryGetValue(feature.Name, out var c))
            {
                features.Add(c.Drift(feature.Name, baseline.Features[feature.Name].Categorical!, policy, Count));
            }
        }

        var prediction = PredictionDrift(policy);
        var drifted = features.Count(f => f.Drifted);
        var share = features.Count == 0 ? 0 : drifted / (double)features.Count;
        var status = features.Count > 0 && share >= policy.DriftedShare ? DriftStatuses.Drift : DriftStatuses.NoDrift;
        var names = features.Where(f => f.Drifted).Select(f => f.Feature).ToList();
        var summary = names.Count == 0
            ? $"No feature drifted over {Count} prediction(s)."
            : $"{names.Count} of {features.Count} feature(s) drifted ({string.Join(", ", names)}) over {Count} prediction(s){(status == DriftStatuses.Drift ? "" : string.Create(System.Globalization.CultureInfo.InvariantCulture, $", below the {policy.DriftedShare * 100:0.#}% that makes the dataset drift"))}.";
        return new DriftReport(spec.Name, version, from, to, Count, status, share, features, prediction, summary);
    }

    private FeatureDrift? PredictionDrift(DriftSpec policy)
    {
        if (predictedValues is not null && baseline.Label?.Values is { } target)
        {
            return predictedValues.Drift("prediction", "prediction", target.Histogram.Counts, null, target.StandardDeviation, [DriftTests.Psi], policy, Count);
        }

        if (baseline.Label is not { Classes.Count: > 0 } label || predicted.Count == 0)
        {
            return null;
        }

        var classes = label.Classes.Keys.Union(predicted.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var expected = classes.Select(c => label.Classes.GetValueOrDefault(c)).ToList();
        var actual = classes.Select(c => predicted.GetValueOrDefault(c)).ToList();
        var (_, p, _) = DriftStatistics.ChiSquare(expected, actual);
        var js = DriftStatistics.JensenShannon(expected, actual);
        var threshold = policy.Threshold("prediction", DriftTests.JensenShannon);
        var tests = new List<DriftTestResult> { new(DriftTests.JensenShannon, js, p, threshold, js > threshold) };
        return new FeatureDrift("prediction", "prediction", actual.Sum(), 0, 0, 0, tests, tests[0].Drifted);
    }

    private static double? Number(object? value) => value switch
    {
        null => null,
        double d => d,
        float f => f,
        System.Text.Json.JsonElement { ValueKind: System.Text.Json.JsonValueKind.Number } e => e.GetDouble(),
        System.Text.Json.JsonElement { ValueKind: System.Text.Json.JsonValueKind.String } e when double.TryParse(e.GetString(), System.Globalization.CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => null,
    };

    private sealed class NumericWindow(IReadOnlyList<double> edges, RangeSpec? range)
    {
        private readonly long[] counts = new long[edges.Count + 1];
        // A max-heap on the hash: the root is the largest kept hash, the first to go.
        private readonly PriorityQueue<double, ulong> sample = new(Comparer<ulong>.Create((a, b) => b.CompareTo(a)));
        private long missing;
        private long outOfRange;

        public void Add(double? value, ulong hash)
        {
            if (value is not { } v || double.IsNaN(v))
            {
                missing++;
                return;
            }

            if (v < (range?.Min ?? double.NegativeInfinity) || v > (range?.Max ?? double.PositiveInfinity))
            {
                outOfRange++;
            }

            // Bin k holds (edges[k-1], edges[k]], the first everything up to edges[0], the last everything above.
            var bin = 0;
            while (bin < edges.Count && v > edges[bin])
            {
                bin++;
            }

            counts[bin]++;
            if (sample.Count < SampleSize || (sample.TryPeek(out _, out var largest) && hash < largest))
            {
                sample.Enqueue(v, hash);
                if (sample.Count > SampleSize)
                {
                    sample.Dequeue();
                }
            }
        }

        public FeatureDrift Drift(string name, string type, IReadOnlyList<long> baselineCounts, IReadOnlyList<double>? baselineSample, double spread, IReadOnlyList<string> tests, DriftSpec policy, long total)
        {
            var present = counts.Sum();
            var results = new List<DriftTestResult>();
            var current = sample.UnorderedItems.Select(i => i.Element).ToList();
            foreach (var test in tests)
            {
                var threshold = policy.Threshold(name, test);
                switch (test)
                {
                    case DriftTests.Psi when present > 0:
                        var psi = DriftStatistics.Psi(baselineCounts, counts);
                        results.Add(new(test, psi, null, threshold, psi > threshold));
                        break;
                    case DriftTests.JensenShannon when present > 0:
                        var js = DriftStatistics.JensenShannon(baselineCounts, counts);
                        results.Add(new(test, js, null, threshold, js > threshold));
                        break;
                    case DriftTests.KolmogorovSmirnov when baselineSample is { Count: > 0 } && current.Count > 0:
                        var (d, p) = DriftStatistics.KolmogorovSmirnov(baselineSample, current);
                        results.Add(new(test, d, p, threshold, p < threshold));
                        break;
                    case DriftTests.Wasserstein when baselineSample is { Count: > 0 } && current.Count > 0:
                        var w = DriftStatistics.Wasserstein(baselineSample, current) / (spread > 0 ? spread : 1);
                        results.Add(new(test, w, null, threshold, w > threshold));
                        break;
                }
            }

            return new FeatureDrift(name, type, present, Rate(missing, total), Rate(outOfRange, total), 0, results, results.Exists(r => r.Drifted));
        }
    }

    private sealed class CategoricalWindow(IReadOnlyList<string> top, IReadOnlyList<string>? allowed)
    {
        private readonly Dictionary<string, long> counts = new(StringComparer.Ordinal);
        private long missing;
        private long unseen;

        public void Add(string? value)
        {
            if (string.IsNullOrEmpty(value))
            {
                missing++;
                return;
            }

            if (allowed is not null ? !allowed.Contains(value, StringComparer.Ordinal) : !top.Contains(value, StringComparer.Ordinal))
            {
                unseen++;
            }

            counts[value] = counts.GetValueOrDefault(value) + 1;
        }

        public FeatureDrift Drift(string name, CategoricalStatistics baseline, DriftSpec policy, long total)
        {
            // The baseline's top categories, then everything else as one bin, on both sides.
            var expected = baseline.Top.Select(c => c.Count).Append(baseline.Other).ToList();
            var actual = top.Select(c => counts.GetValueOrDefault(c)).ToList();
            actual.Add(counts.Values.Sum() - actual.Sum());
            var present = actual.Sum();
            var results = new List<DriftTestResult>();
            foreach (var test in present == 0 ? [] : policy.CategoricalTests)
            {
                var threshold = policy.Threshold(name, test);
                switch (test)
                {
                    case DriftTests.Psi:
                        var psi = DriftStatistics.Psi(expected, actual);
                        results.Add(new(test, psi, null, threshold, psi > threshold));
                        break;
                    case DriftTests.JensenShannon:
                        var js = DriftStatistics.JensenShannon(expected, actual);
                        results.Add(new(test, js, null, threshold, js > threshold));
                        break;
                    case DriftTests.ChiSquare:
                        var (chi, p, _) = DriftStatistics.ChiSquare(expected, actual);
                        results.Add(new(test, chi, p, threshold, p < threshold));
                        break;
                }
            }

            return new FeatureDrift(name, FeatureTypes.Categorical, present, Rate(missing, total), 0, Rate(unseen, total), results, results.Exists(r => r.Drifted));
        }
    }

    private static double Rate(long count, long total) => total == 0 ? 0 : count / (double)total;
}
