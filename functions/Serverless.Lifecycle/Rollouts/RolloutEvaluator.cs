using System.Globalization;
using Serverless.Lifecycle.Monitoring;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Rollouts;

/// <summary>
/// Judges one rollout step from what serving logged: the challenger's failure rate and p99
/// latency, and, where feedback exists for enough of both versions' predictions, its live
/// quality against the champion's on the same window. Log lines it could not read are left out
/// and named in the check's reason.
/// </summary>
public sealed class RolloutEvaluator(PredictionLogReader log, FeedbackStore feedback)
{
    public async Task<RolloutCheck> EvaluateAsync(ModelSpec spec, RolloutState state, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(state);
        var rollout = spec.Rollout;
        var records = new List<PredictionRecord>();
        var unreadable = new UnreadableLines();
        await foreach (var record in log.ReadAsync(spec.Name, from, to, unreadable, cancellationToken))
        {
            if (record.Version == state.Challenger || record.Version == state.Champion)
            {
                records.Add(record);
            }
        }

        var challenger = records.Where(r => r.Version == state.Challenger).ToList();
        var champion = records.Where(r => r.Version == state.Champion && r.Error is null).ToList();
        var challengerRequests = challenger.Select(r => r.RequestId).Distinct(StringComparer.Ordinal).LongCount();
        var errors = challenger.LongCount(r => r.Error is not null);
        var challengerP99 = P99(challenger.Where(r => r.Error is null));
        var championP99 = P99(champion);

        var (metric, challengerQuality, championQuality, challengerLabelled, championLabelled) = (rollout.Quality?.Metric, (double?)null, (double?)null, 0L, 0L);
        if (rollout.Quality is not null)
        {
            var truth = await feedback.LabelsAsync(spec.Name, from.AddHours(-1), cancellationToken);
            (challengerQuality, challengerLabelled) = Quality(spec.Task, challenger.Where(r => r.Error is null), truth);
            (championQuality, championLabelled) = Quality(spec.Task, champion, truth);
        }

        var maxLatency = rollout.MaxLatencyP99Ms ?? spec.Evaluation.LatencyBudgetMs;
        var errorRate = challengerRequests == 0 ? 0 : errors / (double)challengerRequests;
        string F(double value) => value.ToString("G4", CultureInfo.InvariantCulture);

        RolloutCheck Check(bool passed, bool insufficient, string reason) => new(
            state.Step, state.Share, from, to, challengerRequests, errors, challengerP99, champion.Select(r => r.RequestId).Distinct(StringComparer.Ordinal).LongCount(), championP99,
            metric, challengerQuality, championQuality, challengerLabelled, championLabelled, passed, insufficient, unreadable.AppendTo(reason));

        if (challengerRequests < rollout.MinRequests)
        {
            return Check(false, true, $"The challenger saw {challengerRequests} request(s); {rollout.MinRequests} are needed to judge the step.");
        }

        if (errorRate > rollout.MaxErrorRate)
        {
            return Check(false, false, $"The challenger failed {errors} of {challengerRequests} request(s) ({F(errorRate * 100)}%), above the maximum {F(rollout.MaxErrorRate * 100)}%.");
        }

        if (challengerP99 > maxLatency)
        {
            return Check(false, false, $"The challenger's p99 latency is {F(challengerP99.Value)} ms, above the maximum {F(maxLatency)} ms.");
        }

        if (rollout.Quality is { } quality && challengerQuality is { } ours && championQuality is { } theirs
            && challengerLabelled >= rollout.MinRequests && championLabelled >= rollout.MinRequests)
        {
            // Accuracy: higher is better. MAE: lower is better.
            var drop = quality.Metric == "mae" ? ours - theirs : theirs - ours;
            if (drop > quality.MaxDrop)
            {
                return Check(false, false, $"The challenger's live {quality.Metric} is {F(ours)} against the champion's {F(theirs)}, worse by {F(drop)} (at most {F(quality.MaxDrop)}).");
            }
        }

        var qualityNote = rollout.Quality is null ? "" : challengerQuality is null || challengerLabelled < rollout.MinRequests || championLabelled < rollout.MinRequests
            ? $"; live {metric} not judged ({challengerLabelled} and {championLabelled} labelled prediction(s))"
            : $"; live {metric} {F(challengerQuality.Value)} against {F(championQuality!.Value)}";
        return Check(true, false, $"{challengerRequests} request(s), {errors} failed, p99 {(challengerP99 is null ? "n/a" : F(challengerP99.Value) + " ms")}{qualityNote}.");
    }

    private static double? P99(IEnumerable<PredictionRecord> records)
    {
        // One latency per request: its rows share it.
        var latencies = records.GroupBy(r => r.RequestId, StringComparer.Ordinal).Select(g => g.First().LatencyMs).ToList();
        return latencies.Count == 0 ? null : Evaluation.ModelEvaluator.NearestRankP99(latencies);
    }

    /// <summary>Accuracy (label equals the feedback) or MAE (|value − feedback|) over the records that have feedback, measured as monitoring measures live quality.</summary>
    private static (double? Value, long Labelled) Quality(string task, IEnumerable<PredictionRecord> records, IReadOnlyDictionary<(string RequestId, int Row), string> truth)
    {
        var pairs = records.Where(r => truth.ContainsKey((r.RequestId, r.Row))).Select(r => (r, truth[(r.RequestId, r.Row)])).ToList();
        if (pairs.Count == 0)
        {
            return (null, 0);
        }

        var metric = task switch
        {
            ModelTasks.Regression => Specs.MetricNames.Mae,
            ModelTasks.Multiclass => Specs.MetricNames.MicroAccuracy,
            _ => Specs.MetricNames.Accuracy,
        };
        return (LiveQuality.Measure(task, pairs).TryGetValue(metric, out var value) ? value : null, pairs.Count);
    }
}
