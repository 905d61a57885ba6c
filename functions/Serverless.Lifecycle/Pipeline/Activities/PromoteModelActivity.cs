using Microsoft.DurableTask;
using Serverless.Lifecycle.Registry;

namespace Serverless.Lifecycle.Pipeline.Activities;

/// <summary>
/// Moves an alias to the run's version; moving it where it already points records nothing. A
/// conditional promotion moves it only if it still points where the gate compared; otherwise the
/// returned state names another version, and the run is superseded.
/// </summary>
public sealed class PromoteModelActivity(ModelRegistry registry) : TaskActivity<PromoteInput, AliasState>
{
    public override Task<AliasState> RunAsync(TaskActivityContext context, PromoteInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var actor = $"pipeline run {input.RunId}";
        return input.Conditional
            ? registry.PromoteAsync(input.Model, input.Alias, input.Version, input.GatedAgainst, actor, input.Reason, CancellationToken.None)
            : registry.SetAliasAsync(input.Model, input.Alias, input.Version, expectedETag: null, actor, input.Reason, CancellationToken.None);
    }
}
