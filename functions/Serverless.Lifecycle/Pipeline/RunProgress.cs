using System.Diagnostics;
using System.Text.Json;
using Microsoft.DurableTask;
using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Observability;

namespace Serverless.Lifecycle.Pipeline;

/// <summary>
/// Records a run's steps with their timing (from the orchestration clock, so replay-safe) and
/// publishes them as the orchestration's custom status after each change. Metrics (step
/// durations, the gate's verdict, the run's outcome) are emitted only when the code runs for the
/// first time, not when it is replayed, so each is counted once.
/// </summary>
internal sealed class RunProgress(TaskOrchestrationContext context, string runId, string model, string trigger)
{
    private readonly List<RunStep> steps = [];
    private readonly DateTime started = context.CurrentUtcDateTime;

    public async Task<T> StepAsync<T>(string name, Func<Task<T>> action, Func<T, (string Outcome, string? Detail)> describe)
    {
        var stepStarted = context.CurrentUtcDateTime;
        steps.Add(new RunStep(name, stepStarted, null, "running", null));
        Publish();
        T value;
        try
        {
            value = await action();
        }
        catch (TaskFailedException ex)
        {
            Completed(steps[^1] with { CompletedAt = context.CurrentUtcDateTime, Outcome = "error", Detail = ex.FailureDetails.ErrorMessage });
            throw;
        }

        var (outcome, detail) = describe(value);
        Completed(steps[^1] with { CompletedAt = context.CurrentUtcDateTime, Outcome = outcome, Detail = detail });
        return value;
    }

    public TrainingRunResult Finish(RunOutcome outcome) => new(runId, model, outcome, steps.ToArray());

    /// <summary>Counts the gate's verdict, with the first failed check (metric and scope) when it failed.</summary>
    public void Verdict(GateVerdict verdict)
    {
        ArgumentNullException.ThrowIfNull(verdict);
        if (!context.IsReplaying)
        {
            var failed = verdict.Checks.FirstOrDefault(c => !c.Passed) is { } check ? $"{check.Metric}@{check.Scope}" : "none";
            Telemetry.GateVerdicts.Add(1, new(TelemetryNames.Tags.Model, model), new(TelemetryNames.Tags.Passed, verdict.Passed), new(TelemetryNames.Tags.Check, failed));
        }
    }

    /// <summary>Counts the finished run and its duration; <paramref name="outcome"/> null when the orchestration failed. False, for an exception filter.</summary>
    public bool Ended(RunOutcome? outcome)
    {
        if (!context.IsReplaying)
        {
            var tags = new TagList
            {
                { TelemetryNames.Tags.Model, model },
                { TelemetryNames.Tags.Trigger, trigger },
                { TelemetryNames.Tags.Outcome, outcome is { } o ? JsonNamingPolicy.CamelCase.ConvertName(o.ToString()) : "failed" },
            };
            Telemetry.Runs.Add(1, tags);
            Telemetry.RunDuration.Record((context.CurrentUtcDateTime - started).TotalSeconds, tags);
        }

        return false;
    }

    private void Completed(RunStep step)
    {
        steps[^1] = step;
        Publish();
        if (!context.IsReplaying)
        {
            Telemetry.RunStepDuration.Record(
                (step.CompletedAt!.Value - step.StartedAt).TotalSeconds,
                new(TelemetryNames.Tags.Model, model), new(TelemetryNames.Tags.Step, step.Name), new(TelemetryNames.Tags.Outcome, step.Outcome));
        }
    }

    private void Publish() => context.SetCustomStatus(new TrainingRunResult(runId, model, null, steps.ToArray()));
}
