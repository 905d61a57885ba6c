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
