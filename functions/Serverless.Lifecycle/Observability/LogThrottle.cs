namespace Serverless.Lifecycle.Observability;

/// <summary>
/// At most one log line per <paramref name="interval"/> for something that can happen on every request
/// (records dropped, a rollout that cannot be read): the first caller in each interval is told to log,
/// the others are not. Thread-safe without a lock.
/// </summary>
public sealed class LogThrottle(TimeProvider clock, TimeSpan interval)
{
    private long last = long.MinValue;

    /// <summary>True for the one caller that should log now.</summary>
    public bool ShouldLog()
    {
        var now = clock.GetTimestamp();
        var previous = Interlocked.Read(ref last);
        return (previous == long.MinValue || clock.GetElapsedTime(previous, now) > interval)
            && Interlocked.CompareExchange(ref last, now, previous) == previous;
    }
}
