namespace Serverless.Lifecycle.Data;

/// <summary>
/// One finding about a dataset: which column, which rule, what was seen, and up to five
/// example lines, so a person can find it in the file.
/// </summary>
public sealed record DataProblem(string Column, string Rule, string Message, IReadOnlyList<int> ExampleLines);

/// <summary>The outcome of validating a dataset: invalid data is a value, not an exception.</summary>
public sealed record ValidationReport(bool IsValid, long RowCount, IReadOnlyList<DataProblem> Problems);
