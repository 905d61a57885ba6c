using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Monitoring;

/// <summary>Why a run started: what asked for it.</summary>
public static class RunTriggers
{
    /// <summary>A dataset uploaded through the upload route.</summary>
    public const string Upload = "upload";

    /// <summary>A person, on the runs route.</summary>
    public const string Manual = "manual";

    /// <summary>The spec's retraining schedule came due.</summary>
    public const string Schedule = "schedule";

    /// <summary>A dataset written straight to <c>datasets/{model}/</c> (a blob event, or laptop mode's poller).</summary>
    public const string NewData = "newData";

    /// <summary>Monitoring found the inputs drifted from the training profile.</summary>
    public const string Drift = "drift";

    /// <summary>Monitoring found the live quality below the model card's.</summary>
    public const string Quality = "quality";

    /// <summary>A model trained elsewhere, imported through the versions route.</summary>
    public const string Import = "import";

    /// <summary>A person asked to rebuild a registered version from its recorded lineage (the version's reproduce route).</summary>
    public const string Reproduce = "reproduce";

    /// <summary>Triggers a person or a data pipeline fires on purpose: their run always starts, never coalesced into another.</summary>
    public static bool IsExplicit(string trigger) => trigger is Upload or Manual or Import;
}

/// <summary>What became of one request for a run: the run it started, or the active run it was coalesced into.</summary>
public sealed record TriggerRecord(string Model, string Trigger, string Reason, DateTimeOffset At, string Outcome, string RunId);

public static class TriggerOutcomes
{
    public const string Started = "started";
    public const string Coalesced = "coalesced";

    /// <summary>The same trigger again (a redelivered event, a repeated pass): its run already exists; not recorded twice.</summary>
    public const string Duplicate = "duplicate";
}

/// <summary>
/// A request for a training run. <paramref name="For"/> is the minute a schedule occurrence or a
/// monitoring window is for (the run's key; asking again for it is the same run). With
/// <paramref name="PrepareData"/> the spec's training-data policy is applied to <paramref name="Dataset"/>
/// once, when the run is new.
/// </summary>
public sealed record RunRequest(ModelSpec Spec, string Trigger, string Reason, DatasetVersion Dataset, DateTimeOffset? For = null, bool PrepareData = false, Registry.ImportedModel? Import = null);

/// <summary>
/// How monitoring asks for a retraining run. Monitoring sits below the pipeline, so it names the
/// request here and the pipeline's run controller answers it (bound to the host's Durable engine).
/// </summary>
public interface IRunRequests
{
    Task<TriggerRecord> RequestAsync(RunRequest request, CancellationToken cancellationToken);
}
