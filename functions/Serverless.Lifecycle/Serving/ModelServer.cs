using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Serving;

/// <summary>A model version ready to score: its registry entry, the spec it was trained under, its session.</summary>
public sealed record LoadedModel(ModelVersion Version, ModelSpec Spec, OnnxModel Onnx);

/// <summary>
/// Resolves model references and holds one loaded session per (model, version), created on
/// first use and shared by all requests. Alias resolutions are cached for a few seconds.
/// </summary>
public sealed class ModelServer(ModelRegistry registry, ModelArtifactStore artifacts, IOptions<ServingOptions> options, TimeProvider clock) : IDisposable
{
    private readonly ConcurrentDictionary<(string Model, int Version), Lazy<Task<LoadedModel>>> sessions = new();
    private readonly ConcurrentDictionary<(string Model, string Alias), (ModelVersion Version, DateTimeOffset Expires)> aliases = new();

    /// <summary>Resolves <paramref name="reference"/> (alias or version) and returns the loaded model.</summary>
    public async Task<LoadedModel> GetAsync(string model, string reference, CancellationToken cancellationToken)
    {
        var version = await ResolveAsync(model, reference, cancellationToken);
        var key = (model, version.Version);
        var lazy = sessions.GetOrAdd(key, k => new Lazy<Task<LoadedModel>>(() => LoadAsync(version)));
        try
        {
            return await lazy.Value.WaitAsync(cancellationToken);
        }
        catch (Exception) when (lazy.Value.IsFaulted)
        {
            // A failed load is not cached: the next request tries again.
            sessions.TryRemove(new KeyValuePair<(string, int), Lazy<Task<LoadedModel>>>(key, lazy));
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var lazy in sessions.Values)
        {
            if (lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully)
            {
                lazy.Value.Result.Onnx.Dispose();
            }
        }

        sessions.Clear();
    }

    private async Task<ModelVersion> ResolveAsync(string model, string reference, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (aliases.TryGetValue((model, reference), out var cached) && cached.Expires > now)
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

        aliases[(model, reference)] = (version, now.AddSeconds(options.Value.AliasCacheSeconds));
        return version;
    }

    private async Task<LoadedModel> LoadAsync(ModelVersion version)
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
        return new LoadedModel(version, card.Spec, onnx);
    }
}
