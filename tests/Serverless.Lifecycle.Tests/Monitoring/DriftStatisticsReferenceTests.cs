using System.Text.Json;
using Serverless.Lifecycle.Monitoring;
using Serverless.Lifecycle.Statistics;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Monitoring;

/// <summary>
/// The drift statistics against reference values computed with scipy and numpy
/// (tests/Fixtures/drift/generate.py; the output is committed): statistics to 1e-6, p-values to
/// 1e-4, on normal, shifted, tied, tiny, constant and heavy-tailed samples and on categories
/// seen on one side only or empty on both.
/// </summary>
public sealed class DriftStatisticsReferenceTests
{
    private static readonly JsonElement Reference =
        JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "tests", "Fixtures", "drift", "reference.json"))).RootElement;

    public static TheoryData<string> NumericCases() => [.. Reference.GetProperty("numeric").EnumerateArray().Select(c => c.GetProperty("name").GetString()!)];

    public static TheoryData<string> CategoricalCases() => [.. Reference.GetProperty("categorical").EnumerateArray().Select(c => c.GetProperty("name").GetString()!)];

    private static JsonElement Case(string group, string name) =>
        Reference.GetProperty(group).EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    private static double[] Doubles(JsonElement array) => array.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    private static long[] Longs(JsonElement array) => array.EnumerateArray().Select(v => v.GetInt64()).ToArray();

    [Theory]
    [MemberData(nameof(NumericCases))]
    public void KolmogorovSmirnovAndWasserstein_MatchScipy(string name)
    {
        var c = Case("numeric", name);
        var (baseline, current) = (Doubles(c.GetProperty("baseline")), Doubles(c.GetProperty("current")));

        var (statistic, pValue) = DriftStatistics.KolmogorovSmirnov(baseline, current);
        var wasserstein = DriftStatistics.Wasserstein(baseline, current);

        Assert.Equal(c.GetProperty("ksStatistic").GetDouble(), statistic, 1e-6);
        Assert.Equal(c.GetProperty("ksPValue").GetDouble(), pValue, 1e-4);
        Assert.Equal(c.GetProperty("wasserstein").GetDouble(), wasserstein, 1e-6);
    }

    [Theory]
    [MemberData(nameof(CategoricalCases))]
    public void ChiSquareAndJensenShannon_MatchScipy(string name)
    {
        var c = Case("categorical", name);
        var (baseline, current) = (Longs(c.GetProperty("baseline")), Longs(c.GetProperty("current")));

        var (statistic, pValue, dof) = DriftStatistics.ChiSquare(baseline, current);
        var js = DriftStatistics.JensenShannon(baseline, current);

        Assert.Equal(c.GetProperty("chiSquare").GetDouble(), statistic, 1e-6);
        Assert.Equal(c.GetProperty("chiSquarePValue").GetDouble(), pValue, 1e-4);
        Assert.Equal(c.GetProperty("degreesOfFreedom").GetInt32(), dof);
        Assert.Equal(c.GetProperty("jensenShannon").GetDouble(), js, 1e-6);
    }

    [Fact]
    public void KolmogorovSurvival_BothFormsAgreeWhereTheyMeet()
    {
        // The theta form below 1 and the alternating series from 1 must describe one function.
        var below = DriftStatistics.KolmogorovSurvival(0.999999);
        var above = DriftStatistics.KolmogorovSurvival(1.000001);

        Assert.Equal(below, above, 1e-5);
        Assert.Equal(1.0, DriftStatistics.KolmogorovSurvival(0.1), 12);
        Assert.Equal(0.0, DriftStatistics.KolmogorovSurvival(6), 12);
    }
}
