using Microsoft.DurableTask;
using Serverless.Lifecycle.Pipeline.Activities;
using Serverless.Lifecycle.Training;

namespace Serverless.Lifecycle.Pipeline;

/// <summary>
/// One training job, as a sub-orchestration with instance id <see cref="PipelineEvents.JobInstanceId"/>:
/// start it, then wait for its <see cref="PipelineEvents.TrainingCompleted"/> callback with a
/// durable timer as timeout; when the timer fires, check the job's status. A job whose execution
/// ended without reporting is started again (same job id; the trainer is idempotent) up to the
/// host's limit, with backoff. At the deadline or on <see cref="PipelineEvents.CancelRequested"/>
/// the job is stopped and the result says why.
/// </summary>
public sealed class TrainingJobOrchestrator : TaskOrchestrator<TrainingJobInput, TrainingJobReport>
{
    // A start that was lost waits 5 s, then 10 s, 20 s... before the next start.
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(5);

    // Status checks back off from the host's interval to at most 4 times it, so a day-long job
    // adds a bounded number of events to the history; the callback ends the wait at once anyway.
    private const int LongestCheckFactor = 4;

    public const string NoticedByCallback = "callback";
    public const string NoticedByStatusCheck = "status check";
    public const string NoticedByCancel = "cancel";

    public override async Task<TrainingJobReport> RunAsync(TaskOrchestrationContext context, TrainingJobInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var cancel = context.WaitForExternalEvent<CancelRequest>(PipelineEvents.CancelRequested);
        var completed = context.WaitForExternalEvent<TrainingCompletedEvent>(PipelineEvents.TrainingCompleted);
        var job = await context.CallActivityAsync<TrainingJobRef>(nameof(StartTrainingJobActivity), new StartTrainingInput(input, Attempt: 1), PipelineRetry.Storage);
        var lastLoss = "";
        var interval = job.StatusCheckInterval;
        while (context.CurrentUtcDateTime <= input.DeadlineUtc)
        {
            var noticedBy = NoticedByStatusCheck;

            // A job that had already reported (a restarted run) started nothing: look at once.
            if (job.ExecutionId is not null)
            {
                var wake = Min(context.CurrentUtcDateTime.Add(interval), input.DeadlineUtc);
                var first = await context.TimerOrFirstAsync(wake, completed, cancel);
                if (first == cancel)
                {
                    await StopAsync(context, job);
                    var request = await cancel;
                    return Report(job, TrainingJobResult.PipelineFailure(
                        input.JobId, TrainingJobState.Cancelled, $"Cancelled by {request.Actor}: {request.Reason}"), NoticedByCancel);
                }

                if (first == completed)
                {
                    // A completion for another job (a stray or duplicate delivery) only wakes the check below.
                    noticedBy = (await completed).JobId == input.JobId ? NoticedByCallback : NoticedByStatusCheck;
                    completed = context.WaitForExternalEvent<TrainingCompletedEvent>(PipelineEvents.TrainingCompleted);
                }
            }

            var status = await context.CallActivityAsync<TrainingJobStatus>(nameof(GetTrainingJobStatusActivity), job, PipelineRetry.Storage);
            if (status.Result is not null)
            {
                return Report(job, status.Result, noticedBy);
            }

            if (!status.Lost)
            {
                if (context.CurrentUtcDateTime >= input.DeadlineUtc)
                {
                    break;
                }

                interval = Min(interval * 2, job.StatusCheckInterval * LongestCheckFactor);
                continue;
            }

            lastLoss = status.Detail ?? "its execution ended without a result";
            if (job.Attempt >= job.MaxStarts)
            {
                return Report(job, TrainingJobResult.PipelineFailure(
                    input.JobId, TrainingJobState.Failed, $"The job ended without reporting {job.Attempt} time(s); the last time: {lastLoss}."), NoticedByStatusCheck);
            }

            var backoff = FirstBackoff * Math.Pow(2, job.Attempt - 1);
            await context.CreateTimer(Min(context.CurrentUtcDateTime.Add(backoff), input.DeadlineUtc), CancellationToken.None);
            job = await context.CallActivityAsync<TrainingJobRef>(nameof(StartTrainingJobActivity), new StartTrainingInput(input, job.Attempt + 1), PipelineRetry.Storage);
            interval = job.StatusCheckInterval;
        }

        await StopAsync(context, job);
        return Report(job, TrainingJobResult.PipelineFailure(
            input.JobId, TrainingJobState.Failed, $"The job did not report by its deadline ({input.DeadlineUtc:u}, from trainer.timeoutMinutes = {input.Spec.Trainer.TimeoutMinutes}); it was stopped."), NoticedByStatusCheck);
    }

    private static Task StopAsync(TaskOrchestrationContext context, TrainingJobRef job) =>
        context.CallActivityAsync<bool>(nameof(StopTrainingJobActivity), job, PipelineRetry.Storage);

    private static TrainingJobReport Report(TrainingJobRef job, TrainingJobResult result, string noticedBy) => new(result, job.Attempt, noticedBy);

    private static DateTime Min(DateTime a, DateTime b) => a < b ? a : b;

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
