using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Serverless.Samples.Churn;
using Serverless.Tests;

namespace Serverless.Hosts.Tests.Laptop;

/// <summary>
/// A laptop host whose deep trainer runs in the Debian 13 root file system
/// (<see cref="DeepTrainerRootFs"/>), set up as a user on an older system would:
/// <c>Training:DeepTrainerLauncher</c> names <c>scripts/rootfs-run.sh</c>.
/// </summary>
public sealed class DeepLaptopHostProcess : LaptopHostProcess
{
    protected override IReadOnlyDictionary<string, string> Settings =>
        DeepTrainerRootFs.Launcher.Select((word, i) => KeyValuePair.Create($"Training__DeepTrainerLauncher__{i}", word)).ToDictionary();
}

/// <summary>The mlp algorithm through laptop mode's whole loop: validation, training on the deep trainer, the gate, the registry and both prediction APIs.</summary>
public sealed class LaptopDeepModelTests(DeepLaptopHostProcess host) : IClassFixture<DeepLaptopHostProcess>
{
    private const string HighRisk = """{"tenure_months":2,"monthly_charges":105,"support_calls":5,"contract":"month-to-month","internet_service":"fiber","payment_method":"electronic-check"}""";
    private const string LowRisk = """{"tenure_months":65,"monthly_charges":25,"support_calls":0,"contract":"two-year","internet_service":"none","payment_method":"card"}""";

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task SampleSpec_WithOneLineChangedToMlp_TrainsGatesRegistersAndServesThroughBothApis()
    {
        var http = host.Http;
        var name = Azurite.UniqueModelName("deep");
        var sample = await File.ReadAllLinesAsync(RepoPaths.SampleSpec);
        var changed = sample.Select(l => l.Replace("\"algorithm\": \"lightgbm\"", "\"algorithm\": \"mlp\"", StringComparison.Ordinal)).ToArray();
        Assert.Single(sample.Zip(changed), p => p.First != p.Second);
        var spec = JsonNode.Parse(string.Join('\n', changed))!;
        spec["name"] = name;
        Assert.Equal(HttpStatusCode.Created, (await http.PutAsync($"/api/models/{name}", Json(spec.ToJsonString()))).StatusCode);

        var run = await host.UploadAndWaitAsync(name);

        Assert.True((string)run["status"]! == "succeeded", $"run ended {run}\n{host.Log}");
        Assert.True((bool)run["verdict"]!["passed"]!, run["verdict"]!.ToJsonString());
        Assert.Equal("mlp", (string)run["trials"]![0]!["algorithm"]!);
        var training = run["training"]!.AsArray().Single()!;
        Assert.Equal(("cpu", true), ((string)training["device"]!, (bool)training["finished"]!));
        Assert.Equal((int)training["epoch"]!, training["epochs"]!.AsArray().Count);

        var version = (await http.GetFromJsonAsync<JsonObject>($"/api/models/{name}/versions/1"))!;
        Assert.Equal(("mlp", "cpu"), ((string)version["card"]!["algorithm"]!, (string)version["card"]!["device"]!));
        Assert.True((double)version["card"]!["trainingRowsPerSecond"]! > 0);

        var predict = await http.PostAsync($"/api/models/{name}/predict", Json($$"""{"instances":[{{HighRisk}},{{LowRisk}}]}"""));
        Assert.Equal(HttpStatusCode.OK, predict.StatusCode);
        var predictions = (await predict.Content.ReadFromJsonAsync<JsonObject>())!["predictions"]!.AsArray();
        var (high, low) = ((double)predictions[0]!["probability"]!, (double)predictions[1]!["probability"]!);
        Assert.True(high > 0.5 && low < 0.5, $"high-risk {high}, low-risk {low}");
        Assert.Equal((true, false), ((bool)predictions[0]!["label"]!, (bool)predictions[1]!["label"]!));

        const string Tensors = """
            {"name":"tenure_months","shape":[2],"datatype":"FP32","data":[2,65]},
            {"name":"monthly_charges","shape":[2],"datatype":"FP32","data":[105,25]},
            {"name":"support_calls","shape":[2],"datatype":"FP32","data":[5,0]},
            {"name":"contract","shape":[2],"datatype":"BYTES","data":["month-to-month","two-year"]},
            {"name":"internet_service","shape":[2],"datatype":"BYTES","data":["fiber","none"]},
            {"name":"payment_method","shape":[2],"datatype":"BYTES","data":["electronic-check","card"]}
            """;
        var infer = await http.PostAsync($"/api/v2/models/{name}/infer", Json($$"""{"inputs":[{{Tensors}}],"outputs":[{"name":"probability"}]}"""));
        Assert.Equal(HttpStatusCode.OK, infer.StatusCode);
        var output = (await infer.Content.ReadFromJsonAsync<JsonObject>())!["outputs"]!.AsArray().Single()!;
        var probabilities = output["data"]!.AsArray().Select(v => (double)v!).ToArray();
        Assert.Equal(high, probabilities[0], 5);
        Assert.Equal(low, probabilities[1], 5);

        // Batch scoring takes it as any version: a file under batch-input/{model}/ is scored by the champion.
        using var storage = Azurite.CreateStorage();
        await storage.Blob(new Lifecycle.Storage.BlobPath("batch-input", $"{name}/today.csv")).UploadAsync(BinaryData.FromString(ChurnDataGenerator.Generate(40, seed: 3)), overwrite: true);
        var summary = storage.Blob(new Lifecycle.Storage.BlobPath("batch-output", $"{name}/today.summary.json"));
        await Eventually.WaitAsync(async () => (await summary.ExistsAsync()).Value, exists => exists);
        var scored = JsonNode.Parse((await summary.DownloadContentAsync()).Value.Content.ToString())!;
        Assert.True(scored["error"] is null, scored.ToJsonString());
        Assert.Equal((40, 1), ((int)scored["scored"]!, (int)scored["version"]!));
    }

    [Fact]
    public async Task MlpSearch_TrainsEachTrialOnTheDeepTrainer_AndPicksTheBest()
    {
        var http = host.Http;
        var name = Azurite.UniqueModelName("deep-search");
        var spec = await LaptopEndToEndTests.SampleSpecAsync(name);
        spec["trainer"] = JsonNode.Parse("""
            {"algorithm":"mlp","hyperparameters":{"epochs":15},"seed":42,
             "search":{"strategy":"grid","trials":2,"maxParallel":2,"space":{"hiddenLayer1Units":{"values":[8,32]}}}}
            """);
        Assert.Equal(HttpStatusCode.Created, (await http.PutAsync($"/api/models/{name}", Json(spec.ToJsonString()))).StatusCode);

        var run = await host.UploadAndWaitAsync(name);

        Assert.True((string)run["status"]! == "succeeded", $"run ended {run}\n{host.Log}");
        var trials = run["trials"]!.AsArray();
        Assert.Equal([8.0, 32.0], trials.Select(t => (double)t!["hyperparameters"]!["hiddenLayer1Units"]!).Order());
        Assert.All(trials, t => Assert.Equal("succeeded", (string)t!["state"]!));
        var best = trials.MaxBy(t => (double)t!["validationMetrics"]!["auc"]!)!;
        var card = (await http.GetFromJsonAsync<JsonObject>($"/api/models/{name}/versions/1"))!["card"]!;
        Assert.Equal((double)best["hyperparameters"]!["hiddenLayer1Units"]!, (double)card["hyperparameters"]!["hiddenLayer1Units"]!);
        Assert.Equal(2, run["training"]!.AsArray().Count);
    }

    [Fact]
    public async Task RunStatus_ShowsTheEpochsWhileTheDeepModelTrains()
    {
        var http = host.Http;
        var name = Azurite.UniqueModelName("deep-progress");
        var spec = await LaptopEndToEndTests.SampleSpecAsync(name);
        spec["trainer"] = JsonNode.Parse("""{"algorithm":"mlp","hyperparameters":{"epochs":10000,"patience":0,"batchSize":32},"seed":42}""");
        Assert.Equal(HttpStatusCode.Created, (await http.PutAsync($"/api/models/{name}", Json(spec.ToJsonString()))).StatusCode);
        var statusUrl = await host.UploadAsync(name, new StringContent(ChurnDataGenerator.Generate(20_000, seed: 8), Encoding.UTF8, "text/csv"));

        // Two reports while the run is running: the epochs go up while it trains.
        var first = await Eventually.WaitAsync(() => http.GetFromJsonAsync<JsonObject>(statusUrl)!, r => r!["training"] is JsonArray { Count: > 0 }, TimeSpan.FromMinutes(3));
        var later = await Eventually.WaitAsync(
            () => http.GetFromJsonAsync<JsonObject>(statusUrl)!, r => (int)r!["training"]![0]!["epoch"]! > (int)first!["training"]![0]!["epoch"]!, TimeSpan.FromMinutes(2));
        Assert.Equal(("running", false), ((string)later!["status"]!, (bool)later["training"]![0]!["finished"]!));
        var epochs = later["training"]![0]!["epochs"]!.AsArray();
        Assert.All(epochs, e => Assert.True(double.IsFinite((double)e!["trainLoss"]!) && double.IsFinite((double)e["validationLoss"]!), e!.ToJsonString()));
        Assert.Equal("accuracy", (string)epochs[0]!["metric"]!);

        Assert.Equal(HttpStatusCode.Accepted, (await http.PostAsync(statusUrl + "/cancel", null)).StatusCode);
        var ended = await host.WaitForRunAsync(statusUrl, TimeSpan.FromMinutes(2));
        Assert.Equal("cancelled", (string)ended["status"]!);
    }
}
