using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Training;

namespace Serverless.Lifecycle.Pipeline;

/// <summary>How a run ended. Expected outcomes are values; only infrastructure failures fail the orchestration.</summary>
public enum RunOutcome
{
    Succeeded,

    /// <summary>The data was invalid; nothing was trained. Not retried.</summary>
    Rejected,

    /// <summary>The candidate trained but did not pass the gate; it was not registered.</summary>
    GateFailed,

    /// <summary>The trainer reported a failure or did not finish in time.</summary>
    TrainingFailed,

    /// <summary>Someone cancelled the run; its jobs were stopped, and nothing was promoted (a version cancelled after its register step stays registered).</summary>
    Cancelled,

    /// <summary>The candidate passed the gate, but a person rejected it (or nobody decided in time); nothing was registered.</summary>
    NotApproved,

    /// <summary>The version was registered and rolled out in stages, but failed a rollout check and was rolled back; the champion stayed.</summary>
    RolledBack,

    /// <summary>
    /// The version passed the gate and was registered, but the champion moved after the gate (a newer
    /// run promoted first), so it was not promoted; the audit trail records it. It can be promoted by hand.
    /// </summary>
    Superseded,

    /// <summary>A reproduce run trained the version again from its recorded lineage and got the same ONNX bytes; nothing was registered.</summary>
    Reproduced,

    /// <summary>A reproduce run could not rebuild the version's bytes; its result names what differs. Nothing was registered.</summary>
    NotReproduced,
}

/// <summary>The input of one pipeline run; the run id is the orchestration instance id.</summary>
/// <param name="Reason">Why the trigger fired, in a person's words (for example the drift that caused a retraining).</param>
/// <param name="Import">A model trained elsewhere: the run checks and gates it on the dataset in place of training one.</param>
/// <param name="Reproduce">
/// A registered version to rebuild: <see cref="Spec"/> and <see cref="Dataset"/> are the ones its card
/// recorded (the trainer's algorithm, hyperparameters and seed included), and the run compares the
/// bytes it trains with the version's instead of evaluating and registering.
/// </param>
public sealed record TrainingRunRequest(string RunId, ModelSpec Spec, DatasetVersion Dataset, string Trigger, string? Reason = null, Registry.ImportedModel? Import = null, ReproduceTarget? Reproduce = null);

/// <summary>One step of a run with its timing and outcome, as shown by <c>GET /runs/{runId}</c>.</summary>
public sealed record RunStep(string Name, DateTimeOffset StartedAt, DateTimeOffset? CompletedAt, string Outcome, string? Detail);

/// <summary>What a run reports while it runs (custom status) and when it ends (output).</summary>
public sealed record TrainingRunResult(
    string RunId,
    string Model,
    RunOutcome? Outcome,
    IReadOnlyList<RunStep> Steps,
    IReadOnlyList<DataFinding>? Findings = null,
    string? ProfilePath = null,
    IReadOnlyDictionary<string, double>? Metrics = null,
    GateVerdict? Verdict = null,
    int? Version = null,
    string? Error = null,
    IReadOnlyList<TrialRecord>? Trials = null,
    Reproduction? Reproduction = null);
