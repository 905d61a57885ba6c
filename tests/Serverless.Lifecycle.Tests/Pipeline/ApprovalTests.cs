using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Specs;
using Serverless.Samples.Churn;

namespace Serverless.Lifecycle.Tests.Pipeline;

/// <summary>Human approval: the run waits after the gate for a decision, and a timeout rejects.</summary>
public sealed class ApprovalTests(PipelineHostFixture fixture) : IClassFixture<PipelineHostFixture>
{
    private static ModelSpec WithApproval(string prefix, double timeoutHours = 1)
    {
        var sample = PipelineHostFixture.SampleSpec(prefix);
        return sample with { Evaluation = sample.Evaluation with { Approval = new ApprovalSpec { Required = true, TimeoutHours = timeoutHours } } };
    }

    private async Task WaitUntilWaitingAsync(string runId)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (true)
        {
            var run = await fixture.Client.GetRunAsync(runId, timeout.Token);
            if (run is { Steps: [.., { Name: "approve", CompletedAt: null }] })
            {
                return;
            }

            Assert.False(run?.IsFinished, $"the run ended before waiting for approval: {run?.Status} {run?.Error}");
            await Task.Delay(200, timeout.Token);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Run_WaitsForTheDecisionAndRegistersOnlyWhenApproved(bool approve)
    {
        var spec = WithApproval(approve ? "approve" : "reject");
        var request = await fixture.StartRunAsync(spec, ChurnDataGenerator.Generate(2500, seed: 21));
        await WaitUntilWaitingAsync(request.RunId);
        Assert.Empty(await fixture.Registry.ListVersionsAsync(spec.Name, CancellationToken.None));

        var outcome = await fixture.Client.DecideRunAsync(request.RunId, new ApprovalDecision(approve, "carol", approve ? "looks right" : "fairness review pending"), CancellationToken.None);
        var run = await fixture.WaitAsync(request.RunId);

        Assert.Equal(RunSignalOutcome.Accepted, outcome);
        var step = run.Steps.Single(s => s.Name == "approve");
        Assert.Equal(approve ? "approved" : "rejected", step.Outcome);
        var audit = await fixture.Registry.ListAuditAsync(spec.Name, CancellationToken.None);
        var decision = Assert.Single(audit, e => e.Action is AuditActions.Approved or AuditActions.Rejected);
        Assert.Equal(("carol", approve ? AuditActions.Approved : AuditActions.Rejected), (decision.Actor, decision.Action));
        Assert.Contains(request.RunId, decision.Reason, StringComparison.Ordinal);
        if (approve)
        {
            Assert.Equal(("succeeded", 1), (run.Status, run.Version));
        }
        else
        {
            Assert.Equal("notApproved", run.Status);
            Assert.Equal("Not approved by carol: fairness review pending", run.Error);
            Assert.Empty(await fixture.Registry.ListVersionsAsync(spec.Name, CancellationToken.None));
        }

        Assert.Equal(RunSignalOutcome.Finished, await fixture.Client.DecideRunAsync(request.RunId, new ApprovalDecision(true, "carol", "late"), CancellationToken.None));
    }

    [Fact]
    public async Task Run_NoDecisionInTime_IsRejectedByTheTimeout()
    {
        var spec = WithApproval("timeout", timeoutHours: 0.002);

        var run = await fixture.WaitAsync((await fixture.StartRunAsync(spec, ChurnDataGenerator.Generate(2500, seed: 21))).RunId);

        Assert.Equal("notApproved", run.Status);
        Assert.Contains("Not approved by timeout: no decision within 0.002 hour(s)", run.Error, StringComparison.Ordinal);
        Assert.Empty(await fixture.Registry.ListVersionsAsync(spec.Name, CancellationToken.None));
    }

    [Fact]
    public async Task Decide_RunNotWaitingOrUnknown_IsRefused()
    {
        var spec = PipelineHostFixture.SampleSpec("noapproval");
        var run = await fixture.RunAsync(spec, ChurnDataGenerator.Generate(800, seed: 21));

        Assert.Equal(RunSignalOutcome.Finished, await fixture.Client.DecideRunAsync(run.RunId, new ApprovalDecision(true, "carol", "x"), CancellationToken.None));
        Assert.Equal(RunSignalOutcome.UnknownRun, await fixture.Client.DecideRunAsync("no-such-run", new ApprovalDecision(true, "carol", "x"), CancellationToken.None));
        Assert.DoesNotContain(await fixture.Registry.ListAuditAsync(spec.Name, CancellationToken.None), e => e.Action == AuditActions.Approved);
    }
}
