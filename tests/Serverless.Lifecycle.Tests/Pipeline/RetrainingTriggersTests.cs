using Microsoft.Extensions.DependencyInjection;
using Serverless.Lifecycle.Monitoring;
using Serverless.Lifecycle.Pipeline;
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
        var triggers = fixture.Services.GetRequiredService<RetrainingTriggers>();

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
}
