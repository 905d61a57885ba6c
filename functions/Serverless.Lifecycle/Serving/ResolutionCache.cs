using System.Collections.Concurrent;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Serving;

/// <summary>What a <see cref="ResolutionCache{TKey, TValue}"/> answered, and whether it is past its freshness because storage is away.</summary>
public readonly record struct Resolution<TValue>(TValue Value, bool Stale, bool Refreshed = false);

/// <summary>Since when, and why, storage has failed the serving path's reads.</summary>
public sealed record StorageFailure(DateTimeOffset Since, string Reason);

/// <summary>
/// The serving path's cache of registry reads (alias resolutions, running rollouts). A value is
/// reused for <see cref="ServingOptions.AliasCacheSeconds"/>; then it is read again, within
/// <see cref="ServingOptions.RefreshTimeoutSeconds"/>. When that read fails because storage is away,
/// the last value keeps answering for up to <see cref="ServingOptions.MaxStaleSeconds"/> after it was
/// read (marked stale, and not read again for a short backoff, so an outage costs requests no waiting);
/// past that, or with nothing cached, the failure is a <see cref="StorageUnavailableException"/>.
/// Written here rather than taken from a caching library: the stale-on-failure rule with a bound and the
/// per-entry backoff are the point, and neither MemoryCache nor HybridCache serves a stale entry on failure.
/// </summary>
public sealed class ResolutionCache<TKey, TValue>(ServingOptions options, TimeProvider clock)
    where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, Entry> entries = new();

    /// <summary>The cached values, for deciding which sessions to keep.</summary>
    public IEnumerable<(TKey Key, TValue Value)> Entries => entries.Select(e => (e.Key, e.Value.Value));

    private StorageFailure? failing;

    /// <summary>Since when storage has failed reads here, and why; null once a read succeeds again.</summary>
    public StorageFailure? Failing => Volatile.Read(ref failing);

    /// <summary>Whether some entry may still answer without storage (read within <see cref="ServingOptions.MaxStaleSeconds"/>).</summary>
    public bool CanAnswerWithoutStorage => entries.Values.Any(e => clock.GetUtcNow() <= e.ReadAt.AddSeconds(options.MaxStaleSeconds));

    public async Task<Resolution<TValue>> GetAsync(TKey key, Func<CancellationToken, Task<TValue>> read, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        var now = clock.GetUtcNow();
        if (entries.TryGetValue(key, out var entry))
        {
            entry.LastUsed = now;
            if (now < entry.ReadAt.AddSeconds(options.AliasCacheSeconds))
            {
                return new(entry.Value, Stale: false);
            }

            if (now <= entry.ReadAt.AddSeconds(options.MaxStaleSeconds))
            {
                if (now < entry.RetryAt)
                {
                    return new(entry.Value, Stale: true);
                }

                using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                bounded.CancelAfter(TimeSpan.FromSeconds(options.RefreshTimeoutSeconds));
                try
                {
                    return new(Store(key, await read(bounded.Token), now), Stale: false, Refreshed: true);
                }
                catch (Exception ex) when (StorageFaults.IsTransient(ex) && !cancellationToken.IsCancellationRequested)
                {
                    NoteFailure(ex, now);
                    entry.RetryAt = clock.GetUtcNow() + StorageFaults.Backoff(entry.Failed() - 1, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(Math.Max(1, options.AliasCacheSeconds)));
                    return new(entry.Value, Stale: true);
                }
            }
        }

        // Nothing to fall back on. While storage is known to be failing, a request waits no longer
        // than a refresh would, rather than through all of the SDK's retries.
        using var cold = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (Failing is not null)
        {
            cold.CancelAfter(TimeSpan.FromSeconds(options.RefreshTimeoutSeconds));
        }

        try
        {
            return new(Store(key, await read(cold.Token), now), Stale: false, Refreshed: true);
        }
        catch (Exception ex) when (StorageFaults.IsTransient(ex) && !cancellationToken.IsCancellationRequested)
        {
            NoteFailure(ex, now);
            throw new StorageUnavailableException(entry is null
                ? $"Storage is unreachable ({StorageFaults.Describe(ex)}), and this host has not read it before."
                : $"Storage is unreachable ({StorageFaults.Describe(ex)}), and what this host read last is older than Serving:MaxStaleSeconds ({options.MaxStaleSeconds} s).", ex);
        }
    }

    /// <summary>Forgets one entry: the next request reads it from storage.</summary>
    public void Forget(TKey key) => entries.TryRemove(key, out _);

    /// <summary>Forgets entries not used since <paramref name="before"/>.</summary>
    public void ForgetUnusedSince(DateTimeOffset before)
    {
        foreach (var (key, entry) in entries)
        {
            if (entry.LastUsed < before)
            {
                entries.TryRemove(new KeyValuePair<TKey, Entry>(key, entry));
            }
        }
    }

    /// <summary>Counts a failed read and remembers since when storage has been failing (the first failure of an outage).</summary>
    private void NoteFailure(Exception exception, DateTimeOffset now)
    {
        Observability.Telemetry.StorageFailed(Observability.TelemetryNames.Components.Serving);
        Interlocked.CompareExchange(ref failing, new StorageFailure(now, StorageFaults.Describe(exception)), null);
    }

    private TValue Store(TKey key, TValue value, DateTimeOffset now)
    {
        entries[key] = new Entry(value, now) { LastUsed = now };
        Volatile.Write(ref failing, null);
        return value;
    }

    private sealed class Entry(TValue value, DateTimeOffset readAt)
    {
        public TValue Value { get; } = value;

        public DateTimeOffset ReadAt { get; } = readAt;

        public DateTimeOffset LastUsed { get; set; }

        private int failures;

        public DateTimeOffset RetryAt { get; set; }

        /// <summary>Counts one more failed refresh; returns how many in a row.</summary>
        public int Failed() => Interlocked.Increment(ref failures);
    }
}
