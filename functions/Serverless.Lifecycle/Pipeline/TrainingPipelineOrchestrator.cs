using Microsoft.DurableTask;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Pipeline.Activities;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Rollouts;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Training;

namespace Serverless.Lifecycle.Pipeline;

/// <summary>
/// One training run: validate → split → train → evaluate → (approve) → register → promote or roll
/// out. Deterministic: all I/O is in activities, time comes from the context, and the run's progress
/// is published as custom status after every step. Training fans out as <see cref="TrainingJobOrchestrator"/>
/// sub-orchestrations (one job, or the trials of a search) and fans in to the best candidate; a
/// staged rollout is a <see cref="RolloutOrchestrator"/> sub-orchestration.
/// <see cref="PipelineEvents.CancelRequested"/> stops the run between steps and is passed on to its
/// jobs and its rollout. A reproduce run (<see cref="TrainingRunRequest.Reproduce"/>) checks the
/// version's lineage, validates, splits and trains as recorded, and compares bytes instead.
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
        TrainingRunResult Cancelled(CancelRequest request) => run.Finish(RunOutcome.Cancelled, $"Cancelled by {request.Actor}: {request.Reason}");
        var step = new DatasetStepInput(input.RunId, input.Spec, input.Dataset);
        PipelineLog.RunStarted(logger, input.RunId, input.Spec.Name, input.Trigger);
        if (input.Reproduce is { } target)
        {
            return await ReproduceAsync(context, input, target, run, cancel);
        }

        var report = await run.StepAsync(
            "validate",
            () => context.CallActivityAsync<ValidationReport>(nameof(ValidateDatasetActivity), step, PipelineRetry.Storage),
            r => (r.IsValid ? "passed" : "rejected", Describe(r)));
        run.Validated(report);
        if (!report.IsValid)
        {
            PipelineLog.RunRejected(logger, input.RunId, report.Findings.Count(f => f.IsBlocking));
            return run.Finish(RunOutcome.Rejected);
        }

        if (cancel.IsCompleted)
        {
            return Cancelled(await cancel);
        }

        // Validation wrote the partitions in its own pass over the rows; a run validated without
        // splitting (by an earlier version, before an upgrade) reads the dataset again for them.
        var split = await run.StepAsync(
            "split",
            () => report.Split is { } counts
                ? Task.FromResult(SplitDatasetActivity.Paths(input.RunId, counts))
                : context.CallActivityAsync<DatasetSplit>(nameof(SplitDatasetActivity), step, PipelineRetry.Storage),
            s => ("done", $"train {s.Counts.Train}, validation {s.Counts.Validation}, test {s.Counts.Test} rows"));
        if (cancel.IsCompleted)
        {
            return Cancelled(await cancel);
        }

        // While the job trains, the champion is scored on the test split, and the job scores its own
        // model on it where the split is local, so the evaluate step only compares. (A run validated
        // before an upgrade, which has no split in its report, evaluates as it did then.)
        var scoreWhileTraining = report.Split is not null && input.Import is null;
        var champion = scoreWhileTraining ? ScoreChampionAsync(context, input, split) : null;

        // An import run's candidate is the graph it was given (checked against the spec when it was
        // uploaded, and by its SHA-256 when the evaluate step reads it): it takes the train step's place.
        var training = input.Import is { } imported
            ? await run.StepAsync("import", () => Task.FromResult(Imported(imported)), t => (t.Outcome, t.Detail))
            : await run.StepAsync("train", () => TrialFanOut.TrainAsync(context, input, split, cancel, scoreWhileTraining && !input.Spec.Trainer.IsCustom), t => (t.Outcome, t.Detail));
        run.Trained(training.Trials);
        if (training.Cancelled is { } cancelled)
        {
            return Cancelled(cancelled);
        }

        if (training.Best is not { } job)
        {
            PipelineLog.TrainingFailed(logger, input.RunId, training.Detail);
            return run.Finish(RunOutcome.TrainingFailed, training.Detail);
        }

        var evaluate = new EvaluateInput(input.RunId, input.Spec, job, split, champion is null ? null : await champion);
        var evaluation = await EvaluateAsync(context, run, evaluate);
        if (!evaluation.Verdict.Passed)
        {
            PipelineLog.GateFailed(logger, input.RunId, input.Spec.Name);
            return run.Finish(RunOutcome.GateFailed);
        }

        if (cancel.IsCompleted)
        {
            return Cancelled(await cancel);
        }

        if (input.Spec.Evaluation.Approval is { Required: true } approval)
        {
            var decision = await run.StepAsync(
                PipelineEvents.ApprovalStep,
                () => WaitForApprovalAsync(context, approval, cancel),
                d => (d is null ? "cancelled" : d.Approved ? "approved" : "rejected", d is null ? null : $"{d.Actor}: {d.Reason}"));
            if (decision is null)
            {
                return Cancelled(await cancel);
            }

            await context.CallActivityAsync<bool>(nameof(RecordApprovalActivity), new ApprovalRecord(input.Spec.Name, input.RunId, decision), PipelineRetry.Storage);
            if (!decision.Approved)
            {
                return run.Finish(RunOutcome.NotApproved, $"Not approved by {decision.Actor}: {decision.Reason}");
            }
        }

        var registered = await run.StepAsync(
            "register",
            () => context.CallActivityAsync<RegisteredVersion>(nameof(RegisterModelActivity), new RegisterInput(input.RunId, input.Spec, input.Dataset, job, evaluation, report.ProfilePath, input.Trigger, input.Reason, training.Trials, input.Import), PipelineRetry.Storage),
            v => ("done", $"version {v.Version}"));
        run.Registered(registered.Version);
        if (cancel.IsCompleted)
        {
            // Asked during approval or registration: the version stays registered and is never promoted.
            return Cancelled(await cancel);
        }

        if (input.Spec.Rollout.Strategy != RolloutStrategies.Direct)
        {
            var rollout = await run.StepAsync("rollout", () => RollOutAsync(context, input, registered.Version, cancel), r => (r.Status, r.Reason));
            switch (rollout.Status)
            {
                case RolloutStatuses.Cancelled:
                    return Cancelled(await cancel);
                case RolloutStatuses.Superseded:
                    return run.Finish(RunOutcome.Superseded, rollout.Reason);
                case not RolloutStatuses.Promoted:
                    return run.Finish(RunOutcome.RolledBack, $"Rolled back: {rollout.Reason}");
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

                if (regates < MaxRegates && (evaluation = await EvaluateAsync(context, run, evaluate)).Verdict.Passed)
                {
                    continue;
                }

                var why = $"Superseded: champion moved to version {promoted.Version} after this run's gate, and version {registered.Version} "
                    + (evaluation.Verdict.Passed ? $"was gated {MaxRegates + 1} times while it kept moving" : $"did not pass the gate again against it ({Describe(evaluation.Verdict)})")
                    + "; it stays registered and can be promoted by hand.";
                await context.CallActivityAsync<bool>(nameof(RecordSupersededActivity), new SupersededRecord(input.RunId, input.Spec.Name, registered.Version, promoted.Version, why), PipelineRetry.Storage);
                return run.Finish(RunOutcome.Superseded, why);
            }
        }

        PipelineLog.RunSucceeded(logger, input.RunId, input.Spec.Name, registered.Version);
        return run.Finish(RunOutcome.Succeeded);
    }

    /// <summary>
    /// A reproduce run: the version's recorded lineage is checked, its dataset validated (which
    /// compares the bytes' SHA-256 with the recorded one) and split again, one job trained with the
    /// recorded algorithm, hyperparameters and seed, and the new ONNX file's SHA-256 compared with the
    /// version's. It ends reproduced or notReproduced with every difference named, and registers nothing.
    /// </summary>
    private static async Task<TrainingRunResult> ReproduceAsync(TaskOrchestrationContext context, TrainingRunRequest input, ReproduceTarget target, RunProgress run, Task<CancelRequest> cancel)
    {
        TrainingRunResult Ended(Reproduction reproduction)
        {
            run.Reproduced(reproduction);
            return reproduction.Reproduced
                ? run.Finish(RunOutcome.Reproduced)
                : run.Finish(RunOutcome.NotReproduced, $"Version {target.Version} was not reproduced: {Reproduction.Describe(reproduction.Differences)}.");
        }

        TrainingRunResult NotReproduced(IReadOnlyList<ReproductionDifference> differences) => Ended(Reproduction.Failed(target, differences));

        var lineage = await run.StepAsync(
            "lineage",
            () => context.CallActivityAsync<LineageCheck>(nameof(CheckLineageActivity), new LineageInput(input.RunId, input.Spec.Name, target.Version, input.Dataset), PipelineRetry.Storage),
            l => l.Differences.Count == 0 ? ("holds", $"the spec hashes as recorded; {input.Dataset.Path} is there") : ("differs", Reproduction.Describe(l.Differences)));
        if (lineage.Differences.Count > 0)
        {
            return NotReproduced(lineage.Differences);
        }

        var report = await run.StepAsync(
            "validate",
            () => context.CallActivityAsync<ValidationReport>(nameof(ValidateDatasetActivity), new DatasetStepInput(input.RunId, input.Spec, input.Dataset), PipelineRetry.Storage),
            r => (r.IsValid ? "passed" : "rejected", Describe(r)));
        run.Validated(report);
        if (!report.IsValid)
        {
            return NotReproduced([.. report.Findings.Where(f => f.IsBlocking).Select(f => new ReproductionDifference(
                ReproductionDifferences.Dataset,
                f.Rule == DataRules.Identity ? $"{input.Dataset.Path} changed since version {target.Version} was trained: {f.Message}" : $"{input.Dataset.Path} no longer validates under the recorded spec: {f.Column}: {f.Message}"))]);
        }

        // Validation splits in its pass; only a run validated by an earlier version of the product lacks the counts.
        var counts = report.Split ?? throw new InvalidOperationException($"Run {input.RunId}: the validate step wrote no split.");

        var split = await run.StepAsync(
            "split",
            () => Task.FromResult(SplitDatasetActivity.Paths(input.RunId, counts)),
            s => ("done", $"train {s.Counts.Train}, validation {s.Counts.Validation}, test {s.Counts.Test} rows"));
        var training = await run.StepAsync("train", () => TrialFanOut.TrainAsync(context, input, split, cancel), t => (t.Outcome, t.Detail));
        run.Trained(training.Trials);
        if (training.Cancelled is { } cancelled)
        {
            return run.Finish(RunOutcome.Cancelled, $"Cancelled by {cancelled.Actor}: {cancelled.Reason}");
        }

        if (training.Best is not { } job)
        {
            return NotReproduced([new ReproductionDifference(ReproductionDifferences.Training, training.Detail)]);
        }

        var reproduction = await run.StepAsync(
            "compare",
            () => Task.FromResult(Reproduction.Compare(target, job)),
            r => r.Reproduced ? ("reproduced", $"SHA-256 {r.Sha256} is version {target.Version}'s") : ("differs", Reproduction.Describe(r.Differences)));
        return Ended(reproduction);
    }

    /// <summary>An imported graph as the candidate a training job would have reported.</summary>
    private static TrainingOutcome Imported(ImportedModel imported) => new(
        new TrainingJobResult(
            "import",
            TrainingJobState.Succeeded,
            null,
            new Dictionary<string, double>(),
            [new TrainingArtifact(TrainingJobPaths.OnnxFileName, imported.Path, imported.Sha256, imported.SizeBytes)],
            null,
            0,
            "n/a (trained elsewhere)",
            imported.Producer,
            ImportedModel.Algorithm),
        [],
        null,
        "done",
        $"{imported.Producer}, SHA-256 {imported.Sha256[..12]}…, imported by {imported.Actor}");

    /// <summary>The champion scored on the test split, or null when that failed (the evaluate step then scores it itself).</summary>
    private static async Task<ChampionScore?> ScoreChampionAsync(TaskOrchestrationContext context, TrainingRunRequest input, DatasetSplit split)
    {
        try
        {
            return await context.CallActivityAsync<ChampionScore>(nameof(ScoreChampionActivity), new ScoreChampionInput(input.RunId, input.Spec, split.TestPath), PipelineRetry.Storage);
        }
        catch (TaskFailedException)
        {
            return null;
        }
    }

    /// <summary>The evaluate step: the candidate and the current champion on the test split, then the gate; the verdict is kept and counted.</summary>
    private static async Task<EvaluationResult> EvaluateAsync(TaskOrchestrationContext context, RunProgress run, EvaluateInput input)
    {
        var evaluation = await run.StepAsync(
            "evaluate",
            () => context.CallActivityAsync<EvaluationResult>(nameof(EvaluateModelActivity), input, PipelineRetry.Storage),
            e => (e.Verdict.Passed ? "passed" : "failed", Describe(e.Verdict)));
        run.Evaluated(evaluation);
        return evaluation;
    }

    /// <summary>The rollout sub-orchestration; a cancel request is passed on to it.</summary>
    private static async Task<RolloutState> RollOutAsync(TaskOrchestrationContext context, TrainingRunRequest input, int version, Task<CancelRequest> cancel)
    {
        var id = PipelineEvents.RolloutInstanceId(input.RunId);
        var rollout = context.CallSubOrchestratorAsync<RolloutState>(nameof(RolloutOrchestrator), new RolloutInput(input.RunId, input.Spec, version), new SubOrchestrationOptions(new TaskOptions(), id));
        if (await Task.WhenAny(rollout, cancel) == cancel)
        {
            context.SendEvent(id, PipelineEvents.CancelRequested, await cancel);
        }

        return await rollout;
    }

    /// <summary>A person's decision, a rejection when the timeout passes first, or null when the run is cancelled.</summary>
    private static async Task<ApprovalDecision?> WaitForApprovalAsync(TaskOrchestrationContext context, ApprovalSpec approval, Task<CancelRequest> cancel)
    {
        var decided = context.WaitForExternalEvent<ApprovalDecision>(PipelineEvents.ApprovalDecided);
        var first = await context.TimerOrFirstAsync(context.CurrentUtcDateTime.AddHours(approval.TimeoutHours), decided, cancel);
        return first == decided ? await decided
            : first == cancel ? null
            : new ApprovalDecision(false, "timeout", $"no decision within {approval.TimeoutHours:G4} hour(s)");
    }

    internal static string Describe(Evaluation.GateVerdict verdict)
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
}
