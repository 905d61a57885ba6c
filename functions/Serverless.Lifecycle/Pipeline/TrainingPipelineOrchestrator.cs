using System.Globalization;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Pipeline.Activities;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Rollouts;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Training;

namespace Serverless.Lifecycle.Pipeline;

/// <summary>
/// One training run: validate → split → train → evaluate → register → promote. Deterministic:
/// all I/O is in activities, time comes from the context, and the run's progress is published
/// as custom status after every step. Training fans out as <see cref="TrainingJobOrchestrator"/>
/// sub-orchestrations (one job, or the trials of a search) and fans in to the best candidate.
/// <see cref="PipelineEvents.CancelRequested"/> stops the run between steps and stops its jobs.
/// </summary>
public sealed class TrainingPipelineOrchestrator : TaskOrchestrator<TrainingRunRequest, TrainingRunResult>
{
    // A champion that keeps moving while this run re-gates (runs finishing in a burst) is chased at most
    // this many times; then the run ends superseded rather than evaluating forever.
    private const int MaxRegates = 2;

    public override async Task<TrainingRunResult> RunAsync(TaskOrchestrationContext context, TrainingRunRequest input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var run = new RunProgress(context, input.RunId, input.Spec.Name, input.Trigger);
        try
        {
            var result = await RunStepsAsync(context, input, run);
            run.Ended(result.Outcome);
            return result;
        }
        catch (Exception) when (run.Ended(null))
        {
            throw;
        }
    }

    private static async Task<TrainingRunResult> RunStepsAsync(TaskOrchestrationContext context, TrainingRunRequest input, RunProgress run)
    {
        var logger = context.CreateReplaySafeLogger<TrainingPipelineOrchestrator>();
        var cancel = context.WaitForExternalEvent<CancelRequest>(PipelineEvents.CancelRequested);
        var step = new DatasetStepInput(input.RunId, input.Spec, input.Dataset);
        PipelineLog.RunStarted(logger, input.RunId, input.Spec.Name, input.Trigger);

        var report = await run.StepAsync(
            "validate",
            () => context.CallActivityAsync<ValidationReport>(nameof(ValidateDatasetActivity), step, PipelineRetry.Storage),
            r => (r.IsValid ? "passed" : "rejected", Describe(r)));
        var result = run.Finish(RunOutcome.Rejected) with { Findings = report.Findings, ProfilePath = report.ProfilePath };
        if (!report.IsValid)
        {
            PipelineLog.RunRejected(logger, input.RunId, report.Findings.Count(f => f.IsBlocking));
            return result;
        }

        if (cancel.IsCompleted)
        {
            return Cancelled(run, result, await cancel);
        }

        var split = await run.StepAsync(
            "split",
            () => context.CallActivityAsync<DatasetSplit>(nameof(SplitDatasetActivity), step, PipelineRetry.Storage),
            s => ("done", $"train {s.Counts.Train}, validation {s.Counts.Validation}, test {s.Counts.Test} rows"));
        if (cancel.IsCompleted)
        {
            return Cancelled(run, result, await cancel);
        }

        var training = await run.StepAsync(
            "train",
            () => TrainAsync(context, input, split, cancel),
            t => (t.Outcome, t.Detail));
        result = result with { Trials = training.Trials };
        if (training.Cancelled is { } cancelled)
        {
            return Cancelled(run, result, cancelled);
        }

        if (training.Best is not { } job)
        {
            PipelineLog.TrainingFailed(logger, input.RunId, training.Detail);
            return run.Finish(RunOutcome.TrainingFailed) with { Error = training.Detail, Findings = result.Findings, ProfilePath = result.ProfilePath, Trials = result.Trials };
        }

        var evaluation = await EvaluateAsync(context, run, new EvaluateInput(input.RunId, input.Spec, job, split));
        if (!evaluation.Verdict.Passed)
        {
            PipelineLog.GateFailed(logger, input.RunId, input.Spec.Name);
            return run.Finish(RunOutcome.GateFailed) with
            {
                Metrics = evaluation.Metrics, Verdict = evaluation.Verdict, Findings = result.Findings, ProfilePath = result.ProfilePath, Trials = result.Trials,
            };
        }

        result = result with { Metrics = evaluation.Metrics, Verdict = evaluation.Verdict };
        if (cancel.IsCompleted)
        {
            return Cancelled(run, result, await cancel);
        }

        if (input.Spec.Evaluation.Approval is { Required: true } approval)
        {
            var decision = await run.StepAsync(
                PipelineEvents.ApprovalStep,
                () => WaitForApprovalAsync(context, approval, cancel),
                d => (d is null ? "cancelled" : d.Approved ? "approved" : "rejected", d is null ? null : $"{d.Actor}: {d.Reason}"));
            if (decision is null)
            {
                return Cancelled(run, result, await cancel);
            }

            await context.CallActivityAsync<bool>(nameof(RecordApprovalActivity), new ApprovalRecord(input.Spec.Name, input.RunId, decision), PipelineRetry.Storage);
            if (!decision.Approved)
            {
                return run.Finish(RunOutcome.NotApproved) with
                {
                    Error = $"Not approved by {decision.Actor}: {decision.Reason}",
                    Metrics = result.Metrics, Verdict = result.Verdict, Findings = result.Findings, ProfilePath = result.ProfilePath, Trials = result.Trials,
                };
            }
        }

        var registered = await run.StepAsync(
            "register",
            () => context.CallActivityAsync<RegisteredVersion>(nameof(RegisterModelActivity), new RegisterInput(input.RunId, input.Spec, input.Dataset, job, evaluation, report.ProfilePath, input.Trigger, input.Reason, training.Trials), PipelineRetry.Storage),
            v => ("done", $"version {v.Version}"));

        if (input.Spec.Rollout.Strategy != RolloutStrategies.Direct)
        {
            var rollout = await run.StepAsync(
                "rollout",
                () => RolloutAsync(context, input, registered.Version, cancel),
                r => (r.Status, r.Reason));
            result = result with { Version = registered.Version };
            if (rollout.Status == RolloutStatuses.Cancelled)
            {
                return Cancelled(run, result, await cancel);
            }

            if (rollout.Status != RolloutStatuses.Promoted)
            {
                var superseded = rollout.Status == RolloutStatuses.Superseded;
                return run.Finish(superseded ? RunOutcome.Superseded : RunOutcome.RolledBack) with
                {
                    Error = superseded ? rollout.Reason : $"Rolled back: {rollout.Reason}",
                    Metrics = evaluation.Metrics, Verdict = evaluation.Verdict, Version = registered.Version, Findings = result.Findings, ProfilePath = result.ProfilePath, Trials = result.Trials,
                };
            }
        }
        else
        {
            // Conditional: the champion must still be the one the gate compared with. If a newer run promoted
            // meanwhile, the candidate is gated again against it, and promoted only if it passes.
            for (var regates = 0; ; regates++)
            {
                var gated = evaluation;
                var promoted = await run.StepAsync(
                    "promote",
                    () => context.CallActivityAsync<AliasState>(
                        nameof(PromoteModelActivity),
                        new PromoteInput(input.RunId, input.Spec.Name, ReservedAliases.Champion, registered.Version, regates == 0 ? "passed the evaluation gate" : $"passed the evaluation gate again, against version {gated.Verdict.ChampionVersion}", gated.Verdict.ChampionVersion, Conditional: true),
                        PipelineRetry.Storage),
                    a => a.Version == registered.Version ? ("done", $"{a.Alias} -> version {a.Version}") : ("moved", $"{a.Alias} is version {a.Version}, promoted after this run's gate"));
                if (promoted.Version == registered.Version)
                {
                    break;
                }

                if (regates < MaxRegates)
                {
                    evaluation = await EvaluateAsync(context, run, new EvaluateInput(input.RunId, input.Spec, job, split));
                    if (evaluation.Verdict.Passed)
                    {
                        continue;
                    }
                }

                var why = $"Superseded: champion moved to version {promoted.Version} after this run's gate, and version {registered.Version} "
                    + (evaluation.Verdict.Passed ? $"was gated {MaxRegates + 1} times while it kept moving" : $"did not pass the gate again against it ({Describe(evaluation.Verdict)})")
                    + "; it stays registered and can be promoted by hand.";
                await context.CallActivityAsync<bool>(nameof(RecordSupersededActivity), new SupersededRecord(input.RunId, input.Spec.Name, registered.Version, promoted.Version, why), PipelineRetry.Storage);
                return run.Finish(RunOutcome.Superseded) with
                {
                    Error = why,
                    Metrics = evaluation.Metrics, Verdict = evaluation.Verdict, Version = registered.Version, Findings = result.Findings, ProfilePath = result.ProfilePath, Trials = result.Trials,
                };
            }
        }

        PipelineLog.RunSucceeded(logger, input.RunId, input.Spec.Name, registered.Version);
        return run.Finish(RunOutcome.Succeeded) with
        {
            Metrics = evaluation.Metrics, Verdict = evaluation.Verdict, Version = registered.Version, Findings = result.Findings, ProfilePath = result.ProfilePath, Trials = result.Trials,
        };
    }

    /// <summary>The evaluate step: the candidate and the current champion on the test split, then the gate; the verdict is counted.</summary>
    private static async Task<EvaluationResult> EvaluateAsync(TaskOrchestrationContext context, RunProgress run, EvaluateInput input)
    {
        var evaluation = await run.StepAsync(
            "evaluate",
            () => context.CallActivityAsync<EvaluationResult>(nameof(EvaluateModelActivity), input, PipelineRetry.Storage),
            e => (e.Verdict.Passed ? "passed" : "failed", Describe(e.Verdict)));
        run.Verdict(evaluation.Verdict);
        return evaluation;
    }

    /// <summary>
    /// Runs the planned jobs, at most the search's <c>maxParallel</c> at a time, each as a
    /// sub-orchestration; a cancel request is passed on to the jobs still running.
    /// </summary>
    private static async Task<TrainingOutcome> TrainAsync(TaskOrchestrationContext context, TrainingRunRequest input, DatasetSplit split, Task<CancelRequest> cancel)
    {
        var spec = input.Spec;
        var plans = TrialPlanner.Plan(input.RunId, spec);
        var deadline = context.CurrentUtcDateTime.AddMinutes(spec.Trainer.TimeoutMinutes);
        var maxParallel = spec.Trainer.Search?.MaxParallel ?? 1;
        var reports = new TrainingJobReport?[plans.Count];
        var running = new Dictionary<Task<TrainingJobReport>, int>();
        var next = 0;
        CancelRequest? cancelled = null;
        while (next < plans.Count || running.Count > 0)
        {
            while (cancelled is null && next < plans.Count && running.Count < maxParallel)
            {
                var plan = plans[next];
                var job = new TrainingJobInput(input.RunId, plan.JobId, spec, input.Dataset, split, plan.Algorithm, plan.Hyperparameters, deadline);
                running[context.CallSubOrchestratorAsync<TrainingJobReport>(
                    nameof(TrainingJobOrchestrator), job, new SubOrchestrationOptions(new TaskOptions(), PipelineEvents.JobInstanceId(input.RunId, plan.JobId)))] = next;
                next++;
            }

            if (running.Count == 0)
            {
                break;
            }

            var finished = cancelled is null
                ? await Task.WhenAny([.. running.Keys, cancel])
                : await Task.WhenAny(running.Keys);
            if (finished == cancel)
            {
                cancelled = await cancel;
                foreach (var active in running.Values)
                {
                    context.SendEvent(PipelineEvents.JobInstanceId(input.RunId, plans[active].JobId), PipelineEvents.CancelRequested, cancelled);
                }

                continue;
            }

            var done = (Task<TrainingJobReport>)finished;
            reports[running[done]] = await done;
            running.Remove(done);
        }

        var trials = plans
            .Select((plan, i) => reports[i] is { } r ? TrialPlanner.Record(plan, r) : null)
            .OfType<TrialRecord>()
            .ToList();
        if (cancelled is not null)
        {
            return new TrainingOutcome(null, trials, cancelled, "cancelled", $"Cancelled by {cancelled.Actor}: {cancelled.Reason}");
        }

        var finishedReports = reports.Select(r => r!).ToList();
        var best = TrialPlanner.Best(spec, finishedReports);
        if (best is not { } index)
        {
            var errors = trials.Select(t => plans.Count == 1 ? t.Error : $"{t.JobId}: {t.Error}");
            return new TrainingOutcome(null, trials, null, "failed", string.Join("; ", errors));
        }

        var winner = finishedReports[index];
        var how = $"{winner.Result.DurationSeconds:F1} s on {winner.Result.Hardware}, started {winner.Starts} time(s), end noticed by {winner.NoticedBy}";
        var detail = plans.Count == 1
            ? how
            : $"best of {plans.Count} trials by {TrialPlanner.Metric(spec)}: {plans[index].JobId} ({TrialPlanner.Metric(spec)} {winner.Result.ValidationMetrics[TrialPlanner.Metric(spec)]:G4}); {how}";
        return new TrainingOutcome(winner.Result, trials, null, "succeeded", detail);
    }

    /// <summary>A person's decision, a rejection when the timeout passes first, or null when the run is cancelled.</summary>
    /// <summary>
    /// A staged rollout (canary or shadow): the version serves as challenger step by step; after
    /// each step's time the prediction log judges it. A step with too little traffic is extended
    /// (three times at most); a failed check rolls it back; passing the last step promotes it.
    /// </summary>
    private static async Task<RolloutState> RolloutAsync(TaskOrchestrationContext context, TrainingRunRequest input, int version, Task<CancelRequest> cancel)
    {
        var spec = input.Spec;
        var started = await context.CallActivityAsync<RolloutState?>(nameof(StartRolloutActivity), new RolloutStartInput(input.RunId, spec, version), PipelineRetry.Storage);
        if (started is null)
        {
            // The model's first version: no champion to compare with.
            var promoted = await context.CallActivityAsync<AliasState>(
                nameof(PromoteModelActivity), new PromoteInput(input.RunId, spec.Name, ReservedAliases.Champion, version, "first version: no champion to roll out against", GatedAgainst: null, Conditional: true), PipelineRetry.Storage);
            var now = new DateTimeOffset(context.CurrentUtcDateTime, TimeSpan.Zero);
            return new RolloutState(spec.Name, input.RunId, spec.Rollout.Strategy, version, promoted.Version, 0, 1, RolloutStatuses.Promoted, "The model had no champion: promoted directly.", now, now, []);
        }

        Task<RolloutState> Finish(string status, string reason) =>
            context.CallActivityAsync<RolloutState>(nameof(FinishRolloutActivity), new RolloutFinishInput(input.RunId, spec, status, reason), PipelineRetry.Storage);

        const int MaxExtensions = 3;
        for (var step = started.Step; step < spec.Rollout.Steps.Count; step++)
        {
            if (step > started.Step)
            {
                await context.CallActivityAsync<RolloutState>(nameof(AdvanceRolloutActivity), new RolloutStepInput(input.RunId, spec, step, default, default), PipelineRetry.Storage);
            }

            // Every judgement of a step covers the step from its start: an extension adds traffic, it does not start over.
            var from = new DateTimeOffset(context.CurrentUtcDateTime, TimeSpan.Zero);
            for (var extension = 0; ; extension++)
            {
                using var waiting = new CancellationTokenSource();
                var timer = context.CreateTimer(context.CurrentUtcDateTime.AddMinutes(spec.Rollout.Steps[step].Minutes), waiting.Token);
                if (await Task.WhenAny(timer, cancel) == cancel)
                {
                    // Synchronously: CancelAsync would continue on the thread pool, off the orchestration's thread.
#pragma warning disable CA1849
                    waiting.Cancel();
#pragma warning restore CA1849
                    return await Finish(RolloutStatuses.Cancelled, $"The run was cancelled: {(await cancel).Reason}");
                }

                var to = new DateTimeOffset(context.CurrentUtcDateTime, TimeSpan.Zero);
                var check = await context.CallActivityAsync<RolloutCheck>(nameof(EvaluateRolloutStepActivity), new RolloutStepInput(input.RunId, spec, step, from, to), PipelineRetry.Storage);
                if (check.Passed)
                {
                    break;
                }

                if (!check.Insufficient || extension == MaxExtensions)
                {
                    return await Finish(RolloutStatuses.RolledBack, string.Create(CultureInfo.InvariantCulture, $"step {step + 1} of {spec.Rollout.Steps.Count} (share {check.Share * 100:0.#}%): {check.Reason}"));
                }
            }
        }

        return await Finish(RolloutStatuses.Promoted, $"passed {spec.Rollout.Steps.Count} {spec.Rollout.Strategy} step(s)");
    }

    private static async Task<ApprovalDecision?> WaitForApprovalAsync(TaskOrchestrationContext context, ApprovalSpec approval, Task<CancelRequest> cancel)
    {
        using var timeout = new CancellationTokenSource();
        var timer = context.CreateTimer(context.CurrentUtcDateTime.AddHours(approval.TimeoutHours), timeout.Token);
        var decided = context.WaitForExternalEvent<ApprovalDecision>(PipelineEvents.ApprovalDecided);
        var first = await Task.WhenAny(decided, timer, cancel);
        if (first != timer)
        {
            // Synchronously: CancelAsync would continue on the thread pool, off the orchestration's thread.
#pragma warning disable CA1849
            timeout.Cancel();
#pragma warning restore CA1849
        }

        return first == decided ? await decided
            : first == timer ? new ApprovalDecision(false, "timeout", $"no decision within {approval.TimeoutHours:G4} hour(s)")
            : null;
    }

    private static TrainingRunResult Cancelled(RunProgress run, TrainingRunResult sofar, CancelRequest request) =>
        run.Finish(RunOutcome.Cancelled) with
        {
            Error = $"Cancelled by {request.Actor}: {request.Reason}",
            Findings = sofar.Findings,
            ProfilePath = sofar.ProfilePath,
            Trials = sofar.Trials,
            Metrics = sofar.Metrics,
            Verdict = sofar.Verdict,
        };

    private static string Describe(Evaluation.GateVerdict verdict)
    {
        var against = verdict.ChampionVersion is { } v ? $" against champion v{v}" : " (no champion yet: value thresholds only)";
        return verdict.Passed
            ? $"{verdict.Checks.Count} check(s) passed{against}"
            : $"{verdict.Checks.Count(c => !c.Passed)} of {verdict.Checks.Count} check(s) failed{against}: " + string.Join("; ", verdict.Checks.Where(c => !c.Passed).Select(c => c.Reason));
    }

    private static string Describe(ValidationReport report)
    {
        var blocking = report.Findings.Count(f => f.IsBlocking);
        return $"{report.RowCount} rows, {blocking} blocking finding(s), {report.Findings.Count - blocking} warning(s)";
    }

    private sealed record TrainingOutcome(TrainingJobResult? Best, IReadOnlyList<TrialRecord> Trials, CancelRequest? Cancelled, string Outcome, string Detail);
}
