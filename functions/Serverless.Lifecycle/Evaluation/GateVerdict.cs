namespace Serverless.Lifecycle.Evaluation;

/// <summary>Where a check applies: the whole test split, or one slice of it.</summary>
public static class GateScopes
{
    public const string Overall = "overall";

    public static string Slice(string feature, string value) => $"{feature}={value}";
}

/// <summary>What kind of check: a value threshold, a change against the champion, or serving compatibility.</summary>
public static class GateCheckKinds
{
    public const string Value = "value";
    public const string Change = "change";
    public const string Serving = "serving";

    /// <summary>How the candidate's permutation importance is spread over its features.</summary>
    public const string Importance = "importance";
}

/// <summary>
/// One check of the gate: which metric in which scope, what was observed, the bound (and for a
/// change, the champion's value it was compared with), the outcome and a one-line reason.
/// </summary>
public sealed record GateCheck(
    string Metric,
    double? Observed,
    string Comparison,
    double Threshold,
    bool Passed,
    string Reason,
    string Scope = GateScopes.Overall,
    string Kind = GateCheckKinds.Value,
    double? Baseline = null);

/// <summary>The gate's decision with every check behind it, and the champion it compared with; stored pass or fail.</summary>
public sealed record GateVerdict(bool Passed, IReadOnlyList<GateCheck> Checks, int? ChampionVersion = null);

/// <summary>A slice of the test split (one value of one categorical feature), its size and metrics.</summary>
public sealed record SliceMetrics(string Feature, string Value, int Rows, IReadOnlyDictionary<string, double> Metrics)
{
    public string Scope => GateScopes.Slice(Feature, Value);
}

/// <summary>
/// A model scored on the test split: overall and per-slice metrics. For the champion,
/// <see cref="Version"/> names it, and <see cref="Error"/> says why it could not be scored.
/// </summary>
/// <remarks>
/// <see cref="Error"/> says why it could not be scored. <see cref="Unservable"/> says its own files are
/// bad (they fail their SHA-256 check, are missing, or ONNX Runtime will not load them), so it cannot
/// serve either; otherwise it could not be scored on this split (its inputs are not in this data).
/// <see cref="Importance"/> is the candidate's permutation feature importance (null for a champion, and
/// when the spec turns it off or the metric is undefined on the split).
/// </remarks>
public sealed record EvaluatedModel(
    int? Version, IReadOnlyDictionary<string, double> Metrics, IReadOnlyList<SliceMetrics> Slices, string? Error = null, bool Unservable = false, ImportanceReport? Importance = null);

/// <summary>
/// The candidate scored on the test split by the built-in trainer in its own job, where the split
/// is local (ONNX Runtime and <see cref="ModelEvaluator"/>, as the evaluate step would score it),
/// written to <c>runs/{runId}/jobs/{jobId}/test-evaluation.json</c> before the job's result.
/// </summary>
public sealed record TestEvaluation(int Rows, EvaluatedModel Candidate);
