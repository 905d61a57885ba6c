using System.Text;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Specs;
using Serverless.Samples.Churn;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Data;

public sealed class ParquetDatasetTests
{
    private static readonly ModelSpec Spec = ModelSpecValidator.Parse(File.ReadAllText(RepoPaths.SampleSpec)).Spec!;

    private static Task<ValidationReport> Validate(byte[] parquet) =>
        DatasetValidator.ValidateAsync(new MemoryStream(parquet), Spec, null, CancellationToken.None, format: DatasetFormat.Parquet);

    [Fact]
    public async Task Parquet_GivesTheSameProfileAsTheSameDataInCsv()
    {
        var csv = ChurnDataGenerator.Generate(1200, seed: 12);

        var parquet = await Validate(await ParquetFixtures.FromChurnCsvAsync(csv));
        var text = await DatasetValidatorTests.Validate(csv);

        Assert.True(parquet.IsValid, string.Join("; ", parquet.Findings.Select(f => f.Message)));
        Assert.Equal(1200, parquet.RowCount);
        foreach (var feature in new[] { "tenure_months", "monthly_charges", "support_calls" })
        {
            var a = parquet.Profile!.Features[feature];
            var b = text.Profile!.Features[feature];
            Assert.Equal((b.Count, b.Missing), (a.Count, a.Missing));
            Assert.Equal(b.Numeric!.Mean, a.Numeric!.Mean, 9);
            Assert.Equal(b.Numeric.Histogram.Counts, a.Numeric.Histogram.Counts);
        }

        Assert.Equal(text.Profile!.Label!.Classes, parquet.Profile!.Label!.Classes);
        Assert.Equal(text.Profile.Features["contract"].Categorical!.Top, parquet.Profile.Features["contract"].Categorical!.Top);
    }

    [Fact]
    public async Task Parquet_BadValues_AreReportedByRowNumber()
    {
        var lines = ChurnDataGenerator.Generate(300, seed: 12).Split('\n');
        lines[3] = "c-x,500,55.1,1,one-year,dsl,card,0";

        var report = await Validate(await ParquetFixtures.FromChurnCsvAsync(string.Join('\n', lines)));

        var finding = Assert.Single(report.Findings);
        Assert.Equal(("tenure_months", DataRules.OutOfRange), (finding.Column, finding.Rule));
        Assert.Equal(new[] { 3 }, finding.ExampleLines);
    }

    [Fact]
    public async Task Parquet_TruncatedInTheMiddle_IsRejectedWithAReason()
    {
        var bytes = await ParquetFixtures.FromChurnCsvAsync(ChurnDataGenerator.Generate(600, seed: 12));

        var report = await Validate(bytes[..(bytes.Length / 2)]);

        var finding = Assert.Single(report.Findings);
        Assert.Equal(DataRules.Format, finding.Rule);
        Assert.Contains("Parquet", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Parquet_ZeroBytes_IsRejected()
    {
        var report = await Validate([]);

        Assert.Equal(DataRules.Header, Assert.Single(report.Findings).Rule);
    }

    [Fact]
    public async Task Parquet_CsvBytesDeclaredAsParquet_IsRejected()
    {
        var report = await Validate(Encoding.UTF8.GetBytes(ChurnDataGenerator.Generate(100, seed: 12)));

        Assert.Equal(DataRules.Format, Assert.Single(report.Findings).Rule);
    }

    [Fact]
    public async Task SplitAsync_ParquetRows_BecomeCsvPartitionsWithEveryRow()
    {
        var csv = ChurnDataGenerator.Generate(800, seed: 13);
        var bytes = await ParquetFixtures.FromChurnCsvAsync(csv, rowGroupSize: 300);
        using var stream = new MemoryStream(bytes);
        await using var reader = await Parquet.ParquetReader.CreateAsync(stream);
        using var train = new StringWriter();
        using var validation = new StringWriter();
        using var test = new StringWriter();

        var counts = await DatasetSplitter.SplitAsync(ParquetRows.ReadHeader(reader), ParquetRows.ReadRowsAsync(reader, CancellationToken.None), Spec.Split, train, validation, test, CancellationToken.None);

        Assert.Equal(800, counts.Train + counts.Validation + counts.Test);
        Assert.StartsWith(ChurnDataGenerator.Header, train.ToString(), StringComparison.Ordinal);
        var report = await DatasetValidatorTests.Validate(train.ToString(), Spec with { Validation = Spec.Validation with { MinRows = 10 } });
        Assert.True(report.IsValid, string.Join("; ", report.Findings.Select(f => f.Message)));
        Assert.Equal(counts.Train, report.RowCount);
    }
}
