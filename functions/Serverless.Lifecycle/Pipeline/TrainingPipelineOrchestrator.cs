using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Pipeline.Activities;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Training;

namespace Serverless.Lifecycle.Pipeline;

/// <summary>
/// One training run: validate → split → train → evaluate → register → promote. Deterministic:
/// all I/O is in activities, time comes from the context, and the run's progress is published
/// as custom status after every step.
/// </summary>
public sealed class TrainingPipelineOrchestrator : TaskOrchestrator<TrainingRunRequest, TrainingRunResult>
{
    // Storage and registry calls can fail transiently (throttling, an emulator restarting):
    // retry them with backoff. Expected outcomes (invalid data, failed gate) are values, not retried.
    private static readonly TaskOptions StorageRetry = TaskOptions.FromRetryPolicy(
        new RetryPolicy(maxNumberOfAttempts: 4, firstRetryInterval: TimeSpan.FromSeconds(2), backoffCoefficient: 2));

    // Job polling starts fast (small jobs finish in seconds) and backs off so a long job
    // adds few events to the history.
    private static readonly TimeSpan FirstPoll = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LongestPoll = TimeSpan.FromSeconds(15);

    // A job whose process or host died without reporting is started again (same job id; the
    // trainer is idempotent), at most this many times in all.
    private const int MaxJobStarts = 3;

    public override async Task<TrainingRunResult> RunAsync(TaskOrchestrationContext context, TrainingRunRequest input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var logger = context.CreateReplaySafeLogger<TrainingPipelineOrchestrator>();
        var run = new RunProgress(context, input.RunId, input.Spec.Name);
        var step = new DatasetStepInput(input.RunId, input.Spec, input.Dataset);
        PipelineLog.RunStarted(logger, input.RunId, input.Spec.Name, input.Trigger);

        var report = await run.StepAsync(
            "validate",
            () => context.CallActivityAsync<ValidationReport>(nameof(ValidateDatasetActivity), step, StorageRetry),
            r => (r.IsValid ? "passed" : "rejected", Describe(r)));
        if (!report.IsValid)
        {
            PipelineLog.RunRejected(logger, input.RunId, report.Findings.Count(f => f.IsBlocking));
            return run.Finish(RunOutcome.Rejected) with { Findings = report.Findings, ProfilePath = report.ProfilePath };
        }

        var split = await run.StepAsync(
            "split",
            () => context.CallActivityAsync<DatasetSplit>(nameof(SplitDatasetActivity), step, StorageRetry),
            s => ("done", $"train {s.Counts.Train}, validation {s.Counts.Validation}, test {s.Counts.Test} rows"));

        var job = await run.StepAsync(
            "train",
            () => TrainAsync(context, new StartTrainingInput(input.RunId, $"{input.RunId}-train-1", input.Spec, input.Dataset, split)),
            j => (j.State == TrainingJobState.Succeeded ? "succeeded" : "failed", j.Error ?? $"{j.DurationSeconds:F1} s on {j.Hardware}"));
        if (job.State != TrainingJobState.Succeeded)
        {
            PipelineLog.TrainingFailed(logger, input.RunId, job.Error ?? "unknown");
            return run.Finish(RunOutcome.TrainingFailed) with { Error = job.Error, Findings = report.Findings, ProfilePath = report.ProfilePath };
        }

        var evaluation = await run.StepAsync(
            "evaluate",
            () => context.CallActivityAsync<EvaluationResult>(nameof(EvaluateModelActivity), new EvaluateInput(input.RunId, input.Spec, job, split), StorageRetry),
            e => (e.Verdict.Passed ? "passed" : "failed", string.Join("; ", e.Verdict.Checks.Select(c => c.Reason))));
        if (!evaluation.Verdict.Passed)
        {
            PipelineLog.GateFailed(logger, input.RunId, input.Spec.Name);
            return run.Finish(RunOutcome.GateFailed) with { Metrics = evaluation.Metrics, Verdict = evaluation.Verdict, Findings = report.Findings, ProfilePath = report.ProfilePath };
        }

        var registered = await run.StepAsync(
            "register",
            () => context.CallActivityAsync<RegisteredVersion>(nameof(RegisterModelActivity), new RegisterInput(input.RunId, input.Spec, input.Dataset, job, evaluation, report.ProfilePath), StorageRetry),
            v => ("done", $"version {v.Version}"));

        await run.StepAsync(
            "promote",
            () => context.CallActivityAsync<AliasState>(
                nameof(PromoteModelActivity),
                new PromoteInput(input.RunId, input.Spec.Name, ReservedAliases.Champion, registered.Version, "passed the evaluation gate"),
                StorageRetry),
            a => ("done", $"{a.Alias} -> version {a.Version}"));

        PipelineLog.RunSucceeded(logger, input.RunId, input.Spec.Name, registered.Version);
        return run.Finish(RunOutcome.Succeeded) with
        {
            Metrics = evaluation.Metrics, Verdict = evaluation.Verdict, Version = registered.Version, Findings = report.Findings, ProfilePath = report.ProfilePath,
        };
    }

    /// <summary>Starts the job, then polls on durable timers until it reports or its deadline passes.</summary>
    private static async Task<TrainingJobResult> TrainAsync(TaskOrchestrationContext context, StartTrainingInput start)
    {
        var deadline = context.CurrentUtcDateTime.AddMinutes(start.Spec.Trainer.TimeoutMinutes);
        var job = await context.CallActivityAsync<TrainingJobRef>(nameof(StartTrainingJobActivity), start, StorageRetry);
        var wait = FirstPoll;
        while (context.CurrentUtcDateTime < deadline)
        {
            await context.CreateTimer(context.CurrentUtcDateTime.Add(wait), CancellationToken.None);
            var status = await context.CallActivityAsync<TrainingJobStatus>(nameof(GetTrainingJobStatusActivity), job, StorageRetry);
            if (status.Result is not null)
            {
                return status.Result;
            }

            if (status.Lost)
            {
                if (job.Attempt >= MaxJobStarts)
                {
                    return JobFailed(job, $"The job was lost {job.Attempt} times (its process ended without reporting).");
                }

                job = await context.CallActivityAsync<TrainingJobRef>(nameof(StartTrainingJobActivity), start with { Attempt = job.Attempt + 1 }, StorageRetry);
                wait = FirstPoll;
                continue;
            }

            wait = wait * 2 > LongestPoll ? LongestPoll : wait * 2;
        }

        return JobFailed(job, $"The job did not report within {start.Spec.Trainer.TimeoutMinutes} minute(s).");
    }

    private static string Describe(ValidationReport report)
    {
        var blocking = report.Findings.Count(f => f.IsBlocking);
        return $"{report.RowCount} rows, {blocking} blocking finding(s), {report.Findings.Count - blocking} warning(s)";
    }

    private static TrainingJobResult JobFailed(TrainingJobRef job, string error) =>
        new(job.JobId, TrainingJobState.Failed, error, new Dictionary<string, double>(), [], null, 0, "unknown", "unknown");
}
