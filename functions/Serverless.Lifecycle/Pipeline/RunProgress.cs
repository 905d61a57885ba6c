using System.Diagnostics;
using System.Text.Json;
using Microsoft.DurableTask;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Observability;

namespace Serverless.Lifecycle.Pipeline;

/// <summary>
/// Records a run's steps with their timing (from the orchestration clock, so replay-safe) and
/// publishes them as the orchestration's custom status after each change. It also keeps what the
/// run has learned (findings, trials, metrics and verdict, version) and builds the run's result
/// from it, whichever way the run ends. Metrics (step
/// durations, the gate's verdict, the run's outcome) are emitted only when the code runs for the
/// first time, not when it is replayed, so each is counted once.
/// </summary>
internal sealed class RunProgress(TaskOrchestrationContext context, string runId, string model, string trigger)
{
    private readonly List<RunStep> steps = [];
    private readonly DateTime started = context.CurrentUtcDateTime;
    private TrainingRunResult known = new(runId, model, null, []);

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

    /// <summary>The run's result: how it ended, its steps and everything it learned on the way.</summary>
    public TrainingRunResult Finish(RunOutcome outcome, string? error = null) => known with { Outcome = outcome, Steps = steps.ToArray(), Error = error };

    public void Validated(ValidationReport report) => known = known with { Findings = report.Findings, ProfilePath = report.ProfilePath };

    public void Trained(IReadOnlyList<Training.TrialRecord> trials) => known = known with { Trials = trials };

    public void Registered(int version) => known = known with { Version = version };

    public void Reproduced(Reproduction reproduction) => known = known with { Reproduction = reproduction };

    /// <summary>Keeps the evaluation (the latest, after a re-gate) and counts the gate's verdict, with the first failed check (metric and scope) when it failed.</summary>
    public void Evaluated(EvaluationResult evaluation)
    {
        ArgumentNullException.ThrowIfNull(evaluation);
        known = known with { Metrics = evaluation.Metrics, Verdict = evaluation.Verdict };
        var verdict = evaluation.Verdict;
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
