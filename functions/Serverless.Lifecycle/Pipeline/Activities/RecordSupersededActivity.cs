using Microsoft.DurableTask;
using Serverless.Lifecycle.Registry;

namespace Serverless.Lifecycle.Pipeline.Activities;

/// <summary>Records in the audit trail that a run's version was superseded (once per version).</summary>
public sealed class RecordSupersededActivity(ModelRegistry registry) : TaskActivity<SupersededRecord, bool>
{
    public override async Task<bool> RunAsync(TaskActivityContext context, SupersededRecord input)
    {
        ArgumentNullException.ThrowIfNull(input);
        await registry.RecordSupersededAsync(input.Model, ReservedAliases.Champion, input.Version, input.Champion, $"pipeline run {input.RunId}", input.Reason, CancellationToken.None);
        return true;
    }
}
