namespace Serverless.Lifecycle.Specs;

/// <summary>The names of the validation rules, and which of them a spec may make warnings or blocking.</summary>
public static class DataRules
{
    // Schema and format: always blocking; training cannot read such a file.
    public const string Format = "format";
    public const string Header = "header";
    public const string Delimiter = "delimiter";
    public const string DuplicateColumn = "duplicate-column";
    public const string MissingColumn = "missing-column";
    public const string UnexpectedColumn = "unexpected-column";
    public const string ColumnCount = "column-count";
    public const string Type = "type";
    public const string LabelMissing = "label-missing";
    public const string LabelValue = "label-value";
    public const string RowCount = "row-count";
    public const string Identity = "identity";

    // Quality: severity adjustable per spec (defaults below).
    public const string NonFinite = "non-finite";
    public const string MissingRatio = "missing-ratio";
    public const string OutOfRange = "out-of-range";
    public const string UnknownCategory = "unknown-category";
    public const string Constant = "constant";
    public const string Duplicates = "duplicates";
    public const string ClassBalance = "class-balance";
    public const string Skew = "skew";

    public static readonly IReadOnlyDictionary<string, string> DefaultSeverity = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [NonFinite] = Severities.Blocking,
        [MissingRatio] = Severities.Blocking,
        [OutOfRange] = Severities.Blocking,
        [UnknownCategory] = Severities.Blocking,
        [Constant] = Severities.Warning,
        [Duplicates] = Severities.Warning,
        [ClassBalance] = Severities.Blocking,
    };

    /// <summary>Rules whose severity <c>validation.severity</c> may set (skew has its own <c>validation.skew.severity</c>).</summary>
    public static IReadOnlySet<string> Adjustable { get; } = DefaultSeverity.Keys.ToHashSet(StringComparer.Ordinal);
}

/// <summary>Whether a finding stops the run (blocking) or is recorded and the run goes on (warning): <c>validation.severity</c>.</summary>
public static class Severities
{
    public const string Blocking = "blocking";
    public const string Warning = "warning";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { Blocking, Warning };
}
