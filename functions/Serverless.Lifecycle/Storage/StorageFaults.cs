using Azure;

namespace Serverless.Lifecycle.Storage;

/// <summary>
/// How the lifecycle reads a storage failure, and how long it waits before trying again. One place,
/// because every background loop, the serving path and the hand-written retries must agree: when
/// storage refuses connections the Azure SDK throws <see cref="AggregateException"/> once its own
/// retries are spent (not <see cref="RequestFailedException"/>), and a loop that catches only the
/// latter faults its <c>BackgroundService</c>, which stops the whole host.
/// </summary>
public static class StorageFaults
{
    /// <summary>
    /// True when <paramref name="exception"/> says storage could not be reached or answered with a
    /// server-side error (unreachable, refused, reset, timed out, 408, 429, 5xx): trying again later
    /// may succeed. A 4xx answer about the request itself (404, 409, 412, 403...) is not transient.
    /// </summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        RequestFailedException { Status: 0 or 408 or 429 or >= 500 } => true,
        RequestFailedException => false,
        AggregateException aggregate => aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(IsTransient),
        HttpRequestException or IOException or System.Net.Sockets.SocketException or TimeoutException => true,

        // The SDK's own network timeout surfaces as a cancellation that nobody asked for.
        TaskCanceledException or OperationCanceledException => true,
        _ => false,
    };

    /// <summary>
    /// <see cref="IsTransient"/> for the exception or one it wraps: libraries that call the SDK for us
    /// (the Durable Task Framework's storage provider) wrap its exceptions in their own types.
    /// </summary>
    public static bool IsTransientWithin(Exception exception)
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            if (current is not (TaskCanceledException or OperationCanceledException) && IsTransient(current))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Capped exponential backoff with jitter: <paramref name="first"/>, twice that, four times... never
    /// more than <paramref name="max"/>; each wait is 80-100% of its step, so hosts that failed
    /// together do not all come back in the same instant.
    /// </summary>
    public static TimeSpan Backoff(int attempt, TimeSpan first, TimeSpan max)
    {
        var step = first.TotalMilliseconds * Math.Pow(2, Math.Clamp(attempt, 0, 30));
        var capped = Math.Min(step, max.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.8 + (0.2 * Random.Shared.NextDouble())));
    }

    /// <summary>The first line of a failure's message, for a log line or an API answer that names why storage failed.</summary>
    public static string Describe(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var inner = exception is AggregateException { InnerExceptions.Count: > 0 } aggregate ? aggregate.InnerExceptions[^1] : exception;
        var message = inner.Message;
        var newline = message.IndexOf('\n', StringComparison.Ordinal);
        return (newline < 0 ? message : message[..newline]).Trim();
    }
}
