using Microsoft.DurableTask;

namespace Serverless.Lifecycle.Pipeline;

/// <summary>The one way the orchestrators wait for an event with a deadline.</summary>
internal static class OrchestrationRaces
{
    /// <summary>
    /// Waits until <paramref name="fireAt"/> or until one of <paramref name="events"/> completes,
    /// whichever is first, and returns that task (the timer's when time ran out). A timer that lost
    /// is cancelled, so the orchestration does not wait for it before it can end.
    /// </summary>
    public static async Task<Task> TimerOrFirstAsync(this TaskOrchestrationContext context, DateTime fireAt, params Task[] events)
    {
        using var lost = new CancellationTokenSource();
        var timer = context.CreateTimer(fireAt, lost.Token);
        var first = await Task.WhenAny([timer, .. events]);
        if (first != timer)
        {
            // Synchronously: CancelAsync would continue on the thread pool, off the orchestration's thread.
#pragma warning disable CA1849
            lost.Cancel();
#pragma warning restore CA1849
        }

        return first;
    }
}
