using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Serving;

/// <summary>A model version ready to score: its registry entry, the spec it was trained under, its session.</summary>
public sealed record LoadedModel(ModelVersion Version, ModelSpec Spec, OnnxModel Onnx);

/// <summary>
/// A loaded model held for one request. While any lease is open the session stays alive, even
/// if its last alias moves away meanwhile; dispose the lease when scoring is done.
/// </summary>
public sealed class ModelLease : IDisposable
{
    private readonly ModelServer.Session session;
    private int released;

    internal ModelLease(ModelServer.Session session) => this.session = session;

    public LoadedModel Model => session.Model;

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
/// seconds. A session is retired when no cached reference points at it any more (its last
/// alias moved, and version pins went unused for a while); it is disposed once its in-flight
/// requests have released their leases, so an alias move fails no request.
/// </summary>
public sealed class ModelServer(ModelRegistry registry, ModelArtifactStore artifacts, IOptions<ServingOptions> options, TimeProvider clock) : IDisposable
{
    private readonly ConcurrentDictionary<(string Model, int Version), Lazy<Task<Session>>> sessions = new();
    private readonly ConcurrentDictionary<(string Model, string Reference), (ModelVersion Version, DateTimeOffset Expires)> references = new();
    private readonly Lock retireLock = new();

    /// <summary>The versions with a live session, for diagnostics and tests.</summary>
    public IReadOnlyList<(string Model, int Version)> Loaded =>
        sessions.Where(s => s.Value.IsValueCreated && s.Value.Value.IsCompletedSuccessfully).Select(s => s.Key).Order().ToList();

    /// <summary>Resolves <paramref name="reference"/> (alias or version) and leases its loaded model; dispose the lease after scoring.</summary>
    public async Task<ModelLease> AcquireAsync(string model, string reference, CancellationToken cancellationToken)
    {
        while (true)
        {
            var version = await ResolveAsync(model, reference, cancellationToken);
            var key = (model, version.Version);
            var lazy = sessions.GetOrAdd(key, k => new Lazy<Task<Session>>(() => LoadAsync(version)));
            Session session;
            try
            {
                session = await lazy.Value.WaitAsync(cancellationToken);
            }
            catch (Exception) when (lazy.Value.IsFaulted)
            {
                // A failed load is not cached: the next request tries again.
                sessions.TryRemove(new KeyValuePair<(string, int), Lazy<Task<Session>>>(key, lazy));
                throw;
            }

            if (session.TryAcquire())
            {
                return new ModelLease(session);
            }

            // Retired and disposed between the lookup and the lease: resolve again.
            sessions.TryRemove(new KeyValuePair<(string, int), Lazy<Task<Session>>>(key, lazy));
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

    private async Task<ModelVersion> ResolveAsync(string model, string reference, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (references.TryGetValue((model, reference), out var cached) && cached.Expires > now)
        {
            return cached.Version;
        }

        var version = await registry.ResolveAsync(model, reference, cancellationToken);
        if (version.Status is ModelVersionStatus.Archived or ModelVersionStatus.Deleted)
        {
            throw new InvalidOperationException($"Version {version.Version} of '{model}' is {version.Status.ToString().ToLowerInvariant()} and is not served.");
        }

        if (version.Status != ModelVersionStatus.Ready)
        {
            throw new ModelVersionNotFoundException(model, version.Version);
        }

        references[(model, reference)] = (version, now.AddSeconds(options.Value.AliasCacheSeconds));
        RetireUnreferenced(now);
        return version;
    }

    /// <summary>
    /// Forgets references unused for <see cref="ServingOptions.IdleSessionSeconds"/> past their
    /// expiry, then retires every session no remaining reference points at.
    /// </summary>
    private void RetireUnreferenced(DateTimeOffset now)
    {
        lock (retireLock)
        {
            var idle = TimeSpan.FromSeconds(options.Value.IdleSessionSeconds);
            foreach (var stale in references.Where(r => r.Value.Expires + idle < now).ToList())
            {
                references.TryRemove(stale);
            }

            var referenced = references.Values.Select(r => (r.Version.Model, r.Version.Version)).ToHashSet();
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
        var card = await artifacts.ReadCardAsync(version, CancellationToken.None);
        var bytes = await artifacts.ReadModelAsync(version, CancellationToken.None);
        var onnx = new OnnxModel(bytes, card.Spec);

        // Warm up: the first Run allocates and optimizes; pay for it here, not in a request.
        var warmup = new FeatureBatch(card.Spec, 1);
        foreach (var feature in card.Spec.Features.Where(f => !f.IsNumeric))
        {
            warmup.SetCategorical(feature.Name, 0, "");
        }

        onnx.Predict(warmup);
        return new Session(new LoadedModel(version, card.Spec, onnx));
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
