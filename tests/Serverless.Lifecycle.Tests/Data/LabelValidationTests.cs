using System.Text;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Tests.Data;

/// <summary>Labels of every task: what validation accepts, refuses and profiles.</summary>
public sealed class LabelValidationTests
{
    private static ModelSpec SpecFor(string task, double minClassShare = 0.01) => new()
    {
        Name = "labels",
        Task = task,
        Label = "y",
        Features = [new FeatureSpec { Name = "x", Type = FeatureTypes.Numeric }],
        Validation = new ValidationSpec { MinRows = 1, MinClassShare = minClassShare },
    };

    private static Task<ValidationReport> Validate(ModelSpec spec, params string[] labels)
    {
        var csv = new StringBuilder("x,y\n");
        for (var i = 0; i < labels.Length; i++)
        {
            csv.Append(i).Append(',').Append(labels[i]).Append('\n');
        }

        return DatasetValidator.ValidateAsync(new MemoryStream(Encoding.UTF8.GetBytes(csv.ToString())), spec, null, CancellationToken.None);
    }

    [Fact]
    public async Task Multiclass_ProfilesEveryClass()
    {
        var report = await Validate(SpecFor(ModelTasks.Multiclass), "red", "green", " blue ", "red", "green", "red", "");

        Assert.Equal(new Dictionary<string, long> { ["red"] = 3, ["green"] = 2, ["blue"] = 1 }, report.Profile!.Label!.Classes);
        Assert.Equal(1, report.Profile.Label.Missing);
        var finding = Assert.Single(report.Findings);
        Assert.Equal((DataRules.LabelMissing, 8), (finding.Rule, finding.ExampleLines.Single()));
    }

    [Fact]
    public async Task Multiclass_RareClass_IsBelowTheMinimumShare()
    {
        var labels = Enumerable.Repeat("a", 60).Concat(Enumerable.Repeat("b", 38)).Concat(["c", "c"]).ToArray();

        var report = await Validate(SpecFor(ModelTasks.Multiclass, minClassShare: 0.05), labels);

        var finding = Assert.Single(report.Findings);
        Assert.Equal((DataRules.ClassBalance, Severities.Blocking), (finding.Rule, finding.Severity));
        Assert.Contains("Class 'c' is 2.00% of labelled rows, below the minimum 5.00%", finding.Message, StringComparison.Ordinal);
        Assert.False(report.IsValid);
    }

    [Theory]
    [InlineData(ModelTasks.Multiclass, "only")]
    [InlineData(ModelTasks.Binary, "1")]
    public async Task Classifier_OneClassOnly_IsBlocking(string task, string label)
    {
        var report = await Validate(SpecFor(task), label, label, label);

        var finding = Assert.Single(report.Findings);
        Assert.Equal(DataRules.ClassBalance, finding.Rule);
        Assert.Contains("Every labelled row is of one class", finding.Message, StringComparison.Ordinal);
        Assert.False(report.IsValid);
    }

    [Fact]
    public async Task Regression_ProfilesTheTarget_AndRefusesTextAndInfinity()
    {
        var report = await Validate(SpecFor(ModelTasks.Regression), "1.5", "2.5", "abc", "Infinity", "3.5", "-0.5");

        var finding = Assert.Single(report.Findings);
        Assert.Equal(DataRules.LabelValue, finding.Rule);
        Assert.Equal([4, 5], finding.ExampleLines);
        Assert.Contains("not a finite number", finding.Message, StringComparison.Ordinal);
        var values = report.Profile!.Label!.Values!;
        Assert.Equal((-0.5, 3.5, 1.75), (values.Min, values.Max, values.Mean));
        Assert.Equal(2, report.Profile.Label.Missing);
        Assert.Empty(report.Profile.Label.Classes);
    }

    [Fact]
    public async Task Regression_ConstantTarget_IsBlocking()
    {
        var report = await Validate(SpecFor(ModelTasks.Regression), "4", "4.0", "4");

        var finding = Assert.Single(report.Findings);
        Assert.Equal((DataRules.LabelValue, Severities.Blocking), (finding.Rule, finding.Severity));
        Assert.Contains("'y' = 4", finding.Message, StringComparison.Ordinal);
    }
}
