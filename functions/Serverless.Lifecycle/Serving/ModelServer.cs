using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Scoring;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Serving;

/// <summary>A model version ready to score: its registry entry, the spec it was trained under, its session, and what loading it took.</summary>
public sealed record LoadedModel(ModelVersion Version, ModelSpec Spec, OnnxModel Onnx)
{
    public ModelLoadTimings? Load { get; init; }
}

/// <summary>
/// Milliseconds of each phase of loading a version, for the first request's latency: reading its card,
/// downloading its ONNX file and checking its SHA-256, creating the session, and the warm-up call.
/// </summary>
public sealed record ModelLoadTimings(double CardMs, double DownloadMs, double SessionMs, double WarmupMs);

/// <summary>
/// A loaded model held for one request. While any lease is open the session stays alive, even
/// if its last alias moves away meanwhile; dispose the lease when scoring is done.
/// </summary>
public sealed class ModelLease : IDisposable
{
    private readonly ModelServer.Session session;
    private int released;

    internal ModelLease(ModelServer.Session session, bool stale, string? standingInFor)
    {
        this.session = session;
        Stale = stale;
        StandingInFor = standingInFor;
    }

    public LoadedModel Model => session.Model;

    /// <summary>True when the reference was resolved from what this host read before storage became unreachable.</summary>
    public bool Stale { get; }

    /// <summary>
    /// Why the reference's own version is not the one answering, when it cannot be served (its file
    /// failed its hash check or will not load) and the version served before keeps answering instead.
    /// </summary>
    public string? StandingInFor { get; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref released, 1) == 0)
        {
            session.Release();
        }
    }
}

/// <summary>
/// Resolves model references and holds one loaded session per (model, version), created on
/// first use, warmed up, and shared by all requests. Alias resolutions are cached for a few
/// seconds, and kept answering for <see cref="ServingOptions.MaxStaleSeconds"/> while storage is
/// unreachable (see <see cref="ResolutionCache{TKey, TValue}"/>). A session is retired when no
/// reference points at it any more (its last alias moved, and version pins went unused for a
/// while); it is disposed once its in-flight requests have released their leases, so an alias
/// move fails no request.
/// <para>
/// A version whose files fail their SHA-256 check or will not load is unservable: the failure is
/// remembered for <see cref="ServingOptions.UnservableRetrySeconds"/> (no download storm), recorded
/// on the version in the registry, and answered as <see cref="ModelVersionUnservableException"/>;
/// a reference that moved to it keeps being answered by the version it served before, while that
/// one is still loaded, until someone moves the reference again.
/// </para>
/// </summary>
public sealed partial class ModelServer(ModelRegistry registry, ModelArtifactStore artifacts, IOptions<ServingOptions> options, TimeProvider clock, ILogger<ModelServer>? logger = null) : IDisposable
{
    // A load that failed because storage was away is tried again this soon; a bad file waits UnservableRetrySeconds.
    private static readonly TimeSpan TransientLoadRetry = TimeSpan.FromSeconds(5);

    private readonly ILogger log = logger ?? NullLogger<ModelServer>.Instance;
    private readonly ConcurrentDictionary<(string Model, int Version), Lazy<Task<Session>>> sessions = new();
    private readonly ConcurrentDictionary<(string Model, int Version), LoadFailure> failures = new();
    private readonly ConcurrentDictionary<(string Model, string Reference), ModelVersion> served = new();
    private readonly ResolutionCache<(string Model, string Reference), ModelVersion> references = new(options.Value, clock);
    private readonly Lock retireLock = new();

    /// <summary>The versions with a live session, for diagnostics and tests.</summary>
    public IReadOnlyList<(string Model, int Version)> Loaded => [.. LoadedModels.Select(m => (m.Version.Model, m.Version.Version))];

    /// <summary>The loaded versions with what loading each took, for diagnostics (GET /status).</summary>
    public IReadOnlyList<LoadedModel> LoadedModels =>
        [.. sessions.Where(s => s.Value.IsValueCreated && s.Value.Value.IsCompletedSuccessfully).OrderBy(s => s.Key).Select(s => s.Value.Value.Result.Model)];

    /// <summary>Versions remembered as unservable, with the reason, for readiness and diagnostics.</summary>
    public IReadOnlyList<(string Model, int Version, string Reason)> Unservable =>
        failures.Where(f => !f.Value.Transient && f.Value.Until > clock.GetUtcNow()).Select(f => (f.Key.Model, f.Key.Version, f.Value.Reason)).Order().ToList();

    /// <summary>Since when, and why, storage has failed the serving path's reads; null while it answers.</summary>
    public StorageFailure? StorageFailing => references.Failing;

    /// <summary>Whether a loaded model may still answer without storage (a resolution read within Serving:MaxStaleSeconds).</summary>
    public bool CanServeWithoutStorage => Loaded.Count > 0 && references.CanAnswerWithoutStorage;

    /// <summary>Resolves <paramref name="reference"/> (alias or version) and leases its loaded model; dispose the lease after scoring.</summary>
    /// <exception cref="StorageUnavailableException">Storage is unreachable and nothing read before may answer.</exception>
    /// <exception cref="ModelVersionUnservableException">The version's files cannot be loaded, and no earlier version is standing in.</exception>
    public async Task<ModelLease> AcquireAsync(string model, string reference, CancellationToken cancellationToken)
    {
        var key = (model, reference);
        var reread = false;
        while (true)
        {
            var now = clock.GetUtcNow();
            var resolution = await references.GetAsync(key, ct => ResolveReadyAsync(model, reference, ct), cancellationToken);
            var version = resolution.Value;
            Session session;
            Lazy<Task<Session>> entry;
            try
            {
                (session, entry) = await SessionAsync(version, cancellationToken);
            }
            catch (Exception ex) when (ex is ModelVersionUnservableException or StorageUnavailableException
                && served.TryGetValue(key, out var before) && before.Version != version.Version && TryLease(before) is { } standIn)
            {
                return new ModelLease(standIn, resolution.Stale, ex.Message);
            }
            catch (ModelVersionUnservableException) when (!resolution.Refreshed && !reread && !ModelReference.IsVersion(reference))
            {
                // The alias may have moved off the bad version (a rollback) since it was cached: read it again once.
                references.Forget(key);
                reread = true;
                continue;
            }

            if (!session.TryAcquire())
            {
                // Retired and disposed between the lookup and the lease: resolve again.
                sessions.TryRemove(new KeyValuePair<(string, int), Lazy<Task<Session>>>((model, version.Version), entry));
                continue;
            }

            var changed = !served.TryGetValue(key, out var last) || last.Version != version.Version;
            if (changed)
            {
                served[key] = version;
            }

            if (changed || resolution.Refreshed)
            {
                RetireUnreferenced(now);
            }

            return new ModelLease(session, resolution.Stale, null);
        }
    }

    public void Dispose()
    {
        foreach (var lazy in sessions.Values)
        {
            if (lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully)
            {
                lazy.Value.Result.Retire();
            }
        }

        sessions.Clear();
    }

    private async Task<ModelVersion> ResolveReadyAsync(string model, string reference, CancellationToken cancellationToken)
    {
        var version = await registry.ResolveAsync(model, reference, cancellationToken);
        if (version.Status is ModelVersionStatus.Archived or ModelVersionStatus.Deleted)
        {
            throw new InvalidOperationException($"Version {version.Version} of '{model}' is {version.Status.ToString().ToLowerInvariant()} and is not served.");
        }

        return version.Status == ModelVersionStatus.Ready ? version : throw new ModelVersionNotFoundException(model, version.Version);
    }

    private Lazy<Task<Session>>? SessionEntry(ModelVersion version) => sessions.TryGetValue((version.Model, version.Version), out var lazy) ? lazy : null;

    /// <summary>The version's session, loading it on first use; a failed load is remembered for a while.</summary>
    private async Task<(Session Session, Lazy<Task<Session>> Entry)> SessionAsync(ModelVersion version, CancellationToken cancellationToken)
    {
        var key = (version.Model, version.Version);
        if (failures.TryGetValue(key, out var remembered) && remembered.Until > clock.GetUtcNow())
        {
            throw remembered.ToException(version, options.Value.UnservableRetrySeconds);
        }

        var lazy = sessions.GetOrAdd(key, k => new Lazy<Task<Session>>(() => LoadAsync(version)));
        try
        {
            return (await lazy.Value.WaitAsync(cancellationToken), lazy);
        }
        catch (Exception ex) when (lazy.Value.IsCompleted && !lazy.Value.IsCompletedSuccessfully)
        {
            // Faulted, or canceled (an SDK timeout): either way the load failed and is not kept.
            var error = lazy.Value.Exception?.InnerException ?? ex;
            var transient = StorageFaults.IsTransientWithin(error) || error is OperationCanceledException;
            var failure = LoadFailure.From(error, transient, clock.GetUtcNow() + (transient ? TransientLoadRetry : TimeSpan.FromSeconds(options.Value.UnservableRetrySeconds)));
            if (sessions.TryRemove(new KeyValuePair<(string, int), Lazy<Task<Session>>>(key, lazy)))
            {
                // The one request that takes the failed load out remembers, logs and records it; the others waiting on it just answer.
                failures[key] = failure;
                if (!transient)
                {
                    LogUnservable(error, version.Model, version.Version, failure.Reason, options.Value.UnservableRetrySeconds);
                    _ = RecordProblemAsync(version, failure.Reason);
                }
            }

            throw failure.ToException(version, options.Value.UnservableRetrySeconds);
        }
    }

    /// <summary>A lease on a version that is already loaded, or null; used to stand in for an unservable one.</summary>
    private Session? TryLease(ModelVersion version) =>
        SessionEntry(version) is { IsValueCreated: true } lazy && lazy.Value.IsCompletedSuccessfully && lazy.Value.Result.TryAcquire() ? lazy.Value.Result : null;

    /// <summary>
    /// Forgets references unused for <see cref="ServingOptions.IdleSessionSeconds"/> past their cache
    /// time, then retires every session that neither a remaining reference resolves to nor was the
    /// last one a remaining reference served (the stand-in for an unservable version).
    /// </summary>
    private void RetireUnreferenced(DateTimeOffset now)
    {
        lock (retireLock)
        {
            references.ForgetUnusedSince(now - TimeSpan.FromSeconds(options.Value.AliasCacheSeconds + options.Value.IdleSessionSeconds));
            var live = references.Entries.Select(r => r.Key).ToHashSet();
            foreach (var gone in served.Keys.Where(k => !live.Contains(k)).ToList())
            {
                served.TryRemove(gone, out _);
            }

            var referenced = references.Entries.Select(r => (r.Value.Model, r.Value.Version))
                .Concat(served.Values.Select(v => (v.Model, v.Version)))
                .ToHashSet();
            foreach (var (key, lazy) in sessions.Where(s => !referenced.Contains(s.Key) && s.Value.IsValueCreated && s.Value.Value.IsCompletedSuccessfully).ToList())
            {
                if (sessions.TryRemove(new KeyValuePair<(string, int), Lazy<Task<Session>>>(key, lazy)))
                {
                    lazy.Value.Result.Retire();
                }
            }
        }
    }

    private async Task<Session> LoadAsync(ModelVersion version)
    {
        var phase = System.Diagnostics.Stopwatch.StartNew();
        var card = await artifacts.ReadCardAsync(version, CancellationToken.None);
        var cardMs = Lap(phase);
        var bytes = await artifacts.ReadModelAsync(version, CancellationToken.None);
        var downloadMs = Lap(phase);
        var onnx = new OnnxModel(bytes, card.Spec);
        var sessionMs = Lap(phase);
        try
        {
            // Warm up: the first Run allocates and optimizes; pay for it here, not in a request.
            var warmup = new FeatureBatch(card.Spec, 1);
            foreach (var feature in card.Spec.Features.Where(f => !f.IsNumeric))
            {
                warmup.SetCategorical(feature.Name, 0, "");
            }

            onnx.Predict(warmup);
        }
        catch
        {
            onnx.Dispose();
            throw;
        }

        if (version.ServingProblem is not null)
        {
            // The file was put right (restored from a blob version, say): the registry says so again.
            _ = RecordProblemAsync(version, null);
        }

        return new Session(new LoadedModel(version, card.Spec, onnx) { Load = new ModelLoadTimings(cardMs, downloadMs, sessionMs, Lap(phase)) });

        static double Lap(System.Diagnostics.Stopwatch watch)
        {
            var elapsed = watch.Elapsed.TotalMilliseconds;
            watch.Restart();
            return elapsed;
        }
    }

    /// <summary>Writes (or clears) the version's serving problem in the registry; best effort, off the request path.</summary>
    private async Task RecordProblemAsync(ModelVersion version, string? problem)
    {
        try
        {
            await registry.RecordServingProblemAsync(version.Model, version.Version, problem, CancellationToken.None);
        }
        catch (Exception ex)
        {
            LogProblemNotRecorded(ex, version.Model, version.Version);
        }
    }

    [LoggerMessage(EventId = 4000, Level = LogLevel.Error, Message = "Version {ModelVersion} of {ModelName} cannot be served: {Reason}. Requests for it get 503 (or the version served before answers) for the next {RetrySeconds} s, then a load is tried again.")]
    private partial void LogUnservable(Exception exception, string modelName, int modelVersion, string reason, int retrySeconds);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "Could not record the serving state of version {ModelVersion} of {ModelName} in the registry.")]
    private partial void LogProblemNotRecorded(Exception exception, string modelName, int modelVersion);

    /// <summary>A failed load, remembered until <see cref="Until"/>.</summary>
    private sealed record LoadFailure(Exception Error, string Reason, bool Transient, DateTimeOffset Until)
    {
        public static LoadFailure From(Exception error, bool transient, DateTimeOffset until) => new(error, Explain(error), transient, until);

        public Exception ToException(ModelVersion version, int retrySeconds) => Transient
            ? new StorageUnavailableException($"Storage is unreachable while loading version {version.Version} of '{version.Model}': {Reason}", Error)
            : new ModelVersionUnservableException(version.Model, version.Version, Reason, retrySeconds);

        private static string Explain(Exception error) => ModelArtifactStore.ArtifactFault(error) ?? StorageFaults.Describe(error);
    }

    /// <summary>One loaded version with its count of open leases.</summary>
    internal sealed class Session(LoadedModel model)
    {
        private readonly Lock gate = new();
        private int leases;
        private bool retired;
        private bool disposed;

        public LoadedModel Model { get; } = model;

        public bool IsDisposed
        {
            get
            {
                lock (gate)
                {
                    return disposed;
                }
            }
        }

        public bool TryAcquire()
        {
            lock (gate)
            {
                if (disposed)
                {
                    return false;
                }

                leases++;
                return true;
            }
        }

        public void Release()
        {
            lock (gate)
            {
                leases--;
                DisposeIfDone();
            }
        }

        /// <summary>No new leases are wanted; the session goes as soon as the open ones are released.</summary>
        public void Retire()
        {
            lock (gate)
            {
                retired = true;
                DisposeIfDone();
            }
        }

        private void DisposeIfDone()
        {
            if (retired && leases == 0 && !disposed)
            {
                disposed = true;
                Model.Onnx.Dispose();
            }
        }
    }
}
