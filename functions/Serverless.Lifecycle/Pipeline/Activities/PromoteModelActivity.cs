using Microsoft.DurableTask;
using Serverless.Lifecycle.Registry;

namespace Serverless.Lifecycle.Pipeline.Activities;

/// <summary>Moves an alias to the run's version; moving it where it already points records nothing.</summary>
public sealed class PromoteModelActivity(ModelRegistry registry) : TaskActivity<PromoteInput, AliasState>
{
    public override Task<AliasState> RunAsync(TaskActivityContext context, PromoteInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return registry.SetAliasAsync(input.Model, input.Alias, input.Version, expectedETag: null, $"pipeline run {input.RunId}", input.Reason, CancellationToken.None);
    }
}
