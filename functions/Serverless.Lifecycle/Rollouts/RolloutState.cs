namespace Serverless.Lifecycle.Rollouts;

public static class RolloutStatuses
{
    public const string Running = "running";
    public const string Promoted = "promoted";
    public const string RolledBack = "rolledBack";
    public const string Cancelled = "cancelled";

    /// <summary>Every step passed, but the champion moved during the rollout, so the challenger was not promoted over it.</summary>
    public const string Superseded = "superseded";
}

/// <summary>
/// A staged rollout of <see cref="Challenger"/> against <see cref="Champion"/>: where it stands
/// (step and share), how it ended, and every check behind it. Serving reads the running one to
/// route traffic; the API shows it.
/// </summary>
public sealed record RolloutState(
    string Model,
    string RunId,
    string Strategy,
    int Challenger,
    int Champion,
    int Step,
    double Share,
    string Status,
    string? Reason,
    DateTimeOffset StartedAt,
    DateTimeOffset UpdatedAt,
    IReadOnlyList<RolloutCheck> Checks);

/// <summary>
/// One step's judgement from the prediction log (and feedback) between <see cref="From"/> and
/// <see cref="To"/>: requests and failures of the challenger, p99 latencies of both versions,
/// and live quality where feedback exists.
/// </summary>
public sealed record RolloutCheck(
    int Step,
    double Share,
    DateTimeOffset From,
    DateTimeOffset To,
    long ChallengerRequests,
    long ChallengerErrors,
    double? ChallengerP99Ms,
    long ChampionRequests,
    double? ChampionP99Ms,
    string? QualityMetric,
    double? ChallengerQuality,
    double? ChampionQuality,
    long ChallengerLabelled,
    long ChampionLabelled,
    bool Passed,
    bool Insufficient,
    string Reason);
