using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Specs;
using Serverless.Samples.Churn;

namespace Serverless.Lifecycle.Tests.Pipeline;

/// <summary>Two runs of one model that finish out of order: the later promotion does not displace the champion the other set after its gate.</summary>
public sealed class SupersededRunTests(PipelineHostFixture fixture) : IClassFixture<PipelineHostFixture>
{
    private async Task WaitUntilWaitingAsync(string runId)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while ((await fixture.Client.GetRunAsync(runId, timeout.Token)) is not { Steps: [.., { Name: "approve", CompletedAt: null }] } run || run.IsFinished)
        {
            await Task.Delay(200, timeout.Token);
        }
    }

    /// <summary>
    /// Approval holds both runs after their gates (both compared with no champion), so the order they
    /// finish in is the test's: the newer is approved first and becomes champion, then the older.
    /// </summary>
    private async Task<(RunStatus Newer, RunStatus Older, ModelSpec Spec)> FinishOutOfOrderAsync(string prefix, IReadOnlyList<ChangeThresholdSpec> changes)
    {
        var sample = PipelineHostFixture.SampleSpec(prefix);
        var spec = sample with
        {
            Evaluation = sample.Evaluation with
            {
                Approval = new ApprovalSpec { Required = true, TimeoutHours = 1 },
                Gate = sample.Evaluation.Gate with { Changes = changes },
            },
        };
        var older = await fixture.StartRunAsync(spec, System.Text.Encoding.UTF8.GetBytes(ChurnDataGenerator.Generate(2500, seed: 21)), runId: spec.Name + "-older");
        var newer = await fixture.StartRunAsync(spec, System.Text.Encoding.UTF8.GetBytes(ChurnDataGenerator.Generate(2500, seed: 22)), runId: spec.Name + "-newer");
        await WaitUntilWaitingAsync(older.RunId);
        await WaitUntilWaitingAsync(newer.RunId);

        await fixture.Client.DecideRunAsync(newer.RunId, new ApprovalDecision(true, "carol", "ok"), CancellationToken.None);
        var first = await fixture.WaitAsync(newer.RunId);
        await fixture.Client.DecideRunAsync(older.RunId, new ApprovalDecision(true, "carol", "ok"), CancellationToken.None);
        return (first, await fixture.WaitAsync(older.RunId), spec);
    }

    [Fact]
    public async Task RunsFinishingOutOfOrder_TheOlderFailsTheGateAgainstTheNewChampion_EndsSuperseded_AndTheAuditTrailSaysSo()
    {
        // A change threshold no candidate meets: it does not apply to the first gates (no champion), only to the re-gate.
        var (newer, older, spec) = await FinishOutOfOrderAsync("superseded", [new ChangeThresholdSpec("auc", 0.5, null)]);

        Assert.Equal(("succeeded", 1), (newer.Status, newer.Version));
        Assert.Equal(("superseded", 2), (older.Status, older.Version));
        Assert.Contains("champion moved to version 1", older.Error, StringComparison.Ordinal);
        Assert.Contains("did not pass the gate again", older.Error, StringComparison.Ordinal);
        Assert.Equal(1, older.Verdict!.ChampionVersion);
        Assert.Equal(1, (await fixture.Registry.ResolveAsync(spec.Name, ReservedAliases.Champion, CancellationToken.None)).Version);
        Assert.Equal(ModelVersionStatus.Ready, (await fixture.Registry.GetVersionAsync(spec.Name, 2, CancellationToken.None)).Status);
        var audit = await fixture.Registry.ListAuditAsync(spec.Name, CancellationToken.None);
        var superseded = Assert.Single(audit, e => e.Action == AuditActions.Superseded);
        Assert.Equal((1, 2, $"pipeline run {spec.Name}-older"), (superseded.From, superseded.To, superseded.Actor));
        Assert.Single(audit, e => e.Action == AuditActions.AliasMoved);
    }

    [Fact]
    public async Task RunsFinishingOutOfOrder_TheOlderPassesTheGateAgainstTheNewChampion_AndThenPromotes()
    {
        var (newer, older, spec) = await FinishOutOfOrderAsync("regated", []);

        Assert.Equal(("succeeded", 1), (newer.Status, newer.Version));
        Assert.Equal(("succeeded", 2), (older.Status, older.Version));
        Assert.Equal(1, older.Verdict!.ChampionVersion);
        Assert.Equal(["moved", "done"], older.Steps.Where(s => s.Name == "promote").Select(s => s.Outcome));
        Assert.Equal(2, (await fixture.Registry.ResolveAsync(spec.Name, ReservedAliases.Champion, CancellationToken.None)).Version);
        var moves = (await fixture.Registry.ListAuditAsync(spec.Name, CancellationToken.None)).Where(e => e.Action == AuditActions.AliasMoved).OrderBy(e => e.At).ToList();
        Assert.Equal([(null, 1), (1, 2)], moves.Select(m => (m.From, m.To)));
        Assert.Contains("again, against version 1", moves[1].Reason, StringComparison.Ordinal);
    }
}
