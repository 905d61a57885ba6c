using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Hosting;
using Serverless.Lifecycle.Monitoring;

namespace Serverless.Lifecycle.Tests.Monitoring;

public sealed class MonitoringOptionsTests
{
    private static MonitoringOptions Bound(Dictionary<string, string?> settings)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddServerlessLifecycle();
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<MonitoringOptions>>().Value;
    }

    [Fact]
    public void ModelPrefixes_GivenAsOneValue_AreSplitOnCommas_AsAListTheyAreTakenAsTheyAre()
    {
        var plain = Bound(new() { ["Monitoring:ModelPrefixes"] = "churn-, fraud-" });
        var list = Bound(new() { ["Monitoring:ModelPrefixes:0"] = "churn-", ["Monitoring:ModelPrefixes:1"] = "fraud-" });

        Assert.Equal(["churn-", "fraud-"], plain.ModelPrefixes);
        Assert.Equal(["churn-", "fraud-"], list.ModelPrefixes);
        Assert.True(plain.Covers("fraud-eu"));
        Assert.False(plain.Covers("credit"));
    }

    [Fact]
    public void ModelPrefixes_SetEmpty_MeanNone_SoEveryModelIsCovered()
    {
        var empty = Bound(new() { ["Monitoring:ModelPrefixes"] = "" });

        Assert.Empty(empty.ModelPrefixes);
        Assert.True(empty.Covers("churn"));
    }
}
