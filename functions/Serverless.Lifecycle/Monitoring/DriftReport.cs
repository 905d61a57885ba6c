using System.Globalization;
using System.IO.Hashing;
using System.Text;
using Serverless.Lifecycle.Data.Profiling;
using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Statistics;

namespace Serverless.Lifecycle.Monitoring;

public static class DriftStatuses
{
    public const string Drift = "drift";
    public const string NoDrift = "noDrift";
    public const string InsufficientData = "insufficientData";
}

/// <summary>One test on one feature: the statistic, its p-value where it has one, the threshold and the outcome.</summary>
public sealed record DriftTestResult(string Test, double Statistic, double? PValue, double Threshold, bool Drifted);

/// <summary>
/// A feature's drift and production data quality in the window, with the histograms its tests compared
/// (<see cref="Bins"/>; absent from reports written before they were stored).
/// </summary>
public sealed record FeatureDrift(
    string Feature, string Type, long Samples, double MissingRate, double OutOfRangeRate, double UnseenRate, IReadOnlyList<DriftTestResult> Tests, bool Drifted, DriftBins? Bins = null);

/// <summary>
/// The reference's (training data's) counts and the window's, bin by bin, so a page can overlay the two
/// histograms. There is always one more bin than <see cref="Edges"/> or <see cref="Categories"/>: for a
/// numeric value, bin k holds (edges[k-1], edges[k]], the first everything up to edges[0] and the last
/// everything above the last edge (the training profile's bins); for a category, bin k is categories[k]
/// and the last bin every other value (for the predicted classes, which are all listed, it is 0).
/// Missing values are in no bin.
/// </summary>
public sealed record DriftBins(IReadOnlyList<double>? Edges, IReadOnlyList<string>? Categories, IReadOnlyList<long> Reference, IReadOnlyList<long> Current);

/// <summary>
/// What one monitoring window found against the training profile: every feature's tests and
/// data quality, the predictions' drift against the training labels, and the verdict.
/// <see cref="DriftedShare"/> is the share of features that drifted; <see cref="ImportanceDriftedShare"/>
/// the share of the champion's permutation importance they carry (null when its card has none);
/// <see cref="ShareOf"/> says which of the two the policy judged by.
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
    string Summary,
    double? ImportanceDriftedShare = null,
    string ShareOf = DriftShares.Features);

/// <summary>
/// The window's data, accumulated one prediction at a time in bounded memory: per numeric feature
/// the counts in the baseline histogram's bins; per categorical feature the counts of the
/// baseline's categories and of everything else; the predictions; and a uniform sample of up to
/// <see cref="SampleSize"/> rows (bottom-k by the hash of request id and row, so the same rows for
/// every numeric column, as in the training profile) for the two-sample tests.
/// </summary>
public sealed class DriftWindow
{
    public const int SampleSize = 5000;

    private readonly ModelSpec spec;
    private readonly DatasetProfile baseline;
    private readonly List<(string Name, NumericWindow Window)> numeric = [];
    private readonly List<(string Name, CategoricalWindow Window)> categorical = [];
    private readonly Dictionary<string, long> predicted = new(StringComparer.Ordinal);
    private readonly NumericWindow? predictedValues;

    // The sampled rows' numeric values: one column per numeric feature, then the predicted value
    // (regression); NaN where missing. A max-heap on the hash: the root is the first to go.
    private readonly PriorityQueue<double[], ulong> sample = new(Comparer<ulong>.Create((a, b) => b.CompareTo(a)));
    private readonly int columns;
    private InputSchema? slotsSchema;
    private int[] slots = [];

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
                numeric.Add((feature.Name, new NumericWindow(statistics.Histogram.Edges, feature.Range, numeric.Count)));
            }
            else if (!feature.IsNumeric && profile.Categorical is { } categories)
            {
                categorical.Add((feature.Name, new CategoricalWindow(categories.Top.Select(c => c.Value).ToList(), feature.Categories)));
            }
        }

        if (spec.Task == ModelTasks.Regression && baseline.Label?.Values is { } target)
        {
            predictedValues = new NumericWindow(target.Histogram.Edges, null, numeric.Count);
        }

        columns = numeric.Count + 1;
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
        var hash = SampleKey(record.RequestId, record.Row);
        var row = sample.Count < SampleSize || (sample.TryPeek(out _, out var largest) && hash < largest) ? new double[columns] : null;
        if (record.Inputs is LoggedInputs logged)
        {
            // Read back from the log: features by position, found once per schema.
            var positions = Slots(logged.Schema);
            for (var k = 0; k < numeric.Count; k++)
            {
                numeric[k].Window.Add(positions[k] < 0 ? null : logged.NumberAt(positions[k]), row);
            }

            for (var k = 0; k < categorical.Count; k++)
            {
                var slot = positions[numeric.Count + k];
                categorical[k].Window.Add(slot < 0 ? null : logged.ValueAt(slot)?.ToString());
            }
        }
        else
        {
            foreach (var (name, window) in numeric)
            {
                window.Add(record.Inputs.TryGetValue(name, out var value) ? LoggedInputs.AsNumber(value) : null, row);
            }

            foreach (var (name, window) in categorical)
            {
                window.Add(record.Inputs.TryGetValue(name, out var value) ? value?.ToString() : null);
            }
        }

        if (predictedValues is not null)
        {
            predictedValues.Add(record.Value, row);
        }
        else if (record.Label is { } label)
        {
            predicted[label] = predicted.GetValueOrDefault(label) + 1;
        }

        if (row is not null)
        {
            sample.Enqueue(row, hash);
            if (sample.Count > SampleSize)
            {
                sample.Dequeue();
            }
        }
    }

    /// <summary>Where each numeric, then categorical, feature sits in records of <paramref name="schema"/>; -1 where absent.</summary>
    private int[] Slots(InputSchema schema)
    {
        if (!ReferenceEquals(schema, slotsSchema))
        {
            slots = [.. numeric.Select(n => n.Name).Concat(categorical.Select(c => c.Name)).Select(name => schema.Index.GetValueOrDefault(name, -1))];
            slotsSchema = schema;
        }

        return slots;
    }

    /// <summary>
    /// The report for this window against the baseline, under the spec's drift policy; with the
    /// version's <paramref name="importance"/>, also the share of it the drifted features carry, which
    /// decides instead of the share of features when the policy says <c>shareOf: importance</c>.
    /// </summary>
    public DriftReport Report(int version, DateTimeOffset from, DateTimeOffset to, ImportanceReport? importance = null)
    {
        var policy = spec.Drift;
        if (Count < policy.MinSamples)
        {
            return new DriftReport(spec.Name, version, from, to, Count, DriftStatuses.InsufficientData, 0, [], null,
                $"{Count} prediction(s) in the window; {policy.MinSamples} are needed to judge drift.", ShareOf: policy.ShareOf);
        }

        var features = new List<FeatureDrift>();
        foreach (var feature in spec.Features)
        {
            if (numeric.Find(n => n.Name == feature.Name).Window is { } n)
            {
                var profile = baseline.Features[feature.Name];
                features.Add(n.Drift(feature.Name, FeatureTypes.Numeric, profile.Numeric!.Histogram.Counts, profile.Sample, Sampled(n), profile.Numeric.StandardDeviation, policy.NumericTests, policy, Count));
            }
            else if (categorical.Find(c => c.Name == feature.Name).Window is { } c)
            {
                features.Add(c.Drift(feature.Name, baseline.Features[feature.Name].Categorical!, policy, Count));
            }
        }

        var prediction = PredictionDrift(policy);
        var names = features.Where(f => f.Drifted).Select(f => f.Feature).ToList();
        var share = features.Count == 0 ? 0 : names.Count / (double)features.Count;
        double? weighted = importance is null ? null : importance.ShareOf(names);
        var shareOf = policy.ShareOf == DriftShares.Importance && weighted is not null ? DriftShares.Importance : DriftShares.Features;
        var decisive = shareOf == DriftShares.Importance ? weighted!.Value : share;
        var status = features.Count > 0 && decisive >= policy.DriftedShare ? DriftStatuses.Drift : DriftStatuses.NoDrift;
        var carrying = weighted is { } w ? $", carrying {ImportanceReport.Percent(w)} of the model's importance" : "";
        var below = status == DriftStatuses.Drift ? ""
            : shareOf == DriftShares.Importance ? $", below the {ImportanceReport.Percent(policy.DriftedShare)} of the importance that makes the dataset drift"
            : $", below the {ImportanceReport.Percent(policy.DriftedShare)} of features that makes the dataset drift";
        var fallback = policy.ShareOf == DriftShares.Importance && weighted is null
            ? " The champion's card has no feature importance, so the share of features decided."
            : "";
        var summary = names.Count == 0
            ? $"No feature drifted over {Count} prediction(s).{fallback}"
            : $"{names.Count} of {features.Count} feature(s) drifted ({string.Join(", ", names)}){carrying} over {Count} prediction(s){below}.{fallback}";
        return new DriftReport(spec.Name, version, from, to, Count, status, share, features, prediction, summary, weighted, shareOf);
    }

    /// <summary>The sampled rows' values of one column, missing ones left out.</summary>
    private List<double> Sampled(NumericWindow window) =>
        [.. sample.UnorderedItems.Select(i => i.Element[window.Column]).Where(v => !double.IsNaN(v))];

    private FeatureDrift? PredictionDrift(DriftSpec policy)
    {
        if (predictedValues is not null && baseline.Label?.Values is { } target)
        {
            return predictedValues.Drift("prediction", "prediction", target.Histogram.Counts, null, [], target.StandardDeviation, [DriftTests.Psi], policy, Count);
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
        var bins = new DriftBins(null, classes, [.. expected, 0], [.. actual, 0]);
        return new FeatureDrift("prediction", "prediction", actual.Sum(), 0, 0, 0, tests, tests[0].Drifted, bins);
    }

    /// <summary>The row's place in the uniform sample: a hash of request id and row, formatted without allocating.</summary>
    private static ulong SampleKey(string requestId, int row)
    {
        Span<byte> key = stackalloc byte[256];
        return System.Text.Unicode.Utf8.TryWrite(key, CultureInfo.InvariantCulture, $"{requestId}:{row}", out var written)
            ? XxHash3.HashToUInt64(key[..written])
            : XxHash3.HashToUInt64(Encoding.UTF8.GetBytes($"{requestId}:{row}"));
    }

    /// <summary>One numeric column: counts in the baseline's bins, missing and out-of-range counts; its values go to column <paramref name="column"/> of sampled rows.</summary>
    private sealed class NumericWindow(IReadOnlyList<double> edges, RangeSpec? range, int column)
    {
        private readonly double[] bounds = [.. edges];
        private readonly long[] counts = new long[edges.Count + 1];
        private readonly double min = range?.Min ?? double.NegativeInfinity;
        private readonly double max = range?.Max ?? double.PositiveInfinity;
        private long missing;
        private long outOfRange;

        public int Column => column;

        public void Add(double? value, double[]? sampled)
        {
            if (value is not { } v || double.IsNaN(v))
            {
                missing++;
                if (sampled is not null)
                {
                    sampled[column] = double.NaN;
                }

                return;
            }

            if (v < min || v > max)
            {
                outOfRange++;
            }

            // Bin k holds (edges[k-1], edges[k]], the first everything up to edges[0], the last everything above.
            var bin = 0;
            while (bin < bounds.Length && v > bounds[bin])
            {
                bin++;
            }

            counts[bin]++;
            if (sampled is not null)
            {
                sampled[column] = v;
            }
        }

        public FeatureDrift Drift(string name, string type, IReadOnlyList<long> baselineCounts, IReadOnlyList<double>? baselineSample, List<double> current, double spread, IReadOnlyList<string> tests, DriftSpec policy, long total)
        {
            var present = counts.Sum();
            var results = new List<DriftTestResult>();
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

            return new FeatureDrift(name, type, present, Rate(missing, total), Rate(outOfRange, total), 0, results, results.Exists(r => r.Drifted), new DriftBins(bounds, null, baselineCounts, [.. counts]));
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

            return new FeatureDrift(name, FeatureTypes.Categorical, present, Rate(missing, total), 0, Rate(unseen, total), results, results.Exists(r => r.Drifted), new DriftBins(null, top, expected, actual));
        }
    }

    private static double Rate(long count, long total) => total == 0 ? 0 : count / (double)total;
}
