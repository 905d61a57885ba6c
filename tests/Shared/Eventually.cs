namespace Serverless.Tests;

/// <summary>
/// Polling for something a host does in the background (a log flush, a timer pass, an alias
/// cache expiring). The wait ends when the probe's answer is the one wanted or when the deadline
/// passes; the caller asserts on the answer returned, so a test fails with what it last saw.
/// The deadlines are generous on purpose: they bound a hung test, they are not timing checks,
/// and a busy CI machine must not turn a slow pass into a failure.
/// </summary>
public static class Eventually
{
    /// <summary>The default bound for things that happen within seconds on an idle machine.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromMinutes(2);

    public static async Task<T> WaitAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan? deadline = null, TimeSpan? interval = null)
    {
        var until = DateTime.UtcNow + (deadline ?? Deadline);
        while (true)
        {
            var answer = await probe();
            if (done(answer) || DateTime.UtcNow >= until)
            {
                return answer;
            }

            await Task.Delay(interval ?? TimeSpan.FromMilliseconds(500));
        }
    }
}
