namespace Serverless.Lifecycle.Pipeline;

/// <summary>The external events of the pipeline's orchestrations and the instance ids they go to.</summary>
public static class PipelineEvents
{
    /// <summary>Raised on a job's orchestration when its trainer posts completion.</summary>
    public const string TrainingCompleted = "TrainingCompleted";

    /// <summary>Raised on a run (and passed on to its running jobs) by <c>POST /runs/{runId}/cancel</c>.</summary>
    public const string CancelRequested = "CancelRequested";

    /// <summary>Raised on a run waiting for approval by <c>POST /runs/{runId}/approve</c> or <c>/reject</c>.</summary>
    public const string ApprovalDecided = "ApprovalDecided";

    /// <summary>The step a run shows while it waits for a person's decision.</summary>
    public const string ApprovalStep = "approve";

    /// <summary>The instance id of a job's orchestration: the run's id and the job's, so a callback can only reach its own run.</summary>
    public static string JobInstanceId(string runId, string jobId) => $"{runId}:job:{jobId}";

    /// <summary>The instance id of a run's rollout sub-orchestration.</summary>
    public static string RolloutInstanceId(string runId) => $"{runId}:rollout";
}

/// <summary>A person's decision on a candidate that passed the gate.</summary>
public sealed record ApprovalDecision(bool Approved, string Actor, string Reason);

/// <summary>Why and by whom a run was cancelled.</summary>
public sealed record CancelRequest(string Reason, string Actor);

/// <summary>What a completion or cancel request found: the HTTP layer turns it into 202, 404 or 409.</summary>
public enum RunSignalOutcome
{
    Accepted,
    UnknownRun,
    UnknownJob,
    Finished,

    /// <summary>The run is going, but not waiting for what was sent (an approval outside the approve step).</summary>
    NotWaiting,

    /// <summary>Another decision on the run's approval was recorded first (see <see cref="ApprovalDecisions"/>).</summary>
    AlreadyDecided,
}
