using System.Globalization;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Data.Profiling;
using Serverless.Lifecycle.Specs;
using Serverless.Samples.Churn;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Data;

/// <summary>The profile's numbers against values computed directly from the raw fixture.</summary>
public sealed class DatasetProfileTests
{
    private static readonly ModelSpec Spec = ModelSpecValidator.Parse(File.ReadAllText(RepoPaths.SampleSpec)).Spec!;
    private static readonly string Csv = ChurnDataGenerator.Generate(3000, seed: 9);
    private static readonly string[][] Rows = Csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(r => r.Split(',')).ToArray();

    private static async Task<DatasetProfile> Profile() => (await DatasetValidatorTests.Validate(Csv)).Profile!;

    private static double[] Numbers(int column) => Rows.Where(r => r[column].Length > 0).Select(r => double.Parse(r[column], CultureInfo.InvariantCulture)).ToArray();

    [Theory]
    [InlineData("tenure_months", 1)]
    [InlineData("monthly_charges", 2)]
    [InlineData("support_calls", 3)]
    public async Task NumericStatistics_MatchDirectComputation(string feature, int column)
    {
        var values = Numbers(column);
        var sorted = values.Order().ToArray();
        var mean = values.Average();
        var std = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1));

        var profile = (await Profile()).Features[feature];
        var stats = profile.Numeric!;

        Assert.Equal(values.Length, profile.Count);
        Assert.Equal(Rows.Length - values.Length, profile.Missing);
        Assert.Equal(sorted[0], stats.Min);
        Assert.Equal(sorted[^1], stats.Max);
        Assert.Equal(mean, stats.Mean, 9);
        Assert.Equal(std, stats.StandardDeviation, 9);
        foreach (var p in new[] { 1, 5, 25, 50, 75, 95, 99 })
        {
            var exact = sorted[(int)Math.Floor(p / 100.0 * (sorted.Length - 1))];
            var tolerance = (Math.Abs(exact) * QuantileSketch.RelativeAccuracy * 1.0001) + 1e-9;
            Assert.True(Math.Abs(stats.Quantiles[$"p{p}"] - exact) <= tolerance, $"{feature} p{p}: {stats.Quantiles[$"p{p}"]} vs exact {exact}");
        }
    }

    [Theory]
    [InlineData("tenure_months", 1)]
    [InlineData("monthly_charges", 2)]
    public async Task Histogram_CountsAreExactForItsStoredEdges(string feature, int column)
    {
        var values = Numbers(column);

        var histogram = (await Profile()).Features[feature].Numeric!.Histogram;

        Assert.InRange(histogram.Edges.Count, 3, 9);
        Assert.Equal(histogram.Edges.Order(), histogram.Edges);
        var expected = new long[histogram.Edges.Count + 1];
        foreach (var value in values)
        {
            var bin = 0;
            while (bin < histogram.Edges.Count && value > histogram.Edges[bin])
            {
                bin++;
            }

            expected[bin]++;
        }

        Assert.Equal(expected, histogram.Counts);
    }

    [Fact]
    public async Task Categories_AndLabel_AreCountedExactly()
    {
        var profile = await Profile();

        var contract = profile.Features["contract"].Categorical!;
        var expected = Rows.GroupBy(r => r[4]).ToDictionary(g => g.Key, g => (long)g.Count());
        Assert.Equal(expected, contract.Top.ToDictionary(c => c.Value, c => c.Count));
        Assert.Equal(0, contract.Other);
        Assert.Equal(3, contract.Distinct);
        Assert.Equal(Rows.Count(r => r[7] == "1"), profile.Label!.Classes["1"]);
        Assert.Equal(Rows.Count(r => r[7] == "0"), profile.Label.Classes["0"]);
        Assert.Equal(0.0, profile.DuplicateRowRatio);
    }

    [Fact]
    public async Task Skew_DriftedDataAgainstThePreviousProfile_IsAWarningNamingTheFeature()
    {
        var previous = await Profile();
        var drifted = ChurnDataGenerator.Generate(3000, seed: 10, drifted: true);

        var report = await DatasetValidator.ValidateAsync(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(drifted)), Spec, null, CancellationToken.None, previous);

        var skew = report.Findings.Where(f => f.Rule == DataRules.Skew).ToList();
        Assert.Contains(skew, f => f.Column == "tenure_months");
        Assert.All(skew, f => Assert.Equal(Severities.Warning, f.Severity));
        Assert.True(report.IsValid);
    }

    [Fact]
    public async Task Skew_SameDistributionAgainstThePreviousProfile_FindsNothing()
    {
        var previous = await Profile();
        var fresh = ChurnDataGenerator.Generate(3000, seed: 11);

        var report = await DatasetValidator.ValidateAsync(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(fresh)), Spec, null, CancellationToken.None, previous);

        Assert.DoesNotContain(report.Findings, f => f.Rule == DataRules.Skew);
    }

    [Fact]
    public async Task Skew_BlockingPerSpec_RejectsTheDataset()
    {
        var previous = await Profile();
        var strict = Spec with { Validation = Spec.Validation with { Skew = Spec.Validation.Skew with { Severity = Severities.Blocking } } };

        var report = await DatasetValidator.ValidateAsync(
            new MemoryStream(System.Text.Encoding.UTF8.GetBytes(ChurnDataGenerator.Generate(3000, seed: 10, drifted: true))), strict, null, CancellationToken.None, previous);

        Assert.False(report.IsValid);
    }
}
