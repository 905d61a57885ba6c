using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Specs;
using Serverless.Samples.Churn;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Pipeline;

/// <summary>
/// Multiclass and regression through the whole pipeline: validation, training, the gate with the
/// task's own metrics (overall, per slice and against the champion), registration and promotion.
/// The churn data gives a multiclass label (the internet service, which the monthly charges mostly
/// give away) and a regression target (the churn label read as a number).
/// </summary>
public sealed class OtherTaskPipelineTests(PipelineHostFixture fixture) : IClassFixture<PipelineHostFixture>
{
    private static ModelSpec For(string task, string label, string prefix, GateSpec gate)
    {
        var sample = PipelineHostFixture.SampleSpec("x");
        return sample with
        {
            Name = Azurite.UniqueModelName(prefix),
            Task = task,
            Label = label,
            Features = sample.Features.Where(f => f.Name != label && !(label == "internet_service" && f.Name == "contract")).ToList(),
            Trainer = sample.Trainer with { Hyperparameters = new Dictionary<string, double> { ["numberOfIterations"] = 40 } },
            Evaluation = sample.Evaluation with { Gate = gate },
        };
    }

    [Fact]
    public async Task Multiclass_IsGatedOnItsMetricsPerSliceAndAgainstTheChampion()
    {
        var spec = For(ModelTasks.Multiclass, "internet_service", "multi", new GateSpec
        {
            Thresholds = [new ThresholdSpec(MetricNames.MacroAccuracy, 0.6, null)],
            Changes = [new ChangeThresholdSpec(MetricNames.MicroAccuracy, -0.05, null)],
            Slices = new SliceGateSpec { Features = ["payment_method"], MinRows = 20, Thresholds = [new ThresholdSpec(MetricNames.MicroAccuracy, 0.5, null)] },
        });

        var first = await fixture.RunAsync(spec, ChurnDataGenerator.Generate(3000, seed: 31));
        var again = await fixture.StartRunAsync(spec, System.Text.Encoding.UTF8.GetBytes(ChurnDataGenerator.Generate(3000, seed: 32)), runId: $"{spec.Name}-again");
        var second = await fixture.WaitAsync(again.RunId);

        Assert.Equal("succeeded", first.Status);
        Assert.Equal(MetricNames.RequiredValidation(ModelTasks.Multiclass).Order(), first.Metrics!.Keys.Order());
        Assert.Contains(first.Verdict!.Checks, c => c.Metric == MetricNames.MacroAccuracy && c.Passed && c.Observed >= 0.6);
        Assert.Contains(first.Verdict.Checks, c => c.Scope != GateScopes.Overall && c.Metric == MetricNames.MicroAccuracy);
        Assert.DoesNotContain(first.Verdict.Checks, c => c.Kind == GateCheckKinds.Change);

        Assert.Equal("succeeded", second.Status);
        Assert.Equal(1, second.Verdict!.ChampionVersion);
        Assert.Contains(second.Verdict.Checks, c => c.Metric == MetricNames.MicroAccuracy && c.Baseline is not null);
        var champion = await fixture.Registry.ResolveAsync(spec.Name, ReservedAliases.Champion, CancellationToken.None);
        Assert.Equal(2, champion.Version);
    }

    [Fact]
    public async Task Regression_IsGatedOnErrorsAndTheFailingCheckIsNamed()
    {
        var passing = For(ModelTasks.Regression, "churned", "reg", new GateSpec
        {
            Thresholds = [new ThresholdSpec(MetricNames.R2, 0.05, null), new ThresholdSpec(MetricNames.Rmse, null, 0.5)],
        });
        var impossible = passing with
        {
            Name = Azurite.UniqueModelName("reg-strict"),
            Evaluation = passing.Evaluation with { Gate = new GateSpec { Thresholds = [new ThresholdSpec(MetricNames.Mae, null, 0.001)] } },
        };

        var run = await fixture.RunAsync(passing, ChurnDataGenerator.Generate(3000, seed: 33));
        var refused = await fixture.RunAsync(impossible, ChurnDataGenerator.Generate(3000, seed: 33));

        Assert.Equal("succeeded", run.Status);
        Assert.Equal(MetricNames.RequiredValidation(ModelTasks.Regression).Order(), run.Metrics!.Keys.Order());
        Assert.All(run.Verdict!.Checks.Where(c => c.Kind == GateCheckKinds.Value), c => Assert.True(c.Passed, c.Reason));
        Assert.Equal(1, (await fixture.Registry.ResolveAsync(passing.Name, ReservedAliases.Champion, CancellationToken.None)).Version);

        Assert.Equal("gateFailed", refused.Status);
        var failed = Assert.Single(refused.Verdict!.Checks, c => !c.Passed);
        Assert.Equal((MetricNames.Mae, "<="), (failed.Metric, failed.Comparison));
        Assert.Empty(await fixture.Registry.ListVersionsAsync(impossible.Name, CancellationToken.None));
    }
}
