using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Serverless.Samples.Churn;
using Serverless.Tests;

namespace Serverless.Hosts.Tests.Laptop;

/// <summary>
/// The retraining loop in laptop mode, over HTTP and the host's own timers: undrifted traffic
/// starts nothing; shifted traffic is reported as drift, starts a run with reason drift, and the
/// new version serves. A dataset written straight to storage starts exactly one run.
/// </summary>
public sealed class LaptopRetrainingLoopTests(MonitoringLaptopHostProcess host) : IClassFixture<MonitoringLaptopHostProcess>
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>Sends the generated rows as predict requests of 50 instances each.</summary>
    private async Task SendTrafficAsync(string name, int rows, int seed, bool drifted)
    {
        var lines = ChurnDataGenerator.Generate(rows, seed, drifted).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var instances = LaptopEndToEndTests.Instances(lines);
        foreach (var chunk in instances.Chunk(50))
        {
            var response = await host.Http.PostAsync($"/api/models/{name}/predict", Json(new JsonObject { ["instances"] = new JsonArray([.. chunk]) }.ToJsonString()));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    /// <summary>Polls the monitoring route until a pass newer than <paramref name="after"/> matches.</summary>
    private async Task<JsonNode> WaitForPassAsync(string name, DateTimeOffset after, Func<JsonNode, bool> matches)
    {
        var last = await Eventually.WaitAsync(
            async () => (await host.Http.GetFromJsonAsync<JsonObject>($"/api/models/{name}/monitoring"))!["passes"]!.AsArray()
                .FirstOrDefault(p => DateTimeOffset.Parse((string)p!["at"]!, System.Globalization.CultureInfo.InvariantCulture) > after),
            pass => pass is not null && matches(pass));
        Assert.True(last is not null && matches(last), $"No matching monitoring pass; the last was {last?.ToJsonString()}\n{host.Log}");
        return last!;
    }

    [Fact]
    public async Task UndriftedTrafficStartsNothing_DriftedTrafficRetrainsAndTheNewVersionServes()
    {
        var name = Azurite.UniqueModelName("loop");
        var spec = await LaptopEndToEndTests.SampleSpecAsync(name);
        spec["drift"] = new JsonObject { ["windowMinutes"] = 0.25, ["minSamples"] = 150, ["consecutiveWindows"] = 1 };
        Assert.Equal(HttpStatusCode.Created, (await host.Http.PutAsync($"/api/models/{name}", Json(spec.ToJsonString()))).StatusCode);
        Assert.Equal("succeeded", (string)(await host.UploadAndWaitAsync(name))["status"]!);

        var calm = DateTimeOffset.UtcNow;
        await SendTrafficAsync(name, 300, seed: 50, drifted: false);
        var quiet = await WaitForPassAsync(name, calm.AddSeconds(2), p => (string)p["status"]! != "insufficientData");
        Assert.Equal(("noDrift", "none"), ((string)quiet["status"]!, (string)quiet["decision"]!["action"]!));

        // Let the undrifted traffic leave the 15-second window, then shift it.
        await Task.Delay(TimeSpan.FromSeconds(16));
        var shifted = DateTimeOffset.UtcNow;
        await SendTrafficAsync(name, 300, seed: 51, drifted: true);
        var drift = await WaitForPassAsync(name, shifted, p => (string)p["status"]! == "drift");
        Assert.Equal("retrain", (string)drift["decision"]!["action"]!);
        Assert.Contains("monthly_charges", (string)drift["summary"]!, StringComparison.Ordinal);

        var run = await host.WaitForRunAsync($"/api/runs/{(string)drift["decision"]!["runId"]!}", TimeSpan.FromMinutes(3));
        Assert.True((string)run["status"]! == "succeeded", run.ToJsonString());
        Assert.Equal("drift", (string)run["trigger"]!);
        var version = (await host.Http.GetFromJsonAsync<JsonObject>($"/api/models/{name}/versions/2"))!;
        Assert.Equal("drift", (string)version["card"]!["lineage"]!["trigger"]!);
        Assert.Contains("monthly_charges", (string)version["card"]!["lineage"]!["reason"]!, StringComparison.Ordinal);

        // Serving follows within the alias cache (5 s).
        var served = await Eventually.WaitAsync(
            async () => (int)(await (await host.Http.PostAsync($"/api/models/{name}/predict", Json("""{"instances":[{"tenure_months":2,"monthly_charges":105,"support_calls":5,"contract":"month-to-month","internet_service":"fiber","payment_method":"electronic-check"}]}"""))).Content.ReadFromJsonAsync<JsonObject>())!["version"]!,
            version => version == 2);

        Assert.Equal(2, served);
    }

    [Fact]
    public async Task DatasetWrittenStraightToStorage_StartsExactlyOneRun()
    {
        var name = Azurite.UniqueModelName("drop");
        await host.RegisterSampleAsync(name);
        using var storage = Azurite.CreateStorage();
        var blob = storage.Blob(new Lifecycle.Storage.BlobPath("datasets", $"{name}/nightly/export.csv"));
        var etag = (await blob.UploadAsync(BinaryData.FromString(ChurnDataGenerator.Generate(2500, seed: 52)), overwrite: true)).Value.ETag.ToString();

        // The run id the host gives a dataset: its path and ETag, as for an upload.
        var runId = $"{name}-data-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"datasets/{name}/nightly/export.csv|{etag}")))[..24]}";
        await Eventually.WaitAsync(async () => (await host.Http.GetAsync($"/api/runs/{runId}")).StatusCode, status => status != HttpStatusCode.NotFound);

        var run = await host.WaitForRunAsync($"/api/runs/{runId}", TimeSpan.FromMinutes(3));

        Assert.True((string)run["status"]! == "succeeded", run.ToJsonString());
        Assert.Equal("newData", (string)run["trigger"]!);
        Assert.Single((await host.Http.GetFromJsonAsync<JsonObject>($"/api/models/{name}/versions"))!["versions"]!.AsArray());
    }
}
