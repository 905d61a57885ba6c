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

    /// <summary>Most instances one predict request may carry.</summary>
    [Range(1, 100_000)]
    public int MaxBatchRows { get; set; } = 1000;
}
