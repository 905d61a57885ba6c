using Microsoft.DurableTask;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Training;

namespace Serverless.Lifecycle.Pipeline;

/// <summary>What the train step produced: the best result (null when every trial failed or the run was cancelled), every trial, and the step's outcome.</summary>
internal sealed record TrainingOutcome(TrainingJobResult? Best, IReadOnlyList<TrialRecord> Trials, CancelRequest? Cancelled, string Outcome, string Detail);

/// <summary>The train step of <see cref="TrainingPipelineOrchestrator"/>: the run's trials fanned out as job sub-orchestrations and fanned in to the best.</summary>
internal static class TrialFanOut
{
    /// <summary>
    /// Runs the planned jobs, at most the search's <c>maxParallel</c> at a time, each as a
    /// sub-orchestration; a cancel request is passed on to the jobs still running. With
    /// <paramref name="scoreTest"/>, a run of one job has the job score its model on the test split
    /// (a search's trials do not: only the best is evaluated, by the evaluate step).
    /// </summary>
    public static async Task<TrainingOutcome> TrainAsync(TaskOrchestrationContext context, TrainingRunRequest input, DatasetSplit split, Task<CancelRequest> cancel, bool scoreTest = false)
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
                var job = new TrainingJobInput(input.RunId, plan.JobId, spec, input.Dataset, split, plan.Algorithm, plan.Hyperparameters, deadline, scoreTest && plans.Count == 1);
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
}
