using Microsoft.DurableTask;
using Serverless.Lifecycle.Registry;

namespace Serverless.Lifecycle.Pipeline.Activities;

/// <summary>Appends a run's approval decision to the model's audit trail.</summary>
public sealed class RecordApprovalActivity(ModelRegistry registry) : TaskActivity<ApprovalRecord, bool>
{
    public override async Task<bool> RunAsync(TaskActivityContext context, ApprovalRecord input)
    {
        ArgumentNullException.ThrowIfNull(input);
        await registry.RecordApprovalAsync(input.Model, input.RunId, input.Decision.Approved, input.Decision.Actor, input.Decision.Reason, CancellationToken.None);
        return input.Decision.Approved;
    }
}
