using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Training;

namespace Serverless.Lifecycle.Pipeline;

/// <summary>
/// What <c>GET /runs/{runId}</c> answers. <see cref="Status"/> is one of: pending, running,
/// succeeded, rejected, gateFailed, trainingFailed, cancelled, notApproved, rolledBack, superseded,
/// reproduced, notReproduced (a reproduce run), failed (an infrastructure failure), terminated.
/// </summary>
public sealed record RunStatus(
    string RunId,
    string? Model,
    string Status,
    string? Trigger,
    DatasetVersion? Dataset,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastUpdatedAt,
    IReadOnlyList<RunStep> Steps,
    IReadOnlyList<DataFinding>? Findings,
    string? ProfilePath,
    IReadOnlyDictionary<string, double>? Metrics,
    GateVerdict? Verdict,
    int? Version,
    string? Error,
    IReadOnlyList<TrialRecord>? Trials)
{
    /// <summary>
    /// Each training job's progress, epoch by epoch, for algorithms that train in epochs (<c>mlp</c>):
    /// added by the API from the jobs' <c>progress.json</c>, so it shows while the run is running.
    /// </summary>
    public IReadOnlyList<TrainingProgress>? Training { get; init; }

    /// <summary>A reproduce run's finding: the version, both SHA-256 digests and trainer versions, and what differs.</summary>
    public Reproduction? Reproduction { get; init; }

    /// <summary>Where the API serves the run's dataset profile (<c>GET /api/runs/{runId}/profile</c>), once validation has written it.</summary>
    public string? ProfileUrl => ProfilePath is null ? null : $"/api/runs/{RunId}/profile";

    /// <summary>
    /// The run's entity tag: it changes whenever the engine records anything for the run (a step, a
    /// decision, the end), so a decision sent with <c>If-Match</c> is refused if the run moved since it was read.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string ETag => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"\"{Status}-{LastUpdatedAt.UtcTicks:x}-{Steps.Count}\"");

    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsFinished => Status is not ("pending" or "running");

    /// <summary>True when the run's latest step is the approve step and it has not ended.</summary>
    public static bool IsWaitingForApproval(TrainingRunResult? progress) =>
        progress?.Steps is [.., { Name: PipelineEvents.ApprovalStep, CompletedAt: null }];

    /// <summary>Builds the status from the engine's view of the instance; shared by every client.</summary>
    public static RunStatus From(
        string runId,
        string runtimeStatus,
        DateTimeOffset createdAt,
        DateTimeOffset lastUpdatedAt,
        TrainingRunRequest? request,
        TrainingRunResult? progress,
        TrainingRunResult? output,
        string? failure)
    {
        var result = output ?? progress;
        var status = runtimeStatus switch
        {
            "Completed" when output?.Outcome is { } outcome => outcome switch
            {
                RunOutcome.Succeeded => "succeeded",
                RunOutcome.Rejected => "rejected",
                RunOutcome.GateFailed => "gateFailed",
                RunOutcome.TrainingFailed => "trainingFailed",
                RunOutcome.Cancelled => "cancelled",
                RunOutcome.NotApproved => "notApproved",
                RunOutcome.RolledBack => "rolledBack",
                RunOutcome.Superseded => "superseded",
                RunOutcome.Reproduced => "reproduced",
                RunOutcome.NotReproduced => "notReproduced",
                _ => "failed",
            },
            "Pending" => "pending",
            "Running" or "ContinuedAsNew" or "Suspended" => "running",
            "Terminated" or "Canceled" => "terminated",
            _ => "failed",
        };
        return new RunStatus(
            runId,
            request?.Spec.Name ?? result?.Model,
            status,
            request?.Trigger,
            request?.Dataset,
            createdAt,
            lastUpdatedAt,
            result?.Steps ?? [],
            result?.Findings,
            result?.ProfilePath,
            result?.Metrics,
            result?.Verdict,
            result?.Version,
            result?.Error ?? failure,
            result?.Trials)
        {
            Reproduction = result?.Reproduction,
        };
    }
}
