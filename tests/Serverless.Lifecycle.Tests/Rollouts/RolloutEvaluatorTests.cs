using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Monitoring;
using Serverless.Lifecycle.Rollouts;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Rollouts;

/// <summary>Step judgements from a prediction log and feedback written to Azurite.</summary>
public sealed class RolloutEvaluatorTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 26, 8, 0, 0, TimeSpan.Zero);
    private readonly LifecycleStorage storage = Azurite.CreateStorage();
    private readonly ModelSpec spec;

    public RolloutEvaluatorTests()
    {
        var sample = ModelSpecValidator.Parse(File.ReadAllText(RepoPaths.SampleSpec)).Spec!;
        spec = sample with
        {
            Name = Azurite.UniqueModelName("roll"),
            Rollout = new RolloutSpec { Strategy = RolloutStrategies.Canary, Steps = [new RolloutStepSpec(0.5, 1)], MinRequests = 10, MaxErrorRate = 0.1, MaxLatencyP99Ms = 50, Quality = new RolloutQualitySpec("accuracy", 0.05) },
        };
    }

    public void Dispose() => storage.Dispose();

    private RolloutState State => new(spec.Name, "run", RolloutStrategies.Canary, 2, 1, 0, 0.5, RolloutStatuses.Running, null, T0, T0, []);

    private PredictionRecord Record(int version, int i, string label, double latency = 5, string? error = null) =>
        new($"r{version}-{i}", 0, T0.AddSeconds(i), spec.Name, version, version == 2 ? "challenger" : "champion", "predict", new Dictionary<string, object?>(), error is null ? label : null, 0.7, null, latency, true, error);

    private async Task<RolloutCheck> EvaluateAsync(IEnumerable<PredictionRecord> records, IEnumerable<Feedback>? truth = null, ModelSpec? judged = null)
    {
        var log = new PredictionLog(storage, Options.Create(new PredictionLogOptions()), TimeProvider.System, NullLogger<PredictionLog>.Instance);
        log.Write(records);
        await log.StartAsync(CancellationToken.None);
        await log.StopAsync(CancellationToken.None);
        var feedback = new FeedbackStore(storage);
        if (truth is not null)
        {
            await feedback.SaveAsync(spec.Name, truth.ToList(), CancellationToken.None);
        }

        return await new RolloutEvaluator(new PredictionLogReader(storage), feedback).EvaluateAsync(judged ?? spec, State, T0, T0.AddMinutes(1), CancellationToken.None);
    }

    [Fact]
    public async Task HealthyChallenger_Passes_AndTooFewRequestsIsInsufficientNotFailed()
    {
        // The same log, first with 3 challenger requests and then with 12 more.
        var few = await EvaluateAsync(Enumerable.Range(20, 3).Select(i => Record(2, i, "1")));
        var healthy = await EvaluateAsync(Enumerable.Range(0, 12).SelectMany(i => new[] { Record(1, i, "1"), Record(2, i, "1") }));

        Assert.True(healthy.Passed, healthy.Reason);
        Assert.Equal((15L, 0L, 5.0), (healthy.ChallengerRequests, healthy.ChallengerErrors, healthy.ChallengerP99Ms));
        Assert.Contains("live accuracy not judged", healthy.Reason, StringComparison.Ordinal);
        Assert.False(few.Passed);
        Assert.True(few.Insufficient);
    }

    [Fact]
    public async Task Failures_AboveTheMaximumRate_Fail()
    {
        var check = await EvaluateAsync(Enumerable.Range(0, 10).Select(i => Record(2, i, "1")).Concat(Enumerable.Range(10, 2).Select(i => Record(2, i, "1", error: "boom"))));

        Assert.False(check.Passed);
        Assert.False(check.Insufficient);
        Assert.Contains("failed 2 of 12 request(s)", check.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LiveAccuracy_WorseThanTheChampionByMoreThanAllowed_Fails()
    {
        // The champion is right on all 20 labelled predictions, the challenger on 15 of 20: 25 points worse.
        var records = Enumerable.Range(0, 20).SelectMany(i => new[] { Record(1, i, "1"), Record(2, i, i < 15 ? "1" : "0") });
        var truth = Enumerable.Range(0, 20).SelectMany(i => new[] { new Feedback($"r1-{i}", 0, "1", T0), new Feedback($"r2-{i}", 0, "1", T0) });

        var check = await EvaluateAsync(records, truth);

        Assert.False(check.Passed);
        Assert.Equal((0.75, 1.0, 20L, 20L), (check.ChallengerQuality, check.ChampionQuality, check.ChallengerLabelled, check.ChampionLabelled));
        Assert.Contains("live accuracy is 0.75 against the champion's 1", check.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LiveMae_OfARegressionChallenger_IsComparedWithTheChampions_EvenOnAConstantTarget()
    {
        // Every true value is 10 (R² is undefined there; MAE is not): the champion answers 10, the challenger 11.
        var regression = spec with { Task = ModelTasks.Regression, Rollout = spec.Rollout with { Quality = new RolloutQualitySpec("mae", 0.5) } };
        var records = Enumerable.Range(0, 20).SelectMany(i => new[] { Record(1, i, "") with { Label = null, Value = 10 }, Record(2, i, "") with { Label = null, Value = 11 } });
        var truth = Enumerable.Range(0, 20).SelectMany(i => new[] { new Feedback($"r1-{i}", 0, "10", T0), new Feedback($"r2-{i}", 0, "10", T0) });

        var check = await EvaluateAsync(records, truth, regression);

        Assert.False(check.Passed);
        Assert.Equal((1.0, 0.0), (check.ChallengerQuality, check.ChampionQuality));
        Assert.Contains("mae", check.Reason, StringComparison.Ordinal);
    }
}

