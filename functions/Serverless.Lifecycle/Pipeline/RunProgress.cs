using Microsoft.DurableTask;

namespace Serverless.Lifecycle.Pipeline;

/// <summary>
/// Records a run's steps with their timing (from the orchestration clock, so replay-safe) and
/// publishes them as the orchestration's custom status after each change.
/// </summary>
internal sealed class RunProgress(TaskOrchestrationContext context, string runId, string model)
{
    private readonly List<RunStep> steps = [];

    public async Task<T> StepAsync<T>(string name, Func<Task<T>> action, Func<T, (string Outcome, string? Detail)> describe)
    {
        var started = context.CurrentUtcDateTime;
        steps.Add(new RunStep(name, started, null, "running", null));
        Publish();
        T value;
        try
        {
            value = await action();
        }
        catch (TaskFailedException ex)
        {
            steps[^1] = steps[^1] with { CompletedAt = context.CurrentUtcDateTime, Outcome = "error", Detail = ex.FailureDetails.ErrorMessage };
            Publish();
            throw;
        }

        var (outcome, detail) = describe(value);
        steps[^1] = steps[^1] with { CompletedAt = context.CurrentUtcDateTime, Outcome = outcome, Detail = detail };
        Publish();
        return value;
    }

    public TrainingRunResult Finish(RunOutcome outcome) => new(runId, model, outcome, steps.ToArray());

    private void Publish() => context.SetCustomStatus(new TrainingRunResult(runId, model, null, steps.ToArray()));
}
