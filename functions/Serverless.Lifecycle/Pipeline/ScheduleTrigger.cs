using Cronos;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Monitoring;
using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Pipeline;

/// <summary>
/// Scheduled retraining: each monitoring pass looks for the most recent occurrence of the
/// model's CRON within <see cref="Lookback"/> and triggers it once, on the newest dataset: the
/// occurrence is claimed with one conditional write, so a later pass (or a second host) finds it
/// taken. An occurrence missed by more than the lookback (the host was down) is skipped rather
/// than run late; one that could not start (no dataset yet, a storage error) is given back and
/// tried again by the next pass.
/// </summary>
public sealed class ScheduleTrigger(DatasetStore datasets, RunController runs, TimeProvider clock)
{
    public const string Trigger = RunTriggers.Schedule;

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

        if (await datasets.GetLatestAsync(spec.Name, cancellationToken) is not { } dataset)
        {
            return null;
        }

        var occurrence = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Trigger}-{due:yyyyMMddHHmm}");
        if (!await runs.ClaimOccurrenceAsync(spec.Name, occurrence, cancellationToken))
        {
            return null;
        }

        try
        {
            var reason = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"scheduled retraining ({schedule}) due at {due:yyyy-MM-dd HH:mm} UTC");
            return await runs.StartAsync(new RunRequest(spec, Trigger, reason + ".", dataset, due, PrepareData: true), pipeline, cancellationToken);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            await runs.ReleaseOccurrenceAsync(spec.Name, occurrence, CancellationToken.None);
            throw;
        }
    }
}
