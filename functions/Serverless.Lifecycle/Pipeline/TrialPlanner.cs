using System.Globalization;
using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Training;

namespace Serverless.Lifecycle.Pipeline;

/// <summary>One training job a run will start: the single job, or one trial of a search.</summary>
public sealed record TrialPlan(string JobId, string Algorithm, IReadOnlyDictionary<string, double> Hyperparameters);

/// <summary>
/// Turns the spec's trainer section into the run's jobs (pure and seeded, so an orchestration
/// replays it identically) and picks the best finished trial.
/// </summary>
public static class TrialPlanner
{
    /// <summary>What a planned trial did, from its job's report.</summary>
    public static TrialRecord Record(TrialPlan plan, TrainingJobReport report)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(report);
        var result = report.Result;
        return new(plan.JobId, plan.Algorithm, plan.Hyperparameters, result.State, result.ValidationMetrics, result.Error, report.Starts, report.NoticedBy, result.DurationSeconds, result.PhaseSeconds);
    }

    public static IReadOnlyList<TrialPlan> Plan(string runId, ModelSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var trainer = spec.Trainer;
        if (trainer.Search is not { } search)
        {
            return [new TrialPlan($"{runId}-train", trainer.Algorithm, trainer.Hyperparameters)];
        }

        var names = search.Space.Keys.Order(StringComparer.Ordinal).ToArray();
        var points = search.Strategy == SearchStrategies.Grid
            ? Grid(names, search).Take(search.Trials)
            : Random(names, search, trainer.Seed, trainer.Algorithm);
        return points
            .Select((point, i) =>
            {
                var hyperparameters = new Dictionary<string, double>(trainer.Hyperparameters, StringComparer.Ordinal);
                foreach (var (name, value) in point)
                {
                    hyperparameters[name] = value;
                }

                return new TrialPlan($"{runId}-trial-{(i + 1).ToString(CultureInfo.InvariantCulture)}", trainer.Algorithm, hyperparameters);
            })
            .ToList();
    }

    /// <summary>The validation metric that ranks trials.</summary>
    public static string Metric(ModelSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.Trainer.Search?.Metric ?? MetricNames.RequiredValidation(spec.Task)[0];
    }

    /// <summary>The succeeded trial with the best metric (ties: the earlier trial), or null when none succeeded.</summary>
    public static int? Best(ModelSpec spec, IReadOnlyList<TrainingJobReport> reports)
    {
        ArgumentNullException.ThrowIfNull(reports);
        var metric = Metric(spec);
        var sign = MetricNames.HigherIsBetter(metric) ? 1 : -1;
        int? best = null;
        for (var i = 0; i < reports.Count; i++)
        {
            var result = reports[i].Result;
            if (result.State != TrainingJobState.Succeeded || !result.ValidationMetrics.TryGetValue(metric, out var value))
            {
                continue;
            }

            if (best is null || sign * value > sign * reports[best.Value].Result.ValidationMetrics[metric])
            {
                best = i;
            }
        }

        return best;
    }

    private static IEnumerable<IReadOnlyList<(string, double)>> Grid(string[] names, SearchSpec search)
    {
        IEnumerable<IReadOnlyList<(string, double)>> points = [[]];
        foreach (var name in names)
        {
            var values = search.Space[name].Values ?? [];
            points = points.SelectMany(point => values.Select(v => (IReadOnlyList<(string, double)>)[.. point, (name, v)]));
        }

        return points;
    }

    private static IEnumerable<IReadOnlyList<(string, double)>> Random(string[] names, SearchSpec search, int seed, string algorithm)
    {
        // Seeded System.Random: not for security, only a reproducible sample of the space.
#pragma warning disable CA5394
        var random = new Random(seed);
        for (var trial = 0; trial < search.Trials; trial++)
        {
            var point = new List<(string, double)>();
            foreach (var name in names)
            {
                var dimension = search.Space[name];
                double value;
                if (dimension.Values is { Count: > 0 } values)
                {
                    value = values[random.Next(values.Count)];
                }
                else
                {
                    var (min, max) = (dimension.Min ?? 0, dimension.Max ?? 0);
                    value = dimension.Log
                        ? Math.Exp(Math.Log(min) + (random.NextDouble() * (Math.Log(max) - Math.Log(min))))
                        : min + (random.NextDouble() * (max - min));
                }

                // Whole numbers where the dimension asks for them or the hyperparameter counts something, within its range.
                var rule = TrainerAlgorithms.Rule(algorithm, name);
                point.Add((name, dimension.Integer || rule?.Integer == true ? Math.Max(rule?.Min ?? 1, Math.Round(value)) : value));
            }

            yield return point;
        }
#pragma warning restore CA5394
    }
}
