using Serverless.Lifecycle.Pipeline;

namespace Serverless.Hosts.Tests;

/// <summary>
/// One pipeline client for both Durable engines: the engines' status names must mean the same thing
/// to it. (Before, the laptop's client counted ContinuedAsNew as active and the Functions' did not.)
/// </summary>
public sealed class PipelineClientParityTests
{
    private static readonly HashSet<string> Going = ["Pending", "Running", "ContinuedAsNew", "Suspended"];

    [Fact]
    public void EveryStatusOfTheSdkEngine_IsActiveExactlyWhenTheInstanceIsStillGoing()
    {
        var statuses = Enum.GetValues<Microsoft.DurableTask.Client.OrchestrationRuntimeStatus>().Select(s => s.ToString()).ToList();

        Assert.Superset(Going, statuses.ToHashSet());
        Assert.All(statuses, s => Assert.Equal(Going.Contains(s), PipelineClient.IsActive(s)));
    }

    [Fact]
    public void EveryStatusOfTheFrameworkEngine_IsActiveExactlyWhenTheInstanceIsStillGoing()
    {
        var statuses = Enum.GetValues<DurableTask.Core.OrchestrationStatus>().Select(s => s.ToString()).ToList();

        Assert.Superset(Going, statuses.ToHashSet());
        Assert.All(statuses, s => Assert.Equal(Going.Contains(s), PipelineClient.IsActive(s)));
    }
}
