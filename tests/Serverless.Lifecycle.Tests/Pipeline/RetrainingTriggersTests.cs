using Microsoft.Extensions.DependencyInjection;
using Serverless.Lifecycle.Monitoring;
using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Training;
using Serverless.Samples.Churn;

namespace Serverless.Lifecycle.Tests.Pipeline;

/// <summary>Automatic triggers for one model coalesce into one active run, and every trigger is recorded.</summary>
public sealed class RetrainingTriggersTests(PipelineHostFixture fixture) : IClassFixture<PipelineHostFixture>
{
    [Fact]
    public async Task SecondTriggerWhileARunIsActive_IsCoalescedIntoIt_AndALaterOneStartsANewRun()
    {
        var spec = PipelineHostFixture.SampleSpec("coalesce");
        var first = await fixture.StartRunAsync(spec, ChurnDataGenerator.Generate(2500, seed: 21));
        var triggers = fixture.Services.GetRequiredService<RunController>();

        var started = await triggers.TriggerAsync(spec.Name, RunTriggers.Drift, "drift on monthly_charges", first.Dataset, $"{spec.Name}-t1", fixture.Client, CancellationToken.None);
        var coalesced = await triggers.TriggerAsync(spec.Name, "schedule", "nightly", first.Dataset, $"{spec.Name}-t2", fixture.Client, CancellationToken.None);
        await fixture.WaitAsync(first.RunId);
        var run = await fixture.WaitAsync(started.RunId);
        var later = await triggers.TriggerAsync(spec.Name, "schedule", "nightly again", first.Dataset, $"{spec.Name}-t3", fixture.Client, CancellationToken.None);
        await fixture.WaitAsync(later.RunId);

        Assert.Equal((TriggerOutcomes.Started, $"{spec.Name}-t1"), (started.Outcome, started.RunId));
        Assert.Equal((TriggerOutcomes.Coalesced, $"{spec.Name}-t1"), (coalesced.Outcome, coalesced.RunId));
        Assert.Equal((TriggerOutcomes.Started, $"{spec.Name}-t3"), (later.Outcome, later.RunId));
        Assert.Equal(("drift", "succeeded"), (run.Trigger, run.Status));
        Assert.Null(await fixture.Client.GetRunAsync($"{spec.Name}-t2", CancellationToken.None));
        var recorded = await triggers.ListAsync(spec.Name, CancellationToken.None);
        Assert.Equal(["nightly again", "nightly", "drift on monthly_charges"], recorded.Select(r => r.Reason));
    }

    [Fact]
    public async Task DatasetWrittenStraightToStorage_StartsOneRun_EvenWhenItsEventIsDeliveredTwice()
    {
        var spec = PipelineHostFixture.SampleSpec("newdata");
        await fixture.Registry.PutSpecAsync(spec, "test", CancellationToken.None);
        await fixture.Storage.EnsureCreatedAsync(CancellationToken.None);
        var name = $"{spec.Name}/exports/2026-11-26.csv";
        await fixture.Storage.Blob(new Lifecycle.Storage.BlobPath("datasets", name)).UploadAsync(BinaryData.FromString(ChurnDataGenerator.Generate(2500, seed: 23)), overwrite: true);
        var trigger = fixture.Services.GetRequiredService<NewDataTrigger>();

        var first = await trigger.OnBlobAsync(name, fixture.Client, CancellationToken.None);
        var again = await trigger.OnBlobAsync(name, fixture.Client, CancellationToken.None);
        var stranger = await trigger.OnBlobAsync("no-such-model/file.csv", fixture.Client, CancellationToken.None);
        var run = await fixture.WaitAsync(first!.RunId);

        // A second delivery of the same blob: the same run, not a new one, and recorded once.
        Assert.Equal((first.RunId, TriggerOutcomes.Started), (again!.RunId, first.Outcome));
        Assert.Equal(TriggerOutcomes.Duplicate, again.Outcome);
        Assert.Single(await fixture.Services.GetRequiredService<RunController>().ListAsync(spec.Name, CancellationToken.None));
        Assert.Null(stranger);
        Assert.Equal(("succeeded", NewDataTrigger.Trigger), (run.Status, run.Trigger));
        Assert.Equal($"datasets/{name}", run.Dataset!.Path);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(ChurnDataGenerator.Generate(2500, seed: 23)))), run.Dataset.Sha256);
    }

    [Fact]
    public async Task ARunStartedButNotRecorded_IsRecordedByTheRetry_ThenRepeatsAreDuplicates()
    {
        // An earlier attempt started the run, then failed before recording the trigger.
        var spec = PipelineHostFixture.SampleSpec("unrecorded");
        var upload = await fixture.StartRunAsync(spec, ChurnDataGenerator.Generate(2500, seed: 26));
        await fixture.WaitAsync(upload.RunId);
        var runId = $"{spec.Name}-drift-retry";
        Assert.True(await fixture.Client.StartRunAsync(new TrainingRunRequest(runId, spec, upload.Dataset, RunTriggers.Drift, "drift"), CancellationToken.None));
        var triggers = fixture.Services.GetRequiredService<RunController>();

        var retry = await triggers.TriggerAsync(spec.Name, RunTriggers.Drift, "drift", upload.Dataset, runId, fixture.Client, CancellationToken.None);
        var repeat = await triggers.TriggerAsync(spec.Name, RunTriggers.Drift, "drift", upload.Dataset, runId, fixture.Client, CancellationToken.None);
        await fixture.WaitAsync(runId);

        Assert.Equal((TriggerOutcomes.Started, TriggerOutcomes.Duplicate), (retry.Outcome, repeat.Outcome));
        Assert.Equal(runId, Assert.Single(await triggers.ListAsync(spec.Name, CancellationToken.None)).RunId);
    }

    [Fact]
    public async Task TwentyConcurrentTriggersOfMixedKinds_StartExactlyOneRun_AndCoalesceTheOthers_WithoutAnError()
    {
        var spec = PipelineHostFixture.SampleSpec("burst");
        await fixture.Registry.PutSpecAsync(spec, "test", CancellationToken.None);
        var dataset = await fixture.Datasets.UploadAsync(spec.Name, new MemoryStream(System.Text.Encoding.UTF8.GetBytes(ChurnDataGenerator.Generate(2500, seed: 27))), CancellationToken.None);
        var triggers = fixture.Services.GetRequiredService<RunController>();
        string[] kinds = [RunTriggers.Drift, "schedule", NewDataTrigger.Trigger, "quality"];

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() =>
            triggers.TriggerAsync(spec.Name, kinds[i % kinds.Length], $"trigger {i}", dataset, $"{spec.Name}-b{i}", fixture.Client, CancellationToken.None))));

        var started = Assert.Single(outcomes, o => o.Outcome == TriggerOutcomes.Started);
        Assert.Equal(19, outcomes.Count(o => o.Outcome == TriggerOutcomes.Coalesced && o.RunId == started.RunId));
        var runs = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            if (await fixture.Client.GetRunAsync($"{spec.Name}-b{i}", CancellationToken.None) is not null)
            {
                runs.Add($"{spec.Name}-b{i}");
            }
        }

        Assert.Equal([started.RunId], runs);
        Assert.Equal(20, (await triggers.ListAsync(spec.Name, CancellationToken.None)).Count);
        await fixture.WaitAsync(started.RunId);
    }

    [Fact]
    public async Task OneEventDeliveredThreeTimesAtOnce_StartsOneRun_AndRecordsItOnce()
    {
        var spec = PipelineHostFixture.SampleSpec("thrice");
        await fixture.Registry.PutSpecAsync(spec, "test", CancellationToken.None);
        var dataset = await fixture.Datasets.UploadAsync(spec.Name, new MemoryStream(System.Text.Encoding.UTF8.GetBytes(ChurnDataGenerator.Generate(2500, seed: 28))), CancellationToken.None);
        var triggers = fixture.Services.GetRequiredService<RunController>();
        var runId = $"{spec.Name}-event";

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Task.Run(() =>
            triggers.TriggerAsync(spec.Name, NewDataTrigger.Trigger, "new data", dataset, runId, fixture.Client, CancellationToken.None))));

        Assert.Single(outcomes, o => o.Outcome == TriggerOutcomes.Started);
        Assert.Equal(2, outcomes.Count(o => o.Outcome == TriggerOutcomes.Duplicate));
        Assert.All(outcomes, o => Assert.Equal(runId, o.RunId));
        Assert.Equal(runId, Assert.Single(await triggers.ListAsync(spec.Name, CancellationToken.None)).RunId);
        Assert.Equal("succeeded", (await fixture.WaitAsync(runId)).Status);
    }


    [Fact]
    public async Task Schedule_TriggersTheDueOccurrenceOnce_OnTheNewestDataset()
    {
        var spec = PipelineHostFixture.SampleSpec("cron") with { Retraining = new RetrainingSpec { Schedule = "0 * * * *" } };
        var upload = await fixture.StartRunAsync(spec, ChurnDataGenerator.Generate(2500, seed: 24));
        await fixture.WaitAsync(upload.RunId);
        var schedule = fixture.Services.GetRequiredService<ScheduleTrigger>();

        // Two hosts checking at once, then a later pass: the hour's occurrence is triggered once.
        var checks = await Task.WhenAll(schedule.CheckAsync(spec, fixture.Client, CancellationToken.None), schedule.CheckAsync(spec, fixture.Client, CancellationToken.None));
        var due = Assert.Single(checks, c => c is not null);
        var again = await schedule.CheckAsync(spec, fixture.Client, CancellationToken.None);
        var unscheduled = await schedule.CheckAsync(spec with { Retraining = new RetrainingSpec() }, fixture.Client, CancellationToken.None);
        var run = await fixture.WaitAsync(due!.RunId);

        Assert.Equal(TriggerOutcomes.Started, due.Outcome);
        Assert.StartsWith($"{spec.Name}-schedule-", due.RunId, StringComparison.Ordinal);
        Assert.Contains("scheduled retraining (0 * * * *) due at", due.Reason, StringComparison.Ordinal);
        Assert.True(again is null || again.Reason != due.Reason, "the same occurrence was triggered twice");
        Assert.Null(unscheduled);
        Assert.Equal(("succeeded", ScheduleTrigger.Trigger, upload.Dataset.Path), (run.Status, run.Trigger, run.Dataset!.Path));
    }
}
