using System.Security.Cryptography;
using System.Text;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Specs;
using Serverless.Samples.Churn;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Data;

public sealed class DatasetValidatorTests
{
    private static readonly ModelSpec Spec = ModelSpecValidator.Parse(File.ReadAllText(RepoPaths.SampleSpec)).Spec!;

    private static Task<ValidationReport> Validate(string csv, string? sha = null) =>
        DatasetValidator.ValidateAsync(new MemoryStream(Encoding.UTF8.GetBytes(csv)), Spec, sha, CancellationToken.None);

    [Fact]
    public async Task Validate_SampleData_IsValidAndCountsRows()
    {
        var csv = ChurnDataGenerator.Generate(500, seed: 5);

        var report = await Validate(csv, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(csv))));

        Assert.True(report.IsValid, string.Join("; ", report.Problems.Select(p => p.Message)));
        Assert.Equal(500, report.RowCount);
    }

    [Fact]
    public async Task Validate_MissingFeatureColumn_NamesTheColumn()
    {
        var csv = ChurnDataGenerator.Generate(100, seed: 5).Replace("support_calls", "calls", StringComparison.Ordinal);

        var report = await Validate(csv);

        Assert.False(report.IsValid);
        var problem = Assert.Single(report.Problems);
        Assert.Equal("support_calls", problem.Column);
        Assert.Equal("missing-column", problem.Rule);
    }

    [Fact]
    public async Task Validate_NonNumericValues_GivesTheLineNumbers()
    {
        var lines = ChurnDataGenerator.Generate(100, seed: 5).Split('\n').ToList();
        lines[3] = "c-x,twelve,55.1,1,one-year,dsl,card,0";
        lines[10] = "c-y,abc,55.1,1,one-year,dsl,card,0";

        var report = await Validate(string.Join('\n', lines));

        var problem = Assert.Single(report.Problems);
        Assert.Equal("tenure_months", problem.Column);
        Assert.Equal("type", problem.Rule);
        Assert.Equal(new[] { 4, 11 }, problem.ExampleLines);
        Assert.Contains("2 row(s)", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_LabelThatIsNotBinary_IsReported()
    {
        var lines = ChurnDataGenerator.Generate(100, seed: 5).Split('\n').ToList();
        lines[5] = "c-z,12,55.1,1,one-year,dsl,card,maybe";

        var report = await Validate(string.Join('\n', lines));

        var problem = Assert.Single(report.Problems);
        Assert.Equal("churned", problem.Column);
        Assert.Equal("label-value", problem.Rule);
        Assert.Equal(new[] { 6 }, problem.ExampleLines);
    }

    [Fact]
    public async Task Validate_TooFewRows_IsReported()
    {
        var report = await Validate(ChurnDataGenerator.Generate(5, seed: 5));

        Assert.Equal("row-count", Assert.Single(report.Problems).Rule);
    }

    [Fact]
    public async Task Validate_EmptyFile_SaysSo()
    {
        var report = await Validate("");

        Assert.False(report.IsValid);
        Assert.Equal("header", report.Problems[0].Rule);
    }

    [Fact]
    public async Task Validate_BytesChangedSinceUpload_IsReported()
    {
        var report = await Validate(ChurnDataGenerator.Generate(100, seed: 5), sha: new string('0', 64));

        Assert.Equal("identity", Assert.Single(report.Problems).Rule);
    }

    [Fact]
    public async Task Validate_QuotedFieldsWithCommas_AreReadAsOneValue()
    {
        var csv = ChurnDataGenerator.Generate(100, seed: 5).Replace(",card,", ",\"card, visa\",", StringComparison.Ordinal);

        var report = await Validate(csv);

        Assert.True(report.IsValid, string.Join("; ", report.Problems.Select(p => p.Message)));
    }
}
