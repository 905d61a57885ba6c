using System.ComponentModel.DataAnnotations;

namespace Serverless.Lifecycle.Serving;

public sealed class ServingOptions
{
    public const string SectionName = "Serving";

    /// <summary>How long an alias resolution is reused before the registry is asked again.</summary>
    [Range(0, 300)]
    public int AliasCacheSeconds { get; set; } = 5;

    /// <summary>
    /// How long a reference (an alias or a pinned version) may go unused past its cache expiry
    /// before it stops keeping its version's session loaded.
    /// </summary>
    [Range(0, 86_400)]
    public int IdleSessionSeconds { get; set; } = 600;

    /// <summary>
    /// How long after its last successful read an alias resolution (or a running rollout) may keep
    /// answering while storage is unreachable. Past it, requests for that reference get 503.
    /// </summary>
    [Range(0, 86_400)]
    public int MaxStaleSeconds { get; set; } = 300;

    /// <summary>How long a request waits for storage to refresh an expired resolution before it is answered from the stale one.</summary>
    [Range(1, 60)]
    public int RefreshTimeoutSeconds { get; set; } = 2;

    /// <summary>
    /// How long a version whose files fail their hash check or will not load is remembered as
    /// unservable before a request tries to load it again (so a bad file causes no download storm).
    /// </summary>
    [Range(1, 3600)]
    public int UnservableRetrySeconds { get; set; } = 60;

    /// <summary>
    /// Whether the host loads each model's champion (and a running rollout's challenger) in the
    /// background as soon as it starts, so the first request finds the session created and the
    /// storage clients open. Off, a version loads on its first request.
    /// </summary>
    public bool Preload { get; set; } = true;

    /// <summary>The models <see cref="Preload"/> loads; empty (the default) is every model with a spec.</summary>
    public IList<string> PreloadModels { get; } = [];

    /// <summary>Most instances one predict request may carry.</summary>
    [Range(1, 100_000)]
    public int MaxBatchRows { get; set; } = 1000;
}
