using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Serverless.Samples.Churn;
using Serverless.Tests;

namespace Serverless.Hosts.Tests.Laptop;

public sealed class LaptopRestartTests(LaptopHostProcess host) : IClassFixture<LaptopHostProcess>
{
    [Fact]
    public async Task HostKilledDuringTraining_RunResumesAfterRestartAndSucceeds()
    {
        var name = Azurite.UniqueModelName("restart");
        var spec = await LaptopEndToEndTests.SampleSpecAsync(name);
        Assert.Equal(HttpStatusCode.Created, (await host.Http.PutAsync($"/api/models/{name}", new StringContent(spec.ToJsonString(), Encoding.UTF8, "application/json"))).StatusCode);
        var upload = await host.Http.PostAsync($"/api/models/{name}/datasets", new StringContent(ChurnDataGenerator.Generate(2500, seed: 31), Encoding.UTF8, "text/csv"));
        var statusUrl = (string)(await upload.Content.ReadFromJsonAsync<JsonObject>())!["statusUrl"]!;

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
}
