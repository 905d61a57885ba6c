using Cronos;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Monitoring;

/// <summary>
/// Scheduled retraining: each monitoring pass looks for the most recent occurrence of the
/// model's CRON within <see cref="Lookback"/> and triggers it once (its trigger record is the
/// memory), on the newest dataset. An occurrence missed by more than the lookback (the host was
/// down) is skipped rather than run late.
/// </summary>
public sealed class ScheduleTrigger(DatasetStore datasets, TrainingDataPolicy trainingData, RetrainingTriggers triggers, TimeProvider clock)
{
    public const string Trigger = "schedule";

    public static readonly TimeSpan Lookback = TimeSpan.FromHours(1);

    /// <summary>The trigger record when an occurrence was due now (started or coalesced), null otherwise.</summary>
    public async Task<TriggerRecord?> CheckAsync(ModelSpec spec, IPipelineClient pipeline, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Retraining.Schedule is not { } schedule)
        {
            return null;
        }

        var now = clock.GetUtcNow();
        var due = CronExpression.Parse(schedule, CronFormat.Standard).GetOccurrences(now - Lookback, now, TimeZoneInfo.Utc, fromInclusive: true, toInclusive: true).LastOrDefault();
        if (due == default)
        {
            return null;
        }

        var reason = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"scheduled retraining ({schedule}) due at {due:yyyy-MM-dd HH:mm} UTC");
        if ((await triggers.ListAsync(spec.Name, cancellationToken)).Any(r => r.Trigger == Trigger && r.Reason.StartsWith(reason, StringComparison.Ordinal)))
        {
            return null;
        }

        if (await datasets.GetLatestAsync(spec.Name, cancellationToken) is not { } dataset)
        {
            return null;
        }

        var runId = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{spec.Name}-schedule-{due:yyyyMMddHHmm}");
        var (prepared, note) = await trainingData.PrepareAsync(spec, dataset, cancellationToken);
        return await triggers.TriggerAsync(spec.Name, Trigger, $"{reason}, training {note}", prepared, runId, pipeline, cancellationToken);
    }
}
