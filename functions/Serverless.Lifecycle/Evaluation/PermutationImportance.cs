using System.Globalization;
using MathNet.Numerics.Statistics;
using Serverless.Lifecycle.Scoring;
using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Evaluation;

/// <summary>
/// One feature's permutation importance: how much worse the metric got, on average, when the
/// feature's values were shuffled across the rows (<see cref="Drop"/>, in the metric's better
/// direction: positive means the model relies on it; near 0 or negative means it does not),
/// the standard deviation of the drops over the shuffles (<see cref="Spread"/>), and the feature's
/// share of the model's importance (<see cref="Share"/>: its positive drop over the sum of them).
/// </summary>
public sealed record FeatureImportance(string Feature, double Drop, double Spread, double Share);

/// <summary>
/// What a version relies on: its permutation feature importance on <see cref="Rows"/> rows of its
/// test split, where <see cref="Metric"/> was <see cref="Baseline"/> before any shuffle. Features
/// come most important first.
/// </summary>
public sealed record ImportanceReport(string Metric, double Baseline, int Rows, int Repeats, IReadOnlyList<FeatureImportance> Features)
{
    /// <summary>The features' summed share among <paramref name="features"/> (0 to 1).</summary>
    public double ShareOf(IEnumerable<string> features)
    {
        var named = features.ToHashSet(StringComparer.Ordinal);
        return Math.Min(1, Features.Where(f => named.Contains(f.Feature)).Sum(f => f.Share));
    }

    /// <summary>"tenure_months 0.21 ± 0.01 (48%), ...": the top features in a line.</summary>
    public string Describe(int top = 3) =>
        string.Join(", ", Features.Take(top).Select(f => string.Create(CultureInfo.InvariantCulture, $"{f.Feature} {f.Drop:G3} ± {f.Spread:G2} ({Percent(f.Share)})")));

    /// <summary>A share as a person reads it: 0.483 is "48.3%".</summary>
    public static string Percent(double share) => (share * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%";
}

/// <summary>
/// Permutation feature importance (Breiman 2001; the method of ML.NET's
/// <c>PermutationFeatureImportance</c> and scikit-learn's <c>permutation_importance</c>) over ONNX
/// Runtime, the engine that serves. ML.NET's own needs an ML.NET prediction transformer, which an
/// imported graph or a deep model does not have, and scikit-learn is not .NET; the method itself is a
/// loop over shuffles, with the metrics from <see cref="TaskMetrics"/> (ML.NET's evaluators), so it is
/// written here once for every algorithm. Deterministic: the sample and every shuffle are seeded, so
/// the same model on the same split gives the same report.
/// </summary>
public static class PermutationImportance
{
    /// <summary>
    /// The importance of each of the spec's features to <paramref name="model"/> on <paramref name="test"/>,
    /// or null when the metric is undefined on it (a binary split with one class). The shuffles are scored
    /// in parallel: a session runs one intra-op thread, and evaluation has the cores to itself.
    /// </summary>
    public static ImportanceReport? Compute(OnnxModel model, LabeledBatch test, ImportanceSpec options, int seed)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(options);
        var spec = model.Spec;
        var metric = options.Metric ?? MetricNames.Importance(spec.Task);
        var sample = test.Rows <= options.MaxRows ? test : test.Subset(SampleRows(test.Rows, options.MaxRows, seed));
        var all = Enumerable.Range(0, sample.Rows).ToList();
        double? Measure(FeatureBatch features) =>
            TaskMetrics.Compute(spec.Task, sample, ModelEvaluator.Predict(model, features), model.Classes, all).TryGetValue(metric, out var value) && double.IsFinite(value) ? value : null;

        if (Measure(sample.Features) is not { } baseline)
        {
            return null;
        }

        var higher = MetricNames.HigherIsBetter(metric);
        var features = spec.Features.Select(f => f.Name).ToList();
        var drops = new double[features.Count][];
        for (var f = 0; f < features.Count; f++)
        {
            drops[f] = new double[options.Repeats];
        }

        Parallel.For(0, features.Count * options.Repeats, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, job =>
        {
            var (f, repeat) = (job / options.Repeats, job % options.Repeats);
            var shuffled = sample.Features.WithShuffled(features[f], Shuffle(sample.Rows, seed, f, repeat));

            // The labels stay, so a metric defined on the sample is defined on every shuffle of it.
            var value = Measure(shuffled) ?? baseline;
            drops[f][repeat] = higher ? baseline - value : value - baseline;
        });

        var means = drops.Select(d => d.Mean()).ToArray();
        var positive = means.Sum(m => Math.Max(m, 0));
        var importance = features
            .Select((name, f) => new FeatureImportance(name, means[f], drops[f].Length > 1 ? drops[f].StandardDeviation() : 0, positive > 0 ? Math.Max(means[f], 0) / positive : 0))
            .OrderByDescending(f => f.Drop)
            .ThenBy(f => f.Feature, StringComparer.Ordinal)
            .ToList();
        return new ImportanceReport(metric, baseline, sample.Rows, options.Repeats, importance);
    }

    /// <summary><paramref name="count"/> of <paramref name="rows"/> row indexes, seeded, in their order in the split.</summary>
    private static int[] SampleRows(int rows, int count, int seed)
    {
        var order = Enumerable.Range(0, rows).ToArray();
#pragma warning disable CA5394 // Seeded System.Random: not for security, only a reproducible sample.
        new Random(seed).Shuffle(order);
#pragma warning restore CA5394
        var picked = order[..count];
        Array.Sort(picked);
        return picked;
    }

    /// <summary>The order of one shuffle of one feature: its own seed, so the shuffles do not depend on how they are scheduled.</summary>
    private static int[] Shuffle(int rows, int seed, int feature, int repeat)
    {
        var order = Enumerable.Range(0, rows).ToArray();
#pragma warning disable CA5394 // Seeded System.Random: not for security, only reproducible shuffles.
        new Random(unchecked((seed * 7919) + (feature * 104_729) + repeat)).Shuffle(order);
#pragma warning restore CA5394
        return order;
    }
}
