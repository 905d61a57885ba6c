using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Tests.Evaluation;

/// <summary>The gate's semantics as a table: thresholds × directions × with and without a champion × slices.</summary>
public sealed class ChangeGateTests
{
    private static Dictionary<string, double> M(double auc, double logLoss) => new() { ["auc"] = auc, ["logLoss"] = logLoss };

    private static EvaluatedModel Model(double auc, double logLoss, int? version = null, params SliceMetrics[] slices) =>
        new(version, M(auc, logLoss), slices);

    public static TheoryData<string, ChangeThresholdSpec, double, double, bool> Changes => new()
    {
        // name, change, candidate value, champion value, passes
        { "auc may be 0.01 worse: 0.005 worse", new("auc", -0.01, null), 0.800, 0.805, true },
        { "auc may be 0.01 worse: 0.015 worse", new("auc", -0.01, null), 0.790, 0.805, false },
        { "auc must improve by 0.02: improves 0.03", new("auc", 0.02, null), 0.830, 0.800, true },
        { "auc must improve by 0.02: improves 0.01", new("auc", 0.02, null), 0.810, 0.800, false },
        { "auc unchanged meets minDelta 0", new("auc", 0, null), 0.800, 0.800, true },
        { "logLoss lower is better: lower passes", new("logLoss", 0, null), 0.50, 0.60, true },
        { "logLoss lower is better: higher fails", new("logLoss", 0, null), 0.70, 0.60, false },
        { "direction override: auc treated lower-better", new("auc", 0, null, MetricDirections.Lower), 0.70, 0.80, true },
        { "relative: auc +6.25% meets +5%", new("auc", null, 0.05), 0.850, 0.800, true },
        { "relative: auc +2.5% fails +5%", new("auc", null, 0.05), 0.820, 0.800, false },
        { "relative: logLoss 20% lower meets 10%", new("logLoss", null, 0.10), 0.40, 0.50, true },
        { "relative: logLoss 10% higher fails -5%", new("logLoss", null, -0.05), 0.55, 0.50, false },
    };

    [Theory]
    [MemberData(nameof(Changes))]
    public void Decide_ChangeAgainstTheChampion(string name, ChangeThresholdSpec change, double candidate, double champion, bool passes)
    {
        var gate = new GateSpec { Changes = [change] };
        var (candidateModel, championModel) = change.Metric == "auc"
            ? (Model(candidate, 0.5), Model(champion, 0.5, version: 3))
            : (Model(0.8, candidate), Model(0.8, champion, version: 3));

        var verdict = EvaluationGate.Decide(gate, candidateModel, championModel, []);

        var check = Assert.Single(verdict.Checks);
        Assert.True(passes == check.Passed, $"{name}: {check.Reason}");
        Assert.Equal(passes, verdict.Passed);
        Assert.Equal((GateCheckKinds.Change, champion, candidate, 3), (check.Kind, check.Baseline!.Value, check.Observed!.Value, verdict.ChampionVersion!.Value));
        Assert.Contains("vs champion v3", check.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_NoChampion_AppliesValueThresholdsOnly()
    {
        var gate = new GateSpec { Thresholds = [new ThresholdSpec("auc", 0.7, null)], Changes = [new ChangeThresholdSpec("auc", 0.5, null)] };

        var verdict = EvaluationGate.Decide(gate, Model(0.8, 0.5), champion: null, []);

        Assert.True(verdict.Passed);
        Assert.Equal(GateCheckKinds.Value, Assert.Single(verdict.Checks).Kind);
        Assert.Null(verdict.ChampionVersion);
    }

    [Fact]
    public void Decide_ChampionThatCouldNotBeScoredOnThisSplit_FailsEveryChangeCheckWithTheReason()
    {
        var gate = new GateSpec { Changes = [new ChangeThresholdSpec("auc", -1, null), new ChangeThresholdSpec("logLoss", null, -1)] };
        var elsewhere = new EvaluatedModel(2, new Dictionary<string, double>(), [], "InvalidDataException: the data has no column 'tenure_months'");

        var verdict = EvaluationGate.Decide(gate, Model(0.9, 0.3), elsewhere, []);

        Assert.False(verdict.Passed);
        Assert.All(verdict.Checks, c => Assert.Contains("champion v2 could not be scored (InvalidDataException", c.Reason, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(0.9, true)]
    [InlineData(0.6, false)]
    public void Decide_UnservableChampion_ChangeChecksDoNotApply_AndTheValueThresholdsDecide(double auc, bool passes)
    {
        var gate = new GateSpec
        {
            Thresholds = [new ThresholdSpec("auc", 0.7, null)],
            Changes = [new ChangeThresholdSpec("auc", 0, null)],
            Slices = new SliceGateSpec { Features = ["contract"], Changes = [new ChangeThresholdSpec("auc", 0, null)] },
        };
        var broken = new EvaluatedModel(2, new Dictionary<string, double>(), [], "ArtifactIntegrityException: SHA-256 differs", Unservable: true);
        var candidate = Model(auc, 0.3, null, new SliceMetrics("contract", "one-year", 500, M(auc, 0.3)));

        var verdict = EvaluationGate.Decide(gate, candidate, broken, []);

        Assert.Equal(passes, verdict.Passed);
        Assert.Equal(2, verdict.ChampionVersion);
        var change = Assert.Single(verdict.Checks, c => c.Kind == GateCheckKinds.Change);
        Assert.True(change.Passed);
        Assert.Contains("champion v2 cannot be served (ArtifactIntegrityException", change.Reason, StringComparison.Ordinal);
        Assert.Equal(passes, Assert.Single(verdict.Checks, c => c.Kind == GateCheckKinds.Value && c.Scope == GateScopes.Overall).Passed);
    }

    [Fact]
    public void Decide_CandidateMetricMissing_FailsTheChangeCheck()
    {
        var gate = new GateSpec { Changes = [new ChangeThresholdSpec("f1", -1, null)] };

        var verdict = EvaluationGate.Decide(gate, Model(0.9, 0.3), Model(0.8, 0.4, version: 1), []);

        Assert.False(verdict.Passed);
        Assert.Contains("f1 of the candidate was not measured", Assert.Single(verdict.Checks).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_Slices_GatesOnlyThoseWithEnoughRowsAndComparesTheSameSlice()
    {
        var gate = new GateSpec
        {
            Slices = new SliceGateSpec
            {
                Features = ["contract"],
                MinRows = 50,
                Thresholds = [new ThresholdSpec("auc", 0.7, null)],
                Changes = [new ChangeThresholdSpec("auc", -0.02, null)],
            },
        };
        var candidate = Model(0.8, 0.5, null,
            new SliceMetrics("contract", "one-year", 400, M(0.75, 0.5)),
            new SliceMetrics("contract", "two-year", 20, M(0.40, 0.9)),
            new SliceMetrics("contract", "month-to-month", 600, M(0.72, 0.6)));
        var champion = Model(0.8, 0.5, 1,
            new SliceMetrics("contract", "one-year", 400, M(0.74, 0.5)),
            new SliceMetrics("contract", "two-year", 20, M(0.90, 0.2)),
            new SliceMetrics("contract", "month-to-month", 600, M(0.76, 0.6)));

        var verdict = EvaluationGate.Decide(gate, candidate, champion, []);

        Assert.False(verdict.Passed);
        Assert.DoesNotContain(verdict.Checks, c => c.Scope == "contract=two-year");
        Assert.All(verdict.Checks.Where(c => c.Scope == "contract=one-year"), c => Assert.True(c.Passed, c.Reason));
        var failed = Assert.Single(verdict.Checks, c => !c.Passed);
        Assert.Equal(("contract=month-to-month", GateCheckKinds.Change, 0.76), (failed.Scope, failed.Kind, failed.Baseline!.Value));
        Assert.StartsWith("[contract=month-to-month] auc = 0.72 vs champion v1 0.76", failed.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_ServingCheckFailed_FailsTheVerdict()
    {
        var slow = new GateCheck("latencyP99Ms", 80, "<=", 50, false, "single-row p99 80 ms fails <= 50 ms", Kind: GateCheckKinds.Serving);

        var verdict = EvaluationGate.Decide(new GateSpec(), Model(0.9, 0.3), null, [slow]);

        Assert.False(verdict.Passed);
        Assert.Same(slow, Assert.Single(verdict.Checks));
    }
}
