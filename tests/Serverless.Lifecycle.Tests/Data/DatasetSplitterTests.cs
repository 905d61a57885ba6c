using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Specs;
using Serverless.Samples.Churn;

namespace Serverless.Lifecycle.Tests.Data;

public sealed class DatasetSplitterTests
{
    private static (SplitCounts Counts, string Train, string Validation, string Test) Split(string csv, SplitSpec split)
    {
        using var train = new StringWriter();
        using var validation = new StringWriter();
        using var test = new StringWriter();
        var counts = DatasetSplitter.Split(new StringReader(csv), split, train, validation, test);
        return (counts, train.ToString(), validation.ToString(), test.ToString());
    }

    [Fact]
    public void Split_SameSeed_GivesIdenticalPartitions()
    {
        var csv = ChurnDataGenerator.Generate(1000, seed: 1);

        var first = Split(csv, new SplitSpec());
        var second = Split(csv, new SplitSpec());

        Assert.Equal(first, second);
    }

    [Fact]
    public void Split_DifferentSeed_GivesDifferentPartitions()
    {
        var csv = ChurnDataGenerator.Generate(1000, seed: 1);

        var first = Split(csv, new SplitSpec { Seed = 1 });
        var second = Split(csv, new SplitSpec { Seed = 2 });

        Assert.NotEqual(first.Test, second.Test);
    }

    [Fact]
    public void Split_EveryRowLandsInExactlyOnePartition_WithTheHeaderInEach()
    {
        var csv = ChurnDataGenerator.Generate(2000, seed: 3);
        var rows = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(r => r.TrimEnd('\r')).ToList();

        var (counts, train, validation, test) = Split(csv, new SplitSpec());

        var parts = new[] { train, validation, test }.Select(p => p.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(r => r.TrimEnd('\r')).ToList()).ToList();
        Assert.All(parts, p => Assert.Equal(ChurnDataGenerator.Header, p[0]));
        var all = parts.SelectMany(p => p.Skip(1)).ToList();
        Assert.Equal(rows.Count, all.Count);
        Assert.Equal(rows.ToHashSet(), all.ToHashSet());
        Assert.Equal(rows.Count, counts.Train + counts.Validation + counts.Test);
    }

    [Fact]
    public void Split_Proportions_FollowTheSpec()
    {
        var csv = ChurnDataGenerator.Generate(10_000, seed: 4);

        var (counts, _, _, _) = Split(csv, new SplitSpec { Train = 0.6, Validation = 0.2, Test = 0.2 });

        // Binomial standard deviation at n=10,000, p=0.2 is 40 rows; 5 sigma is 200.
        Assert.InRange(counts.Train, 6000 - 250, 6000 + 250);
        Assert.InRange(counts.Validation, 2000 - 200, 2000 + 200);
        Assert.InRange(counts.Test, 2000 - 200, 2000 + 200);
    }

    [Fact]
    public void Assign_IdenticalRows_AlwaysLandTogether()
    {
        var split = new SplitSpec();
        var row = "c001-000001,12,55.10,1,one-year,dsl,card,0";

        var partitions = Enumerable.Range(0, 20).Select(_ => DatasetSplitter.Assign(row, split)).Distinct();

        Assert.Single(partitions);
    }
}
