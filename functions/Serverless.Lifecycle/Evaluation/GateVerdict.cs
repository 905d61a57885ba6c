namespace Serverless.Lifecycle.Evaluation;

/// <summary>One check of the gate: which metric, what was observed, the bound, and the outcome.</summary>
public sealed record GateCheck(string Metric, double? Observed, string Comparison, double Threshold, bool Passed, string Reason);

/// <summary>The gate's decision with every check behind it; stored pass or fail.</summary>
public sealed record GateVerdict(bool Passed, IReadOnlyList<GateCheck> Checks);
