namespace Serverless.Lifecycle.Data.Profiling;

/// <summary>
/// The baseline of a dataset: what monitoring compares production traffic with. Written as
/// <c>runs/{runId}/profile.json</c> and attached to the model version the run trains.
/// </summary>
public sealed record DatasetProfile(
    long Rows,
    string Sha256,
    IReadOnlyDictionary<string, FeatureProfile> Features,
    LabelProfile? Label,
    double DuplicateRowRatio);

/// <summary>
/// One feature's statistics; numeric or categorical fields are set by its type. Numeric features
/// also keep <see cref="Sample"/>: the feature's values on a uniform sample of up to 1000 rows
/// (the same rows for every feature), the reference for two-sample drift tests.
/// </summary>
public sealed record FeatureProfile(
    string Type,
    long Count,
    long Missing,
    NumericStatistics? Numeric,
    CategoricalStatistics? Categorical,
    IReadOnlyList<double>? Sample = null);

/// <summary>
/// Numeric statistics. Quantiles are within 0.5% relative error (<see cref="QuantileSketch"/>);
/// the histogram's edges are stored so later windows are binned identically: bin k holds values
/// in (edges[k-1], edges[k]], the first bin everything up to edges[0], the last everything above.
/// </summary>
public sealed record NumericStatistics(
    double Min,
    double Max,
    double Mean,
    double StandardDeviation,
    IReadOnlyDictionary<string, double> Quantiles,
    Histogram Histogram);

public sealed record Histogram(IReadOnlyList<double> Edges, IReadOnlyList<long> Counts);

/// <summary>Frequencies of the most common categories, with everything else counted as other.</summary>
public sealed record CategoricalStatistics(int Distinct, bool DistinctCapped, IReadOnlyList<CategoryCount> Top, long Other);

public sealed record CategoryCount(string Value, long Count);

/// <summary>
/// The label's distribution: class → rows for classifiers (binary as "1" and "0"), the target's
/// statistics for regression. Missing counts rows with no usable label.
/// </summary>
public sealed record LabelProfile(IReadOnlyDictionary<string, long> Classes, long Missing, NumericStatistics? Values = null);
