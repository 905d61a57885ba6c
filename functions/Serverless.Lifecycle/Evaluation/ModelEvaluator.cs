using System.Diagnostics;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Scoring;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Evaluation;

/// <summary>Scores a model on a labelled test split, overall and per slice.</summary>
public static class ModelEvaluator
{
    /// <summary>Single-row predictions timed for the latency check, after a few warm-up calls.</summary>
    public const int LatencySamples = 200;

    /// <summary>
    /// A candidate on its run's test split: its metrics overall and per slice under the spec's gate,
    /// and its permutation feature importance unless the spec turns that off.
    /// </summary>
    public static EvaluatedModel EvaluateCandidate(OnnxModel model, LabeledBatch test)
    {
        ArgumentNullException.ThrowIfNull(model);
        var spec = model.Spec;
        var evaluated = Evaluate(model, test, spec.Evaluation.Gate.Slices);
        return spec.Evaluation.Importance.Enabled
            ? evaluated with { Importance = PermutationImportance.Compute(model, test, spec.Evaluation.Importance, spec.Trainer.Seed) }
            : evaluated;
    }

    public static EvaluatedModel Evaluate(OnnxModel model, LabeledBatch test, SliceGateSpec? slices, int? version = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(test);
        var predictions = Predict(model, test.Features);
        var metrics = Metrics(model, test, predictions, Enumerable.Range(0, test.Rows).ToList());
        var sliced = new List<SliceMetrics>();
        foreach (var feature in slices?.Features ?? [])
        {
            if (!test.Features.Categorical.TryGetValue(feature, out var values))
            {
                continue;
            }

            foreach (var group in Enumerable.Range(0, values.Length).GroupBy(i => values[i] ?? "", StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                var rows = group.ToList();
                sliced.Add(new SliceMetrics(feature, group.Key, rows.Count, Metrics(model, test, predictions, rows)));
            }
        }

        return new EvaluatedModel(version, metrics, sliced);
    }

    /// <summary>Below this many rows a split is scored in one call.</summary>
    public const int ParallelRows = 20_000;

    /// <summary>
    /// The whole split's predictions, in its order. A large split is cut into one part per core, each
    /// scored by its own call at once: a session runs one intra-op thread (serving's setting), and
    /// evaluation, unlike serving, has the cores to itself while it scores.
    /// </summary>
    public static IReadOnlyList<ModelPrediction> Predict(OnnxModel model, FeatureBatch batch)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batch);
        var parts = Math.Min(Environment.ProcessorCount, batch.Rows / ParallelRows);
        if (parts < 2)
        {
            return model.Predict(batch);
        }

        var size = (batch.Rows + parts - 1) / parts;
        var scored = new IReadOnlyList<ModelPrediction>[parts];
        Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, part =>
        {
            var start = part * size;
            scored[part] = model.Predict(batch.Slice(start, Math.Min(size, batch.Rows - start)));
        });
        return [.. scored.SelectMany(p => p)];
    }

    /// <summary>
    /// The 99th percentile of single-row scoring time in milliseconds, on the split's first rows.
    /// This measures the product's own serving path; it is a gate input, not a test assertion.
    /// </summary>
    public static double SingleRowLatencyP99Ms(OnnxModel model, FeatureBatch batch)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batch);
        var samples = new double[Math.Min(LatencySamples, batch.Rows)];
        for (var i = -10; i < samples.Length; i++)
        {
            var row = batch.Row(Math.Max(i, 0));
            var started = Stopwatch.GetTimestamp();
            model.Predict(row);
            if (i >= 0)
            {
                samples[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }
        }

        return samples.Length == 0 ? 0 : NearestRankP99(samples);
    }

    /// <summary>The 99th percentile by nearest rank (R1, the ⌈0.99·n⌉-th smallest value): a latency that was measured, never interpolated.</summary>
    public static double NearestRankP99(IEnumerable<double> values) =>
        MathNet.Numerics.Statistics.Statistics.QuantileCustom(values, 0.99, MathNet.Numerics.Statistics.QuantileDefinition.R1);

    /// <summary>Metrics of the given rows, leaving out any a metric is undefined for (NaN or infinite): its checks fail as not measured.</summary>
    private static IReadOnlyDictionary<string, double> Metrics(OnnxModel model, LabeledBatch test, IReadOnlyList<ModelPrediction> predictions, List<int> rows) =>
        TaskMetrics.Compute(model.Spec.Task, test, predictions, model.Classes, rows)
            .Where(m => double.IsFinite(m.Value))
            .ToDictionary(m => m.Key, m => m.Value, StringComparer.Ordinal);
}
