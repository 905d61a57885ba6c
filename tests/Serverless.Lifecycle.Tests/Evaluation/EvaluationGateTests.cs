using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Tests.Evaluation;

public sealed class EvaluationGateTests
{
    private static readonly GateSpec Gate = new()
    {
        Thresholds = [new ThresholdSpec("auc", 0.75, null), new ThresholdSpec("logLoss", null, 0.9)],
    };

    [Fact]
    public void Decide_AllThresholdsMet_PassesWithEveryCheckRecorded()
    {
        var verdict = EvaluationGate.Decide(Gate, new Dictionary<string, double> { ["auc"] = 0.8, ["logLoss"] = 0.7 });

        Assert.True(verdict.Passed);
        Assert.Equal(2, verdict.Checks.Count);
        Assert.All(verdict.Checks, c => Assert.True(c.Passed));
        Assert.Equal(0.8, verdict.Checks[0].Observed);
        Assert.Equal(">=", verdict.Checks[0].Comparison);
    }

    [Fact]
    public void Decide_OneThresholdMissed_FailsAndSaysWhich()
    {
        var verdict = EvaluationGate.Decide(Gate, new Dictionary<string, double> { ["auc"] = 0.8, ["logLoss"] = 0.95 });

        Assert.False(verdict.Passed);
        var failed = Assert.Single(verdict.Checks, c => !c.Passed);
        Assert.Equal("logLoss", failed.Metric);
        Assert.Contains("fails <= 0.9", failed.Reason, StringComparison.Ordinal);
    }

    private static ImportanceReport Importance(params (string Feature, double Drop)[] drops)
    {
        var total = drops.Sum(d => Math.Max(d.Drop, 0));
        return new ImportanceReport("auc", 0.8, 1000, 3, [.. drops.Select(d => new FeatureImportance(d.Feature, d.Drop, 0.001, Math.Max(d.Drop, 0) / total)).OrderByDescending(f => f.Drop)]);
    }

    [Theory]
    [InlineData(0.5, true)]
    [InlineData(0.4, false)]
    public void Decide_MaxFeatureShare_ChecksTheLargestShare(double maxShare, bool passes)
    {
        var gate = Gate with { MaxFeatureShare = maxShare };
        var candidate = new EvaluatedModel(null, new Dictionary<string, double> { ["auc"] = 0.8, ["logLoss"] = 0.7 }, [], Importance: Importance(("tenure", 0.1), ("calls", 0.06), ("charges", 0.04), ("plan", -0.01)));

        var verdict = EvaluationGate.Decide(gate, candidate, champion: null, serving: []);

        Assert.Equal(passes, verdict.Passed);
        var check = Assert.Single(verdict.Checks, c => c.Kind == GateCheckKinds.Importance);
        Assert.Equal(("featureShare", 0.5, passes), (check.Metric, check.Observed!.Value, check.Passed));
        Assert.Contains("tenure carries 50%", check.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_MaxFeatureShareWithoutImportance_FailsAsNotMeasured_AndWithoutTheOption_ChecksNothing()
    {
        var metrics = new Dictionary<string, double> { ["auc"] = 0.8, ["logLoss"] = 0.7 };

        var unmeasured = EvaluationGate.Decide(Gate with { MaxFeatureShare = 0.9 }, new EvaluatedModel(null, metrics, []), null, []);
        var off = EvaluationGate.Decide(Gate, new EvaluatedModel(null, metrics, [], Importance: Importance(("tenure", 1))), null, []);

        Assert.False(unmeasured.Passed);
        Assert.Contains("was not measured", Assert.Single(unmeasured.Checks, c => !c.Passed).Reason, StringComparison.Ordinal);
        Assert.True(off.Passed);
        Assert.DoesNotContain(off.Checks, c => c.Kind == GateCheckKinds.Importance);
    }

    [Fact]
    public void Decide_ValueOnTheBound_Passes()
    {
        var verdict = EvaluationGate.Decide(Gate, new Dictionary<string, double> { ["auc"] = 0.75, ["logLoss"] = 0.9 });

        Assert.True(verdict.Passed);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(null)]
    public void Decide_MetricNotMeasured_Fails(double? auc)
    {
        var metrics = new Dictionary<string, double> { ["logLoss"] = 0.5 };
        if (auc is { } value)
        {
            metrics["auc"] = value;
        }

        var verdict = EvaluationGate.Decide(Gate, metrics);

        Assert.False(verdict.Passed);
        Assert.Null(verdict.Checks[0].Observed);
    }

    [Fact]
    public void Decide_MinAndMaxOnOneMetric_ChecksBoth()
    {
        var gate = new GateSpec { Thresholds = [new ThresholdSpec("accuracy", 0.6, 0.99)] };

        var verdict = EvaluationGate.Decide(gate, new Dictionary<string, double> { ["accuracy"] = 0.999 });

        Assert.False(verdict.Passed);
        Assert.Equal(new[] { true, false }, verdict.Checks.Select(c => c.Passed));
    }
}
