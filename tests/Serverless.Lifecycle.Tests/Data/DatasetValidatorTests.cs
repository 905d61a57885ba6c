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

    internal static Task<ValidationReport> Validate(string csv, ModelSpec? spec = null, string? sha = null) =>
        Validate(Encoding.UTF8.GetBytes(csv), spec, sha);

    internal static Task<ValidationReport> Validate(byte[] bytes, ModelSpec? spec = null, string? sha = null) =>
        DatasetValidator.ValidateAsync(new MemoryStream(bytes), spec ?? Spec, sha, CancellationToken.None);

    internal static ModelSpec SpecWith(double maxDuplicateRatio) =>
        Spec with { Validation = Spec.Validation with { MaxDuplicateRatio = maxDuplicateRatio } };

    private static string Sample(int rows = 600, int seed = 5) => ChurnDataGenerator.Generate(rows, seed);

    /// <summary>The sample with line <paramref name="line"/> (1-based, header is 1) replaced.</summary>
    private static string WithLine(string csv, int line, string replacement)
    {
        var lines = csv.Split('\n').ToList();
        lines[line - 1] = replacement;
        return string.Join('\n', lines);
    }

    private static string Messages(ValidationReport report) => string.Join("; ", report.Findings.Select(f => f.Message));

    [Fact]
    public async Task Validate_SampleData_IsValidWithAProfile()
    {
        var csv = Sample();

        var report = await Validate(csv, sha: Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(csv))));

        Assert.True(report.IsValid, Messages(report));
        Assert.Equal(600, report.RowCount);
        Assert.Equal(600, report.Profile!.Rows);
        Assert.Equal(6, report.Profile.Features.Count);
    }

    [Fact]
    public async Task Validate_MissingFeatureColumn_NamesTheColumn()
    {
        var report = await Validate(Sample().Replace("support_calls", "calls", StringComparison.Ordinal));

        var finding = Assert.Single(report.Findings);
        Assert.Equal(("support_calls", DataRules.MissingColumn, Severities.Blocking), (finding.Column, finding.Rule, finding.Severity));
        Assert.False(report.IsValid);
    }

    [Fact]
    public async Task Validate_UnexpectedColumn_FollowsThePolicy()
    {
        var strict = Spec with { Validation = Spec.Validation with { UnexpectedColumns = UnexpectedColumnPolicies.Error } };

        var ignored = await Validate(Sample());
        var refused = await Validate(Sample(), strict);

        Assert.True(ignored.IsValid);
        var finding = Assert.Single(refused.Findings);
        Assert.Equal(("customer_id", DataRules.UnexpectedColumn), (finding.Column, finding.Rule));
    }

    [Fact]
    public async Task Validate_DuplicateHeaderName_IsBlocking()
    {
        var report = await Validate(Sample().Replace("customer_id,", "contract,", StringComparison.Ordinal));

        Assert.Contains(report.Findings, f => f.Rule == DataRules.DuplicateColumn && f.Column == "contract");
        Assert.False(report.IsValid);
    }

    [Theory]
    [InlineData(';', "';'")]
    [InlineData('\t', "tab")]
    public async Task Validate_OtherDelimiter_IsDetected(char delimiter, string name)
    {
        var report = await Validate(Sample().Replace(',', delimiter));

        var finding = Assert.Single(report.Findings);
        Assert.Equal(DataRules.Delimiter, finding.Rule);
        Assert.Contains(name, finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_NonNumericValues_GiveTheLineNumbers()
    {
        var csv = WithLine(WithLine(Sample(), 4, "c-x,twelve,55.1,1,one-year,dsl,card,0"), 11, "c-y,abc,55.1,1,one-year,dsl,card,0");

        var report = await Validate(csv);

        var finding = Assert.Single(report.Findings);
        Assert.Equal(("tenure_months", DataRules.Type), (finding.Column, finding.Rule));
        Assert.Equal(new[] { 4, 11 }, finding.ExampleLines);
        Assert.Contains("2 value(s)", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_NaNAndInfinity_AreReported()
    {
        var csv = WithLine(WithLine(Sample(), 3, "c-x,12,NaN,1,one-year,dsl,card,0"), 7, "c-y,12,Infinity,1,one-year,dsl,card,0");

        var report = await Validate(csv);

        var finding = Assert.Single(report.Findings);
        Assert.Equal(("monthly_charges", DataRules.NonFinite), (finding.Column, finding.Rule));
        Assert.Equal(new[] { 3, 7 }, finding.ExampleLines);
    }

    [Fact]
    public async Task Validate_ValuesOutsideTheRange_AreBlockingUnlessTheSpecSaysWarning()
    {
        var csv = WithLine(Sample(), 9, "c-x,130,55.1,1,one-year,dsl,card,0");
        var lenient = Spec with { Validation = Spec.Validation with { Severity = new Dictionary<string, string> { [DataRules.OutOfRange] = Severities.Warning } } };

        var strict = await Validate(csv);
        var relaxed = await Validate(csv, lenient);

        var finding = Assert.Single(strict.Findings);
        Assert.Equal(("tenure_months", DataRules.OutOfRange, Severities.Blocking), (finding.Column, finding.Rule, finding.Severity));
        Assert.Equal(new[] { 9 }, finding.ExampleLines);
        Assert.Equal("[0, 120]", finding.Expected);
        Assert.False(strict.IsValid);
        Assert.True(relaxed.IsValid);
        Assert.Equal(Severities.Warning, Assert.Single(relaxed.Findings).Severity);
    }

    [Fact]
    public async Task Validate_UnknownCategory_NamesTheValue()
    {
        var report = await Validate(WithLine(Sample(), 5, "c-x,12,55.1,1,three-year,dsl,card,0"));

        var finding = Assert.Single(report.Findings);
        Assert.Equal(("contract", DataRules.UnknownCategory), (finding.Column, finding.Rule));
        Assert.Contains("'three-year'", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_MissingRatioAboveTheMaximum_IsReported()
    {
        var lines = Sample(200).Split('\n').ToList();
        for (var i = 1; i <= 20; i++)
        {
            var fields = lines[i].Split(',');
            fields[3] = "";
            lines[i] = string.Join(',', fields);
        }

        var report = await Validate(string.Join('\n', lines));

        var finding = Assert.Single(report.Findings);
        Assert.Equal(("support_calls", DataRules.MissingRatio), (finding.Column, finding.Rule));
        Assert.Equal("10.00%", finding.Observed);
    }

    [Fact]
    public async Task Validate_ConstantColumn_IsAWarning()
    {
        var lines = Sample(200).Split('\n').Select((line, i) =>
        {
            if (i == 0 || line.Length == 0)
            {
                return line;
            }

            var fields = line.Split(',');
            fields[5] = "fiber";
            return string.Join(',', fields);
        });

        var report = await Validate(string.Join('\n', lines));

        var finding = Assert.Single(report.Findings);
        Assert.Equal(("internet_service", DataRules.Constant, Severities.Warning), (finding.Column, finding.Rule, finding.Severity));
        Assert.True(report.IsValid);
    }

    [Fact]
    public async Task Validate_DuplicateRowsAboveTheThreshold_AreReportedWithExamples()
    {
        var csv = Sample(100);
        var rows = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var duplicated = csv + string.Join('\n', rows.Skip(1).Take(20)) + "\n";

        var report = await Validate(duplicated);

        var finding = Assert.Single(report.Findings);
        Assert.Equal(DataRules.Duplicates, finding.Rule);
        Assert.Equal("16.67%", finding.Observed);
        Assert.Equal(new[] { 102, 103, 104, 105, 106 }, finding.ExampleLines);
    }

    [Fact]
    public async Task Validate_LabelMissingOrInvalid_AreReported()
    {
        var csv = WithLine(WithLine(Sample(), 6, "c-x,12,55.1,1,one-year,dsl,card,maybe"), 8, "c-y,12,55.1,1,one-year,dsl,card,");

        var report = await Validate(csv);

        Assert.Equal(new[] { DataRules.LabelValue, DataRules.LabelMissing }, report.Findings.Select(f => f.Rule));
        Assert.Equal(new[] { 6 }, report.Findings[0].ExampleLines);
        Assert.Equal(new[] { 8 }, report.Findings[1].ExampleLines);
    }

    [Fact]
    public async Task Validate_ClassBelowTheMinimumShare_IsBlocking()
    {
        var csv = string.Join('\n', Sample().Split('\n').Select((line, i) => i == 0 || line.Length == 0 ? line : line[..^1] + (i % 50 == 0 ? "1" : "0")));
        var spec = Spec with { Validation = Spec.Validation with { MinClassShare = 0.05 } };

        var report = await Validate(csv, spec);

        var finding = Assert.Single(report.Findings);
        Assert.Equal(DataRules.ClassBalance, finding.Rule);
        Assert.Contains("positive class is 2.00%", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_FewerRowsThanTheMinimum_IsBlocking()
    {
        var report = await Validate(Sample(5));

        Assert.Equal(DataRules.RowCount, Assert.Single(report.Findings).Rule);
    }

    [Fact]
    public async Task Validate_BytesChangedSinceUpload_IsBlocking()
    {
        var report = await Validate(Sample(), sha: new string('0', 64));

        Assert.Equal(DataRules.Identity, Assert.Single(report.Findings).Rule);
        Assert.False(report.IsValid);
    }

    [Fact]
    public async Task Validate_Rfc4180Details_AreReadCorrectly()
    {
        // BOM, CRLF line ends, a quoted field with a comma, an escaped quote and an embedded newline.
        var csv = Sample(100).Replace("\n", "\r\n", StringComparison.Ordinal)
            .Replace(",card,", ",\"card\",", StringComparison.Ordinal)
            .Replace("c005-000003,", "\"c005-000003, \"\"vip\"\"\r\nsince 2020\",", StringComparison.Ordinal);
        var bytes = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes(csv)).ToArray();

        var report = await Validate(bytes);

        Assert.True(report.IsValid, Messages(report));
        Assert.Equal(100, report.RowCount);
        Assert.Contains(report.Profile!.Features["payment_method"].Categorical!.Top, c => c.Value == "card");
    }
}
