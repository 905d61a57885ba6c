using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Rollouts;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;
using Serverless.Samples.Churn;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Pipeline;

/// <summary>
/// Canary rollouts through the orchestration, with traffic through the same scoring service the
/// prediction routes use: a challenger that holds its bounds becomes champion; one that does not
/// is rolled back with the reason, and the champion never changes.
/// </summary>
public sealed class RolloutPipelineTests(PipelineHostFixture fixture) : IClassFixture<PipelineHostFixture>
{
    private static ModelSpec Canary(ModelSpec spec, double? maxLatencyMs = null) => spec with
    {
        Rollout = new RolloutSpec
        {
            Strategy = RolloutStrategies.Canary,
            Steps = [new RolloutStepSpec(0.5, 0.05)],
            MinRequests = 5,
            MaxLatencyP99Ms = maxLatencyMs ?? 10_000,
        },
    };

    /// <summary>Runs the canary run while requests flow; returns the run and which aliases answered.</summary>
    private async Task<(RunStatus Run, Dictionary<string, int> AnsweredBy)> RunWithTrafficAsync(ModelSpec spec, string runId, Func<Task>? during = null)
    {
        var service = fixture.Services.GetRequiredService<PredictionService>();
        var rows = LabeledBatch.ReadCsv(new StringReader(ChurnDataGenerator.Generate(20, seed: 4)), spec, readLabels: false).Features;
        var answeredBy = new Dictionary<string, int>(StringComparer.Ordinal);
        using var stop = new CancellationTokenSource();
        var traffic = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var (scored, _) = await service.ScoreAsync<string>(spec.Name, ReservedAliases.Champion, $"req-{runId}-{i}", "test", TimeProvider.System.GetTimestamp(), _ => (rows.Row(i % rows.Rows), null), CancellationToken.None);
                lock (answeredBy)
                {
                    answeredBy[scored!.Alias!] = answeredBy.GetValueOrDefault(scored.Alias!) + 1;
                }

                await Task.Delay(20);
            }
        });

        await fixture.StartRunAsync(spec, Encoding.UTF8.GetBytes(ChurnDataGenerator.Generate(2500, seed: 22)), runId: runId);
        if (during is not null)
        {
            await during();
        }

        var run = await fixture.WaitAsync(runId);
        await stop.CancelAsync();
        await traffic;
        return (run, answeredBy);
    }

    [Fact]
    public async Task Canary_ThatHoldsItsBounds_BecomesChampion()
    {
        var spec = PipelineHostFixture.SampleSpec("canary");
        Assert.Equal("succeeded", (await fixture.RunAsync(spec, ChurnDataGenerator.Generate(2500, seed: 21))).Status);

        var (run, answeredBy) = await RunWithTrafficAsync(Canary(spec), $"{spec.Name}-canary");

        Assert.True(run.Status == "succeeded", $"{run.Status}: {run.Error} {string.Join("; ", run.Steps.Select(s => $"{s.Name} {s.Outcome} {s.Detail}"))}");
        Assert.Equal(2, (await fixture.Registry.ResolveAsync(spec.Name, ReservedAliases.Champion, CancellationToken.None)).Version);
        Assert.Null(await fixture.Registry.TryGetAliasAsync(spec.Name, PredictionService.ChallengerAlias, CancellationToken.None));
        Assert.True(answeredBy.GetValueOrDefault("challenger") > 0 && answeredBy.GetValueOrDefault("champion") > 0, string.Join(", ", answeredBy));
        var rollout = (await fixture.Services.GetRequiredService<RolloutStore>().GetCurrentAsync(spec.Name, CancellationToken.None))!;
        Assert.Equal((RolloutStatuses.Promoted, 2, 1), (rollout.Status, rollout.Challenger, rollout.Champion));
        Assert.True(rollout.Checks[^1].Passed);
        Assert.True(rollout.Checks[^1].ChallengerRequests >= 5, rollout.Checks[^1].Reason);
    }

    [Fact]
    public async Task Canary_OverItsLatencyBound_IsRolledBackWithTheReason_AndTheChampionStays()
    {
        var spec = PipelineHostFixture.SampleSpec("rollback");
        Assert.Equal("succeeded", (await fixture.RunAsync(spec, ChurnDataGenerator.Generate(2500, seed: 21))).Status);

        var (run, _) = await RunWithTrafficAsync(Canary(spec, maxLatencyMs: 0.000001), $"{spec.Name}-canary");

        Assert.Equal("rolledBack", run.Status);
        Assert.Contains("p99 latency", run.Error, StringComparison.Ordinal);
        Assert.Equal(2, run.Version);
        Assert.Equal(1, (await fixture.Registry.ResolveAsync(spec.Name, ReservedAliases.Champion, CancellationToken.None)).Version);
        Assert.Null(await fixture.Registry.TryGetAliasAsync(spec.Name, PredictionService.ChallengerAlias, CancellationToken.None));
        var rollout = (await fixture.Services.GetRequiredService<RolloutStore>().GetCurrentAsync(spec.Name, CancellationToken.None))!;
        Assert.Equal(RolloutStatuses.RolledBack, rollout.Status);
        Assert.False(rollout.Checks[^1].Passed);
    }

    [Fact]
    public async Task ChampionMovedDuringTheRollout_TheCanaryEndsSuperseded_AndTheNewerChampionStays()
    {
        var spec = PipelineHostFixture.SampleSpec("overtaken");
        Assert.Equal("succeeded", (await fixture.RunAsync(spec, ChurnDataGenerator.Generate(2500, seed: 21))).Status);
        var canary = Canary(spec) with { Rollout = Canary(spec).Rollout with { Steps = [new RolloutStepSpec(0.5, 0.5)] } };
        var rollouts = fixture.Services.GetRequiredService<RolloutStore>();
        RunStatus? direct = null;

        // While the canary (version 2 against champion 1) is in its step, a direct run registers version 3 and promotes it.
        var (run, _) = await RunWithTrafficAsync(canary, $"{spec.Name}-canary", async () =>
        {
            await Eventually.WaitAsync(() => rollouts.GetCurrentAsync(spec.Name, CancellationToken.None), r => r is { Status: RolloutStatuses.Running });
            direct = await fixture.WaitAsync((await fixture.StartRunAsync(spec, Encoding.UTF8.GetBytes(ChurnDataGenerator.Generate(2500, seed: 21)), runId: $"{spec.Name}-direct")).RunId);
        });

        Assert.Equal(("succeeded", 3), (direct!.Status, direct.Version));
        Assert.Equal(("superseded", 2), (run.Status, run.Version));
        Assert.Contains("champion moved to version 3 during the rollout", run.Error, StringComparison.Ordinal);
        Assert.Equal(3, (await fixture.Registry.ResolveAsync(spec.Name, ReservedAliases.Champion, CancellationToken.None)).Version);
        Assert.Null(await fixture.Registry.TryGetAliasAsync(spec.Name, PredictionService.ChallengerAlias, CancellationToken.None));
        var rollout = (await rollouts.GetCurrentAsync(spec.Name, CancellationToken.None))!;
        Assert.Equal((RolloutStatuses.Superseded, 2, 1), (rollout.Status, rollout.Challenger, rollout.Champion));
        var superseded = Assert.Single(await fixture.Registry.ListAuditAsync(spec.Name, CancellationToken.None), e => e.Action == AuditActions.Superseded);
        Assert.Equal((3, 2, $"pipeline run {spec.Name}-canary"), (superseded.From, superseded.To, superseded.Actor));
    }

    [Fact]
    public async Task CancelDuringTheRollout_ReachesTheRolloutSubOrchestration_AndTheChampionStays()
    {
        var spec = PipelineHostFixture.SampleSpec("cancelroll");
        Assert.Equal("succeeded", (await fixture.RunAsync(spec, ChurnDataGenerator.Generate(2500, seed: 21))).Status);
        var canary = Canary(spec) with { Rollout = Canary(spec).Rollout with { Steps = [new RolloutStepSpec(0.5, 30)] } };
        var rollouts = fixture.Services.GetRequiredService<RolloutStore>();

        // The step would take 30 minutes: only the cancel, passed on to the rollout, can end it in the test's time.
        var (run, _) = await RunWithTrafficAsync(canary, $"{spec.Name}-canary", async () =>
        {
            await Eventually.WaitAsync(() => rollouts.GetCurrentAsync(spec.Name, CancellationToken.None), r => r is { Status: RolloutStatuses.Running });
            Assert.Equal(RunSignalOutcome.Accepted, await fixture.Client.CancelRunAsync($"{spec.Name}-canary", new CancelRequest("wrong data", "carol"), CancellationToken.None));
        });

        Assert.Equal(("cancelled", 2), (run.Status, run.Version));
        Assert.Equal("Cancelled by carol: wrong data", run.Error);
        Assert.Equal(1, (await fixture.Registry.ResolveAsync(spec.Name, ReservedAliases.Champion, CancellationToken.None)).Version);
        Assert.Null(await fixture.Registry.TryGetAliasAsync(spec.Name, PredictionService.ChallengerAlias, CancellationToken.None));
        var rollout = (await rollouts.GetCurrentAsync(spec.Name, CancellationToken.None))!;
        Assert.Equal(RolloutStatuses.Cancelled, rollout.Status);
        Assert.Contains("wrong data", rollout.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Shadow_ScoresOffTheResponsePath_LogsButNeverServesTheChallenger()
    {
        var spec = PipelineHostFixture.SampleSpec("shadow");
        Assert.Equal("succeeded", (await fixture.RunAsync(spec, ChurnDataGenerator.Generate(2500, seed: 21))).Status);
        var shadow = spec with { Rollout = new RolloutSpec { Strategy = RolloutStrategies.Shadow, Steps = [new RolloutStepSpec(1.0, 0.05)], MinRequests = 5, MaxLatencyP99Ms = 10_000 } };
        var started = DateTimeOffset.UtcNow;

        var (run, answeredBy) = await RunWithTrafficAsync(shadow, $"{spec.Name}-shadow");

        Assert.True(run.Status == "succeeded", $"{run.Status}: {run.Error}");
        Assert.Equal(["champion"], answeredBy.Keys);
        var logged = new List<PredictionRecord>();
        await foreach (var record in fixture.Services.GetRequiredService<PredictionLogReader>().ReadAsync(spec.Name, started, DateTimeOffset.UtcNow, new UnreadableLines()))
        {
            logged.Add(record);
        }

        var shadowed = logged.Where(r => r.Version == 2 && r.Alias == "challenger").ToList();
        Assert.NotEmpty(shadowed);
        Assert.All(shadowed, r => Assert.False(r.Served));
        Assert.All(shadowed, r => Assert.Contains(logged, c => c.Version == 1 && c.Served && c.RequestId == r.RequestId));
        Assert.Equal(2, (await fixture.Registry.ResolveAsync(spec.Name, ReservedAliases.Champion, CancellationToken.None)).Version);
    }

    [Fact]
    public void InShare_IsStablePerRequestAndCloseToTheShareOverManyRequests()
    {
        var ids = Enumerable.Range(0, 20_000).Select(i => $"request-{i}").ToList();

        var chosen = ids.Count(id => PredictionService.InShare(id, 0.2));

        Assert.InRange(chosen / (double)ids.Count, 0.18, 0.22);
        Assert.All(ids.Take(100), id => Assert.Equal(PredictionService.InShare(id, 0.2), PredictionService.InShare(id, 0.2)));
        Assert.All(ids.Take(100), id => Assert.True(!PredictionService.InShare(id, 0.2) || PredictionService.InShare(id, 0.5)));
    }
}
