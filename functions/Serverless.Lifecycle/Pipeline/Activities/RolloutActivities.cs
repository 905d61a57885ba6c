using Microsoft.DurableTask;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Rollouts;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Pipeline.Activities;

public sealed record RolloutStartInput(string RunId, ModelSpec Spec, int Challenger);

public sealed record RolloutStepInput(string RunId, ModelSpec Spec, int Step, DateTimeOffset From, DateTimeOffset To);

public sealed record RolloutFinishInput(string RunId, ModelSpec Spec, string Status, string Reason);

/// <summary>
/// Starts a staged rollout: the new version becomes <c>challenger</c> and the rollout's first
/// step is recorded, so serving starts routing. Returns null when the model has no champion yet
/// (there is nothing to compare with; the run promotes directly).
/// </summary>
public sealed class StartRolloutActivity(ModelRegistry registry, RolloutStore rollouts, TimeProvider clock) : TaskActivity<RolloutStartInput, RolloutState?>
{
    public override async Task<RolloutState?> RunAsync(TaskActivityContext context, RolloutStartInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var model = input.Spec.Name;
        ModelVersion champion;
        try
        {
            champion = await registry.ResolveAsync(model, ReservedAliases.Champion, CancellationToken.None);
        }
        catch (AliasNotFoundException)
        {
            return null;
        }

        // A retried activity finds its own rollout and leaves it as it is.
        if (await rollouts.GetAsync(model, input.RunId, CancellationToken.None) is { } existing)
        {
            return existing;
        }

        await registry.SetAliasAsync(model, PredictionService.ChallengerAlias, input.Challenger, null, $"pipeline run {input.RunId}", $"{input.Spec.Rollout.Strategy} rollout", CancellationToken.None);
        var now = clock.GetUtcNow();
        var state = new RolloutState(model, input.RunId, input.Spec.Rollout.Strategy, input.Challenger, champion.Version, 0, input.Spec.Rollout.Steps[0].Share, RolloutStatuses.Running, null, now, now, []);
        await rollouts.SaveAsync(state, CancellationToken.None);
        return state;
    }
}

/// <summary>Judges a step from the prediction log and records the check; moves to the step's share first when it is a new step.</summary>
public sealed class EvaluateRolloutStepActivity(RolloutStore rollouts, RolloutEvaluator evaluator, TimeProvider clock) : TaskActivity<RolloutStepInput, RolloutCheck>
{
    public override async Task<RolloutCheck> RunAsync(TaskActivityContext context, RolloutStepInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var state = await rollouts.GetAsync(input.Spec.Name, input.RunId, CancellationToken.None)
            ?? throw new InvalidOperationException($"Run {input.RunId} has no rollout of '{input.Spec.Name}'.");
        var check = await evaluator.EvaluateAsync(input.Spec, state, input.From, input.To, CancellationToken.None);

        // A retried activity replaces its own check rather than adding a second one.
        var checks = state.Checks.Where(c => !(c.Step == check.Step && c.From == check.From && c.To == check.To)).Append(check).ToList();
        await rollouts.SaveAsync(state with { Checks = checks, UpdatedAt = clock.GetUtcNow() }, CancellationToken.None);
        return check;
    }
}

/// <summary>Moves a running rollout to its next step and that step's share of traffic.</summary>
public sealed class AdvanceRolloutActivity(RolloutStore rollouts, TimeProvider clock) : TaskActivity<RolloutStepInput, RolloutState>
{
    public override async Task<RolloutState> RunAsync(TaskActivityContext context, RolloutStepInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var state = await rollouts.GetAsync(input.Spec.Name, input.RunId, CancellationToken.None)
            ?? throw new InvalidOperationException($"Run {input.RunId} has no rollout of '{input.Spec.Name}'.");
        var advanced = state with { Step = input.Step, Share = input.Spec.Rollout.Steps[input.Step].Share, UpdatedAt = clock.GetUtcNow() };
        await rollouts.SaveAsync(advanced, CancellationToken.None);
        return advanced;
    }
}

/// <summary>
/// Ends a rollout: promoted (the challenger becomes champion, if the champion is still the one the
/// rollout started against), superseded (it was not), rolled back or cancelled (the champion stays).
/// Either way the challenger alias is removed and the reason recorded.
/// </summary>
public sealed class FinishRolloutActivity(ModelRegistry registry, RolloutStore rollouts, TimeProvider clock) : TaskActivity<RolloutFinishInput, RolloutState>
{
    public override async Task<RolloutState> RunAsync(TaskActivityContext context, RolloutFinishInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var model = input.Spec.Name;
        var state = await rollouts.GetAsync(model, input.RunId, CancellationToken.None)
            ?? throw new InvalidOperationException($"Run {input.RunId} has no rollout of '{model}'.");
        var actor = $"pipeline run {input.RunId}";
        var (status, reason) = (input.Status, input.Reason);
        if (status == RolloutStatuses.Promoted)
        {
            // Conditional, like a direct promotion: the rollout compared the challenger with the champion it
            // started against; if the champion moved meanwhile (another run, a person), that comparison no
            // longer holds and the champion that moved there stays.
            var champion = await registry.PromoteAsync(model, ReservedAliases.Champion, state.Challenger, state.Champion, actor, reason, CancellationToken.None);
            if (champion.Version != state.Challenger)
            {
                (status, reason) = (RolloutStatuses.Superseded,
                    $"Superseded: champion moved to version {champion.Version} during the rollout, which compared version {state.Challenger} with version {state.Champion}; "
                    + $"version {state.Challenger} passed every step and stays registered, and can be promoted by hand.");
                await registry.RecordSupersededAsync(model, ReservedAliases.Champion, state.Challenger, champion.Version, actor, reason, CancellationToken.None);
            }
        }

        if (await registry.TryGetAliasAsync(model, PredictionService.ChallengerAlias, CancellationToken.None) is { } challenger && challenger.Version == state.Challenger)
        {
            await registry.DeleteAliasAsync(model, PredictionService.ChallengerAlias, challenger.ETag, actor, CancellationToken.None);
        }

        var ended = state with { Status = status, Reason = reason, UpdatedAt = clock.GetUtcNow() };
        await rollouts.SaveAsync(ended, CancellationToken.None);
        return ended;
    }
}
