using Microsoft.Extensions.DependencyInjection;
using Serverless.Lifecycle.Monitoring;
using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Specs;
using Serverless.Samples.Churn;

namespace Serverless.Lifecycle.Tests.Pipeline;

/// <summary>The run controller's policy for overlapping requests, and its one format of run ids.</summary>
public sealed class RunControllerTests(PipelineHostFixture fixture) : IClassFixture<PipelineHostFixture>
{
    private RunController Controller => fixture.Services.GetRequiredService<RunController>();

    /// <summary>A spec whose runs wait for approval after the gate: a run stays active until it is decided.</summary>
    private static ModelSpec Held(string prefix)
    {
        var sample = PipelineHostFixture.SampleSpec(prefix);
        return sample with { Evaluation = sample.Evaluation with { Approval = new ApprovalSpec { Required = true, TimeoutHours = 1 } } };
    }

    private async Task<Lifecycle.Data.DatasetVersion> UploadAsync(ModelSpec spec, int seed) =>
        await fixture.Datasets.UploadAsync(spec.Name, new MemoryStream(System.Text.Encoding.UTF8.GetBytes(ChurnDataGenerator.Generate(2500, seed: seed))), CancellationToken.None);

    private async Task WaitUntilWaitingAsync(string runId)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (await fixture.Client.GetRunAsync(runId, timeout.Token) is not ({ Steps: [.., { Name: "approve", CompletedAt: null }] } or { IsFinished: true }))
        {
            await Task.Delay(200, timeout.Token);
        }
    }

    [Fact]
    public async Task UploadWhileAnAutomaticRunIsActive_StartsItsOwnRun_AndAutomaticTriggersThenCoalesceIntoTheUpload()
    {
        var spec = Held("overlap");
        await fixture.Registry.PutSpecAsync(spec, "test", CancellationToken.None);
        var first = await UploadAsync(spec, 31);
        var at = new DateTimeOffset(2026, 12, 6, 10, 0, 0, TimeSpan.Zero);
        var drift = await Controller.StartAsync(new RunRequest(spec, RunTriggers.Drift, "drift on tenure", first, at), fixture.Client, CancellationToken.None);
        await WaitUntilWaitingAsync(drift.RunId);

        var second = await UploadAsync(spec, 21);
        var upload = await Controller.StartAsync(new RunRequest(spec, RunTriggers.Upload, "uploaded", second), fixture.Client, CancellationToken.None);
        var quality = await Controller.StartAsync(new RunRequest(spec, RunTriggers.Quality, "accuracy below the card's", second, at.AddMinutes(5)), fixture.Client, CancellationToken.None);
        var again = await Controller.StartAsync(new RunRequest(spec, RunTriggers.Upload, "uploaded", second), fixture.Client, CancellationToken.None);

        Assert.Equal((TriggerOutcomes.Started, $"{spec.Name}-drift-202612061000"), (drift.Outcome, drift.RunId));
        Assert.Equal((TriggerOutcomes.Started, RunIds.ForDataset(second)), (upload.Outcome, upload.RunId));
        Assert.Equal((TriggerOutcomes.Coalesced, upload.RunId), (quality.Outcome, quality.RunId));
        Assert.Equal((TriggerOutcomes.Duplicate, upload.RunId), (again.Outcome, again.RunId));
        Assert.False((await fixture.Client.GetRunAsync(drift.RunId, CancellationToken.None))!.IsFinished);
        Assert.Null(await fixture.Client.GetRunAsync(RunIds.ForOccurrence(spec.Name, RunTriggers.Quality, at.AddMinutes(5)), CancellationToken.None));

        // The upload's run ends first; the automatic run it displaced is still active and takes what follows.
        await DecideAsync(upload.RunId);
        var schedule = await Controller.StartAsync(new RunRequest(spec, RunTriggers.Schedule, "nightly", second, at.AddMinutes(10)), fixture.Client, CancellationToken.None);
        Assert.Equal((TriggerOutcomes.Coalesced, drift.RunId), (schedule.Outcome, schedule.RunId));
        await DecideAsync(drift.RunId);

        var recorded = await Controller.ListAsync(spec.Name, CancellationToken.None);
        Assert.Equal(
            [
                (RunTriggers.Schedule, TriggerOutcomes.Coalesced, drift.RunId), (RunTriggers.Quality, TriggerOutcomes.Coalesced, upload.RunId),
                (RunTriggers.Upload, TriggerOutcomes.Started, upload.RunId), (RunTriggers.Drift, TriggerOutcomes.Started, drift.RunId),
            ],
            recorded.Select(r => (r.Trigger, r.Outcome, r.RunId)));
    }

    [Fact]
    public async Task AnEventDeliveredAgainAfterItsRunEnded_IsADuplicate_NotCoalescedIntoAnotherActiveRun()
    {
        var spec = Held("redeliver");
        await fixture.Registry.PutSpecAsync(spec, "test", CancellationToken.None);
        var data = await UploadAsync(spec, 31);
        var first = await Controller.StartAsync(new RunRequest(spec, RunTriggers.NewData, "new data", data), fixture.Client, CancellationToken.None);
        await DecideAsync(first.RunId);
        var drift = await Controller.StartAsync(new RunRequest(spec, RunTriggers.Drift, "drift", data, DateTimeOffset.UnixEpoch), fixture.Client, CancellationToken.None);
        await WaitUntilWaitingAsync(drift.RunId);

        var again = await Controller.StartAsync(new RunRequest(spec, RunTriggers.NewData, "new data", data), fixture.Client, CancellationToken.None);

        Assert.Equal((TriggerOutcomes.Duplicate, first.RunId), (again.Outcome, again.RunId));
        Assert.Equal([drift.RunId, first.RunId], (await Controller.ListAsync(spec.Name, CancellationToken.None)).Select(r => r.RunId));
        await DecideAsync(drift.RunId);
    }

    /// <summary>Rejects a run waiting for approval (only the run controller is under test) and waits for its end.</summary>
    private async Task DecideAsync(string runId)
    {
        await WaitUntilWaitingAsync(runId);
        await fixture.Client.DecideRunAsync(runId, new ApprovalDecision(false, "test", "only the run controller is under test"), CancellationToken.None);
        var run = await fixture.WaitAsync(runId);
        Assert.True(run.Status == "notApproved", $"{runId}: {run.Status} {run.Error}");
    }

    [Fact]
    public async Task ManualRuns_AreNewEachTime_AndEveryOtherOriginIsKeyedByWhatItIsFor()
    {
        var spec = PipelineHostFixture.SampleSpec("ids");
        var dataset = new Lifecycle.Data.DatasetVersion(spec.Name, "datasets/ids/a.csv", "0x8D1", "abc", 10, DateTimeOffset.UnixEpoch);
        var due = new DateTimeOffset(2026, 12, 6, 3, 0, 0, TimeSpan.FromHours(1));

        Assert.NotEqual(RunIds.ForManual(spec.Name), RunIds.ForManual(spec.Name));
        Assert.StartsWith($"{spec.Name}-manual-", RunIds.ForManual(spec.Name), StringComparison.Ordinal);
        Assert.Equal(RunIds.ForDataset(dataset), RunIds.ForDataset(dataset with { SizeBytes = 11 }));
        Assert.NotEqual(RunIds.ForDataset(dataset), RunIds.ForDataset(dataset with { ETag = "0x8D2" }));
        Assert.Matches($"^{spec.Name}-data-[0-9a-f]{{24}}$", RunIds.ForDataset(dataset));
        Assert.Equal($"{spec.Name}-schedule-202612060200", RunIds.ForOccurrence(spec.Name, RunTriggers.Schedule, due));
    }
}
