using Serverless.Lifecycle.Monitoring;
using Serverless.Lifecycle.Statistics;

namespace Serverless.Lifecycle.Tests.Monitoring;

public sealed class DriftStatisticsTests
{
    [Fact]
    public void Psi_MatchesTheFormulaByHand()
    {
        // (0.25 - 0.5) ln(0.25 / 0.5) + (0.75 - 0.5) ln(0.75 / 0.5)
        var expected = (-0.25 * Math.Log(0.5)) + (0.25 * Math.Log(1.5));

        Assert.Equal(expected, DriftStatistics.Psi([50, 50], [25, 75]), 12);
    }

    [Fact]
    public void Psi_IdenticalShares_IsZero()
    {
        Assert.Equal(0, DriftStatistics.Psi([10, 20, 30], [100, 200, 300]), 12);
    }

    [Fact]
    public void Psi_EmptyBin_UsesTheEpsilon()
    {
        var e = DriftStatistics.PsiEpsilon;
        var expected = ((0.5 - 0.5) * Math.Log(1)) + ((e - 0.5) * Math.Log(e / 0.5)) + ((0.5 - e) * Math.Log(0.5 / e));

        Assert.Equal(expected, DriftStatistics.Psi([5, 5, 0], [5, 0, 5]), 9);
    }

    [Fact]
    public void Psi_DifferentBinCounts_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => DriftStatistics.Psi([1, 2], [1, 2, 3]));
    }
}
