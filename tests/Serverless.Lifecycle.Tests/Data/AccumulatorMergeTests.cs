using Serverless.Lifecycle.Data.Profiling;
using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Tests.Data;

/// <summary>Parts of a file read by different workers merge into exactly what one reader would have seen.</summary>
public sealed class AccumulatorMergeTests
{
    private static readonly FeatureSpec Numeric = new() { Name = "x", Type = FeatureTypes.Numeric, Range = new RangeSpec(0, 100) };
    private static readonly FeatureSpec Categorical = new() { Name = "c", Type = FeatureTypes.Categorical, Categories = ["a", "b"] };

    private static readonly string[] Values = Enumerable.Range(0, 3000)
        .Select(i => i % 97 == 0 ? "" : i % 211 == 0 ? "oops" : i % 307 == 0 ? "150" : ((i * 7.3) % 100).ToString("R", System.Globalization.CultureInfo.InvariantCulture))
        .ToArray();

    [Fact]
    public void Numeric_TwoPartsMerged_EqualOneReader()
    {
        var whole = new NumericAccumulator(Numeric);
        var first = new NumericAccumulator(Numeric);
        var second = new NumericAccumulator(Numeric);
        for (var i = 0; i < Values.Length; i++)
        {
            whole.Add(Values[i], i + 2);
            (i % 2 == 0 ? second : first).Add(Values[i], i + 2);
        }

        first.Merge(second);

        var expected = whole.Statistics()!;
        var actual = first.Statistics(expected.Histogram.Edges)!;
        Assert.Equal(expected.Mean, actual.Mean, 9);
        Assert.Equal(expected.StandardDeviation, actual.StandardDeviation, 9);
        Assert.Equal((expected.Min, expected.Max), (actual.Min, actual.Max));
        Assert.Equal(expected.Quantiles, actual.Quantiles);
        Assert.Equal(expected.Histogram.Counts, actual.Histogram.Counts);
        Assert.Equal((whole.Missing.Count, whole.TypeErrors.Count, whole.OutOfRange.Count), (first.Missing.Count, first.TypeErrors.Count, first.OutOfRange.Count));
        Assert.Equal(whole.TypeErrors.Lines, first.TypeErrors.Lines);
        Assert.Equal(whole.OutOfRange.Lines, first.OutOfRange.Lines);
    }

    [Fact]
    public void Categorical_TwoPartsMerged_EqualOneReader()
    {
        string[] values = ["a", "b", "a", "z", "", "b", "y", "a", "z", "a"];
        var whole = new CategoricalAccumulator(Categorical);
        var first = new CategoricalAccumulator(Categorical);
        var second = new CategoricalAccumulator(Categorical);
        for (var i = 0; i < values.Length; i++)
        {
            whole.Add(values[i], i + 2);
            (i < 4 ? first : second).Add(values[i], i + 2);
        }

        first.Merge(second);

        Assert.Equal(whole.Statistics().Top, first.Statistics().Top);
        Assert.Equal(whole.Unknown.Lines, first.Unknown.Lines);
        Assert.Equal(whole.Missing.Count, first.Missing.Count);
        Assert.Equal(whole.UnknownValues.Order(), first.UnknownValues.Order());
    }

    [Fact]
    public void Duplicates_AcrossParts_AreFoundWithTheirLines()
    {
        var first = new DuplicateTracker();
        var second = new DuplicateTracker();
        first.Add(1, 2);
        first.Add(2, 3);
        first.Add(1, 4);
        second.Add(2, 10);
        second.Add(3, 11);
        second.Add(3, 12);

        first.Merge(second);

        Assert.Equal(6, first.SampledRows);
        Assert.Equal(3, first.Duplicates);
        Assert.Equal(new[] { 4, 10, 12 }, first.Examples.Lines);
    }
}
