using System.Globalization;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Specs;
using Serverless.Samples.Churn;

namespace Serverless.Lifecycle.Tests.Data;

/// <summary>Large files are checked on every core; the merged result must equal a sequential reading.</summary>
public sealed class ParallelValidationTests
{
    [Fact]
    public async Task Validate_FindingsFarApart_AreMergedWithExactCountsAndEarliestLines()
    {
        var lines = ChurnDataGenerator.Generate(200_000, seed: 14).Split('\n').ToList();
        lines[9] = "c-a,ten,55.1,1,one-year,dsl,card,0";
        lines[150_000] = "c-b,eleven,55.1,1,one-year,dsl,card,0";
        lines[199_000] = lines[4];
        lines[120_000] = lines[3];
        var csv = string.Join('\n', lines);

        var report = await DatasetValidatorTests.Validate(csv, DatasetValidatorTests.SpecWith(maxDuplicateRatio: 0));

        var type = Assert.Single(report.Findings, f => f.Rule == DataRules.Type);
        Assert.Equal(new[] { 10, 150_001 }, type.ExampleLines);
        Assert.Contains("2 value(s)", type.Message, StringComparison.Ordinal);
        var duplicates = Assert.Single(report.Findings, f => f.Rule == DataRules.Duplicates);
        Assert.Equal(new[] { 120_001, 199_001 }, duplicates.ExampleLines);

        var tenure = lines.Skip(1).Where(l => l.Length > 0).Select(l => l.Split(',')[1])
            .Where(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            .Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        var profile = report.Profile!.Features["tenure_months"];
        Assert.Equal(tenure.Length, profile.Count);
        Assert.Equal(tenure.Average(), profile.Numeric!.Mean, 9);
        Assert.Equal(tenure.Max(), profile.Numeric.Max);
        Assert.Equal(200_000, report.RowCount);
    }

    [Fact]
    public async Task ReferenceSample_ReadInParallel_IsExactlyTheRowsWithTheSmallestHashes()
    {
        var csv = ChurnDataGenerator.Generate(200_000, seed: 15);

        var report = await DatasetValidatorTests.Validate(csv);

        // Computed here independently: the 1000 rows whose text hashes lowest (XxHash3), in hash order.
        var expected = csv.Split('\n').Skip(1).Where(l => l.Length > 0)
            .Select(l => (Hash: System.IO.Hashing.XxHash3.HashToUInt64(System.Runtime.InteropServices.MemoryMarshal.AsBytes(l.AsSpan())), Fields: l.Split(',')))
            .OrderBy(r => r.Hash).Take(1000).ToList();
        // A row missing the feature has no value in that feature's sample.
        static IEnumerable<double> Column(IEnumerable<(ulong Hash, string[] Fields)> rows, int column) =>
            rows.Where(r => r.Fields[column].Length > 0).Select(r => double.Parse(r.Fields[column], CultureInfo.InvariantCulture));
        Assert.Equal(Column(expected, 1), report.Profile!.Features["tenure_months"].Sample!);
        Assert.Equal(Column(expected, 2), report.Profile.Features["monthly_charges"].Sample!);
        Assert.Null(report.Profile.Features["contract"].Sample);
    }
}
