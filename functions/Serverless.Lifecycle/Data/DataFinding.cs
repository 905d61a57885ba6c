using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Data;

/// <summary>
/// One finding about a dataset, explained to a person in one line: which column, which rule,
/// what was observed and what was expected, how severe, and up to five example lines.
/// </summary>
public sealed record DataFinding(
    string Column,
    string Rule,
    string Message,
    IReadOnlyList<int> ExampleLines,
    string Severity = Severities.Blocking,
    string? Observed = null,
    string? Expected = null)
{
    public bool IsBlocking => Severity == Severities.Blocking;
}

/// <summary>
/// The outcome of validating a dataset: invalid data is a value, not an exception. Valid when no
/// finding is blocking; warnings travel with it. The profile is null when the file could not be read.
/// </summary>
public sealed record ValidationReport(bool IsValid, long RowCount, IReadOnlyList<DataFinding> Findings, Profiling.DatasetProfile? Profile = null, string? ProfilePath = null)
{
    /// <summary>The partitions the same pass wrote, and the training partition's labels; null when it did not split.</summary>
    public SplitCounts? Split { get; init; }
}
