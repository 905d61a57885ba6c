using Azure.Core;
using Azure.Core.Pipeline;
using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Storage;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Pipeline;

/// <summary>One decision per run, on Azurite: the first recorded counts, and the record never stands for a decision that did not.</summary>
public sealed class ApprovalDecisionsTests
{
    /// <summary>A run waiting for approval, as the engine would answer; it records what it was sent.</summary>
    private sealed class WaitingRun(RunSignalOutcome answer = RunSignalOutcome.Accepted) : IPipelineClient
    {
        public List<ApprovalDecision> Delivered { get; } = [];

        public Task<RunSignalOutcome> DecideRunAsync(string runId, ApprovalDecision decision, CancellationToken cancellationToken)
        {
            Delivered.Add(decision);
            return Task.FromResult(answer);
        }

        public Task<bool> StartRunAsync(TrainingRunRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<RunStatus?> GetRunAsync(string runId, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<RunSignalOutcome> NotifyJobCompletedAsync(Serverless.Lifecycle.Training.TrainingCompletedEvent completion, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<RunSignalOutcome> CancelRunAsync(string runId, CancelRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();
    }

    [Fact]
    public async Task ASecondDifferentDecision_IsRefusedNamingTheFirst_AndTheFirstIsDeliveredAgain()
    {
        using var storage = Azurite.CreateStorage();
        var decisions = new ApprovalDecisions(storage, TimeProvider.System);
        var run = new WaitingRun();
        var runId = Azurite.UniqueModelName("once");

        var first = await decisions.DecideOnceAsync(run, runId, new ApprovalDecision(true, "ada", "looks right"), CancellationToken.None);
        var second = await decisions.DecideOnceAsync(run, runId, new ApprovalDecision(false, "bob", "not yet"), CancellationToken.None);

        Assert.Equal(RunSignalOutcome.Accepted, first.Outcome);
        Assert.Equal(RunSignalOutcome.AlreadyDecided, second.Outcome);
        Assert.Equal(("ada", true, "looks right"), (second.Recorded!.Actor, second.Recorded.Approved, second.Recorded.Reason));
        Assert.All(run.Delivered, d => Assert.Equal("ada", d.Actor));
    }

    [Fact]
    public async Task ADecisionThatFoundTheRunNotWaiting_IsNotKept()
    {
        using var storage = Azurite.CreateStorage();
        var decisions = new ApprovalDecisions(storage, TimeProvider.System);
        var runId = Azurite.UniqueModelName("gone");

        var refused = await decisions.DecideOnceAsync(new WaitingRun(RunSignalOutcome.NotWaiting), runId, new ApprovalDecision(true, "ada", "x"), CancellationToken.None);
        var later = await decisions.DecideOnceAsync(new WaitingRun(), runId, new ApprovalDecision(false, "bob", "y"), CancellationToken.None);

        Assert.Equal(RunSignalOutcome.NotWaiting, refused.Outcome);
        Assert.Equal((RunSignalOutcome.Accepted, "bob"), (later.Outcome, later.Recorded!.Actor));
    }

    [Fact]
    public async Task ARecordReleasedBetweenTheRefusedWriteAndItsRead_IsDecidedAfresh()
    {
        var runId = Azurite.UniqueModelName("race");
        using var app = Azurite.CreateStorage();
        await app.EnsureCreatedAsync();

        // Someone else's decision is recorded; it is released (its run was not waiting) just after this
        // writer's create is refused and before it reads the record.
        await app.Blob(RunPaths.Decision(runId)).UploadAsync(BinaryData.FromString("""{"approved":true,"actor":"ada","reason":"x","at":"2026-12-07T00:00:00Z"}"""));
        var release = new ReleaseAfterRefusedCreate(app, RunPaths.Decision(runId));
        using var storage = new LifecycleStorage(Microsoft.Extensions.Options.Options.Create(Azurite.Options), release);
        var run = new WaitingRun();

        var outcome = await new ApprovalDecisions(storage, TimeProvider.System).DecideOnceAsync(run, runId, new ApprovalDecision(false, "bob", "y"), CancellationToken.None);

        Assert.True(release.Released);
        Assert.Equal((RunSignalOutcome.Accepted, "bob"), (outcome.Outcome, outcome.Recorded!.Actor));
        Assert.Equal("bob", Assert.Single(run.Delivered).Actor);
    }

    /// <summary>Deletes the decision blob once, right after a create of it was refused because it existed.</summary>
    private sealed class ReleaseAfterRefusedCreate(LifecycleStorage other, BlobPath decision) : HttpPipelinePolicy
    {
        public bool Released { get; private set; }

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) => throw new NotSupportedException();

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            await ProcessNextAsync(message, pipeline);
            if (!Released && message.Request.Method == RequestMethod.Put && message.Response.Status is 409 or 412
                && message.Request.Uri.Path.EndsWith("/" + decision.Name, StringComparison.Ordinal))
            {
                Released = true;
                await other.Blob(decision).DeleteAsync();
            }
        }
    }
}
