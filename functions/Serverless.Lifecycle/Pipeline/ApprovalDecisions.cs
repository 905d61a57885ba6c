using Azure;
using Azure.Storage.Blobs.Models;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Pipeline;

/// <summary>A decision on a run's approval as it was recorded, with when.</summary>
public sealed record RecordedDecision(bool Approved, string Actor, string Reason, DateTimeOffset At)
{
    public string Verb => Approved ? "approved" : "rejected";
}

/// <summary>
/// Delivers a person's decision on a run that waits for approval, at most one per run. The Durable
/// engines take the first <see cref="PipelineEvents.ApprovalDecided"/> event and drop the rest
/// without telling the sender, so two people who decide at once would both be told "accepted" while
/// only one decision counts. The decision is therefore first recorded in a blob created only if
/// absent (<c>If-None-Match: *</c>): the first writer's decision is delivered, and every other gets
/// <see cref="RunSignalOutcome.AlreadyDecided"/> with the recorded one. Each later attempt delivers
/// the recorded decision again (the engine ignores it once taken), so a decision recorded by a writer
/// whose delivery then failed still reaches the run; a decision that found the run not waiting is not kept.
/// </summary>
public sealed class ApprovalDecisions(LifecycleStorage storage, TimeProvider clock)
{
    public async Task<(RunSignalOutcome Outcome, RecordedDecision? Recorded)> DecideOnceAsync(
        IPipelineClient pipeline, string runId, ApprovalDecision decision, CancellationToken cancellationToken) =>
        await DecideOnceAsync(pipeline, runId, decision, retried: false, cancellationToken);

    private async Task<(RunSignalOutcome Outcome, RecordedDecision? Recorded)> DecideOnceAsync(
        IPipelineClient pipeline, string runId, ApprovalDecision decision, bool retried, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(decision);
        await storage.EnsureCreatedAsync(cancellationToken);
        var blob = storage.Blob(RunPaths.Decision(runId));
        var mine = new RecordedDecision(decision.Approved, decision.Actor, decision.Reason, clock.GetUtcNow());
        ETag created;
        try
        {
            created = (await blob.UploadAsync(
                BinaryData.FromObjectAsJson(mine, SpecJson.Options),
                new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } },
                cancellationToken)).Value.ETag;
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            Azure.Response<BlobDownloadResult> content;
            try
            {
                content = await blob.DownloadContentAsync(cancellationToken);
            }
            catch (RequestFailedException gone) when (gone.Status == 404 && !retried)
            {
                // Released in between (a decision that found the run not waiting): decide afresh, once.
                return await DecideOnceAsync(pipeline, runId, decision, retried: true, cancellationToken);
            }

            var recorded = content.Value.Content.ToObjectFromJson<RecordedDecision>(SpecJson.Options)
                ?? throw new InvalidDataException($"The decision of run '{runId}' ({RunPaths.Decision(runId)}) is empty.");
            // The recorded decision is the one that counts; delivering it again covers a first writer
            // whose delivery failed after it recorded (the engine ignores a decision it already took).
            var delivered = await pipeline.DecideRunAsync(runId, new ApprovalDecision(recorded.Approved, recorded.Actor, recorded.Reason), cancellationToken);
            return recorded.Approved == decision.Approved && recorded.Actor == decision.Actor && recorded.Reason == decision.Reason
                ? (delivered, recorded)
                : (RunSignalOutcome.AlreadyDecided, recorded);
        }

        RunSignalOutcome outcome;
        try
        {
            outcome = await pipeline.DecideRunAsync(runId, decision, cancellationToken);
        }
        catch
        {
            await ReleaseAsync(blob, created);
            throw;
        }

        if (outcome != RunSignalOutcome.Accepted)
        {
            // Not delivered (no such run, finished, not waiting): the record must not stand for a decision that never counted.
            await ReleaseAsync(blob, created);
        }

        return (outcome, mine);
    }

    private static async Task ReleaseAsync(Azure.Storage.Blobs.BlobClient blob, ETag created)
    {
        try
        {
            await blob.DeleteIfExistsAsync(conditions: new BlobRequestConditions { IfMatch = created }, cancellationToken: CancellationToken.None);
        }
        catch (RequestFailedException)
        {
            // Storage failed as well: the record stays, and the next attempt on the run delivers it.
        }
    }
}
