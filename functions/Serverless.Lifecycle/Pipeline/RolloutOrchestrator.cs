using System.Globalization;
using Microsoft.DurableTask;
using Serverless.Lifecycle.Pipeline.Activities;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Rollouts;
using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Pipeline;

/// <summary>The rollout of a run's registered version, as its spec's <c>rollout</c> section says.</summary>
public sealed record RolloutInput(string RunId, ModelSpec Spec, int Version);

/// <summary>
/// A staged rollout (canary or shadow), a sub-orchestration of the run: the version serves as
/// challenger step by step; after each step's time the prediction log judges it. A step with too
/// little traffic is extended; a failed check rolls it back; passing the last step promotes it, if
/// the champion is still the one the rollout started against (else it ends superseded). A model's
/// first version has nothing to compare with and is promoted at once.
/// <see cref="PipelineEvents.CancelRequested"/> ends it cancelled, the champion untouched.
/// </summary>
public sealed class RolloutOrchestrator : TaskOrchestrator<RolloutInput, RolloutState>
{
    // A step with too little traffic to judge is extended this many times before it counts as failed.
    private const int MaxExtensions = 3;

    public override async Task<RolloutState> RunAsync(TaskOrchestrationContext context, RolloutInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var (spec, version) = (input.Spec, input.Version);
        var cancel = context.WaitForExternalEvent<CancelRequest>(PipelineEvents.CancelRequested);
        var started = await context.CallActivityAsync<RolloutState?>(nameof(StartRolloutActivity), new RolloutStartInput(input.RunId, spec, version), PipelineRetry.Storage);
        if (started is null)
        {
            // The model's first version: no champion to compare with.
            var promoted = await context.CallActivityAsync<AliasState>(
                nameof(PromoteModelActivity), new PromoteInput(input.RunId, spec.Name, ReservedAliases.Champion, version, "first version: no champion to roll out against", GatedAgainst: null, Conditional: true), PipelineRetry.Storage);
            var now = new DateTimeOffset(context.CurrentUtcDateTime, TimeSpan.Zero);
            if (promoted.Version != version)
            {
                // Another run's first version became champion meanwhile; this one was compared with nothing.
                var why = $"Superseded: version {promoted.Version} became the first champion while this run registered version {version}, which was never compared with it; it stays registered and can be promoted by hand.";
                await context.CallActivityAsync<bool>(nameof(RecordSupersededActivity), new SupersededRecord(input.RunId, spec.Name, version, promoted.Version, why), PipelineRetry.Storage);
                return new RolloutState(spec.Name, input.RunId, spec.Rollout.Strategy, version, promoted.Version, 0, 1, RolloutStatuses.Superseded, why, now, now, []);
            }

            return new RolloutState(spec.Name, input.RunId, spec.Rollout.Strategy, version, promoted.Version, 0, 1, RolloutStatuses.Promoted, "The model had no champion: promoted directly.", now, now, []);
        }

        Task<RolloutState> Finish(string status, string reason) =>
            context.CallActivityAsync<RolloutState>(nameof(FinishRolloutActivity), new RolloutFinishInput(input.RunId, spec, status, reason), PipelineRetry.Storage);

        for (var step = started.Step; step < spec.Rollout.Steps.Count; step++)
        {
            if (step > started.Step)
            {
                await context.CallActivityAsync<RolloutState>(nameof(AdvanceRolloutActivity), new RolloutStepInput(input.RunId, spec, step, default, default), PipelineRetry.Storage);
            }

            // Every judgement of a step covers the step from its start: an extension adds traffic, it does not start over.
            var from = new DateTimeOffset(context.CurrentUtcDateTime, TimeSpan.Zero);
            for (var extension = 0; ; extension++)
            {
                if (await context.TimerOrFirstAsync(context.CurrentUtcDateTime.AddMinutes(spec.Rollout.Steps[step].Minutes), cancel) == cancel)
                {
                    return await Finish(RolloutStatuses.Cancelled, $"The run was cancelled: {(await cancel).Reason}");
                }

                var to = new DateTimeOffset(context.CurrentUtcDateTime, TimeSpan.Zero);
                var check = await context.CallActivityAsync<RolloutCheck>(nameof(EvaluateRolloutStepActivity), new RolloutStepInput(input.RunId, spec, step, from, to), PipelineRetry.Storage);
                if (check.Passed)
                {
                    break;
                }

                if (!check.Insufficient || extension == MaxExtensions)
                {
                    return await Finish(RolloutStatuses.RolledBack, string.Create(CultureInfo.InvariantCulture, $"step {step + 1} of {spec.Rollout.Steps.Count} (share {check.Share * 100:0.#}%): {check.Reason}"));
                }
            }
        }

        return await Finish(RolloutStatuses.Promoted, $"passed {spec.Rollout.Steps.Count} {spec.Rollout.Strategy} step(s)");
    }
}
