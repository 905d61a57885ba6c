using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Serverless.Tests;

namespace Serverless.Hosts.Tests.Laptop;

public sealed class LaptopRestartTests(LaptopHostProcess host) : IClassFixture<LaptopHostProcess>
{
    [Fact]
    public async Task HostKilledDuringTraining_RunResumesAfterRestartAndSucceeds()
    {
        var name = Azurite.UniqueModelName("restart");
        await host.RegisterSampleAsync(name);
        var statusUrl = await host.UploadAsync(name);

        // Wait until the training step is under way, then pull the plug on the host and its trainer.
        JsonObject run;
        var deadline = DateTime.UtcNow.AddMinutes(2);
        do
        {
            await Task.Delay(50);
            run = (await host.Http.GetFromJsonAsync<JsonObject>(statusUrl))!;
        }
        while (!run["steps"]!.AsArray().Any(s => (string)s!["name"]! == "train") && DateTime.UtcNow < deadline);
        Assert.Equal("running", (string)run["status"]!);
        await host.KillAsync();

        await host.StartAsync();
        run = await host.WaitForRunAsync(statusUrl, TimeSpan.FromMinutes(4));

        Assert.True((string)run["status"]! == "succeeded", $"run ended {run}\n{host.Log}");
        Assert.Equal(1, (int)run["version"]!);
        var versions = (await host.Http.GetFromJsonAsync<JsonObject>($"/api/models/{name}/versions"))!["versions"]!.AsArray();
        Assert.Single(versions);
    }

    [Fact]
    public async Task ARestartedHost_LoadsTheChampionBeforeAnyRequest_WhenPreloadIsOn()
    {
        var name = Azurite.UniqueModelName("preload");
        await host.RegisterSampleAsync(name);
        var run = await host.UploadAndWaitAsync(name);
        Assert.True((string)run["status"]! == "succeeded", $"run ended {run}\n{host.Log}");
        await host.KillAsync();

        // The tests share one Azurite, so this host preloads only the model of this test.
        host.ExtraSettings["Serving__Preload"] = "true";
        host.ExtraSettings["Serving__PreloadModels__0"] = name;
        try
        {
            await host.StartAsync();
            var loaded = await Eventually.WaitAsync(
                async () => (await host.Http.GetFromJsonAsync<JsonObject>("/api/status"))!["serving"]!["loaded"]!.AsArray(),
                l => l.Count > 0,
                deadline: TimeSpan.FromSeconds(60));

            // No request has been made for it: the host loaded it on its own, and says what that took.
            var entry = Assert.Single(loaded)!;
            Assert.Equal((name, 1), ((string)entry["model"]!, (int)entry["version"]!));
            Assert.True((double)entry["load"]!["sessionMs"]! > 0, entry.ToJsonString());
        }
        finally
        {
            host.ExtraSettings.Clear();
        }
    }
}
