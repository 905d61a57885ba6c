using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Training;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Pipeline;

public sealed class TrialPlannerTests
{
    private static ModelSpec WithSearch(SearchSpec search, int seed = 42)
    {
        var sample = ModelSpecValidator.Parse(File.ReadAllText(RepoPaths.SampleSpec)).Spec!;
        var hyperparameters = new Dictionary<string, double> { ["numberOfIterations"] = 120 };
        return sample with { Trainer = sample.Trainer with { Search = search, Seed = seed, Hyperparameters = hyperparameters } };
    }

    private static readonly SearchSpec Random = new()
    {
        Strategy = SearchStrategies.Random,
        Trials = 20,
        Space = new Dictionary<string, SearchDimension>
        {
            ["learningRate"] = new() { Min = 0.001, Max = 0.3, Log = true },
            ["numberOfLeaves"] = new() { Min = 4, Max = 64, Integer = true },
            ["minimumExampleCountPerLeaf"] = new() { Values = [5, 50] },
        },
    };

    [Fact]
    public void Plan_NoSearch_IsOneJobWithTheSpecsHyperparameters()
    {
        var spec = ModelSpecValidator.Parse(File.ReadAllText(RepoPaths.SampleSpec)).Spec!;

        var plan = Assert.Single(TrialPlanner.Plan("run-1", spec));

        Assert.Equal("run-1-train", plan.JobId);
        Assert.Equal(spec.Trainer.Hyperparameters, plan.Hyperparameters);
    }

    [Fact]
    public void Plan_RandomSearch_DrawsWithinTheSpaceAndKeepsTheOtherHyperparameters()
    {
        var spec = WithSearch(Random);

        var plans = TrialPlanner.Plan("r", spec);

        Assert.Equal(20, plans.Count);
        Assert.Equal(Enumerable.Range(1, 20).Select(i => $"r-trial-{i}"), plans.Select(p => p.JobId));
        Assert.All(plans, p =>
        {
            Assert.InRange(p.Hyperparameters["learningRate"], 0.001, 0.3);
            Assert.InRange(p.Hyperparameters["numberOfLeaves"], 4, 64);
            Assert.Equal(Math.Round(p.Hyperparameters["numberOfLeaves"]), p.Hyperparameters["numberOfLeaves"]);
            Assert.Contains(p.Hyperparameters["minimumExampleCountPerLeaf"], new[] { 5.0, 50.0 });
            Assert.Equal(spec.Trainer.Hyperparameters["numberOfIterations"], p.Hyperparameters["numberOfIterations"]);
        });

        // On a log scale about half the draws of [0.001, 0.3] fall below its geometric middle (~0.017).
        Assert.InRange(plans.Count(p => p.Hyperparameters["learningRate"] < Math.Sqrt(0.001 * 0.3)), 4, 16);
    }

    [Fact]
    public void Plan_RandomSearch_SameSeedSamePlanOtherSeedOtherPlan()
    {
        var first = TrialPlanner.Plan("r", WithSearch(Random)).Select(p => p.Hyperparameters["learningRate"]);
        var again = TrialPlanner.Plan("r", WithSearch(Random)).Select(p => p.Hyperparameters["learningRate"]);
        var other = TrialPlanner.Plan("r", WithSearch(Random, seed: 7)).Select(p => p.Hyperparameters["learningRate"]);

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public void Best_LowerIsBetterForLossesAndFailedTrialsAreSkipped()
    {
        var spec = WithSearch(Random with { Metric = "logLoss" });
        TrainingJobReport Report(TrainingJobState state, double logLoss) => new(
            new TrainingJobResult("j", state, null, new Dictionary<string, double> { ["logLoss"] = logLoss }, [], null, 1, "cpu", "1"), 1, "callback");

        var best = TrialPlanner.Best(spec, [Report(TrainingJobState.Succeeded, 0.6), Report(TrainingJobState.Failed, 0.1), Report(TrainingJobState.Succeeded, 0.4), Report(TrainingJobState.Succeeded, 0.4)]);

        Assert.Equal(2, best);
        Assert.Null(TrialPlanner.Best(spec, [Report(TrainingJobState.Failed, 0.1)]));
    }

    [Fact]
    public void Plan_RandomOverACountingHyperparameter_DrawsWholeNumbersWithinItsRange()
    {
        var sample = ModelSpecValidator.Parse(File.ReadAllText(RepoPaths.SampleSpec)).Spec!;
        var search = new SearchSpec { Strategy = SearchStrategies.Random, Trials = 30, Space = new Dictionary<string, SearchDimension> { ["epochs"] = new() { Min = 1, Max = 40 } } };
        var spec = sample with { Trainer = sample.Trainer with { Algorithm = TrainerAlgorithms.Mlp, Search = search } };

        var epochs = TrialPlanner.Plan("r", spec).Select(p => p.Hyperparameters["epochs"]).ToList();

        Assert.All(epochs, e => Assert.True(e == Math.Round(e) && e is >= 1 and <= 40, $"epochs {e}"));
        Assert.True(epochs.Distinct().Count() > 5);
    }
}
