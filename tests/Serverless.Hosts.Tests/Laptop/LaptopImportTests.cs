using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Serverless.Samples.Churn;
using Serverless.Tests;

namespace Serverless.Hosts.Tests.Laptop;

/// <summary>
/// A model trained outside the product (tests/Fixtures/imported: scikit-learn, written as ONNX by the
/// script beside it) imported into laptop mode: gated against a champion the built-in trainer made,
/// registered with its import lineage, served through both prediction APIs as scikit-learn scores it,
/// and monitored; a graph that does not fit is refused with each problem named, and nothing is kept.
/// </summary>
public sealed class LaptopImportTests(MonitoringLaptopHostProcess host) : IClassFixture<MonitoringLaptopHostProcess>
{
    private static readonly string Fixtures = Path.Combine(RepoPaths.Root, "tests", "Fixtures", "imported");

    private const string SklearnOutputs = """{"label": "output_label", "probability": "output_probability"}""";

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static MultipartFormDataContent Import(string fixture, string? outputs = SklearnOutputs, string? source = null)
    {
        var model = new ByteArrayContent(File.ReadAllBytes(Path.Combine(Fixtures, fixture)));
        model.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        var form = new MultipartFormDataContent { { model, "model", fixture } };
        if (outputs is not null)
        {
            form.Add(new StringContent(outputs), "outputs");
        }

        if (source is not null)
        {
            form.Add(new StringContent(source), "source");
        }

        return form;
    }

    /// <summary>The first rows of the sample as predict instances, and scikit-learn's probabilities for them.</summary>
    private static (JsonArray Instances, double[] Expected) SampleRows(int count)
    {
        var lines = File.ReadAllLines(Path.Combine(RepoPaths.Root, "samples", "churn", "churn.csv")).Take(count + 1).ToArray();
        var expected = File.ReadAllLines(Path.Combine(Fixtures, "churn-sklearn.expected.csv")).Skip(1).Take(count)
            .Select(l => double.Parse(l.Split(',')[1], CultureInfo.InvariantCulture)).ToArray();
        return (new JsonArray(LaptopEndToEndTests.Instances(lines)), expected);
    }

    [Fact]
    public async Task AScikitLearnModel_IsGatedAgainstTheChampion_Registered_Served_AndMonitored()
    {
        var http = host.Http;
        var name = Azurite.UniqueModelName("loop");
        var spec = await LaptopEndToEndTests.SampleSpecAsync(name);
        spec["evaluation"]!["gate"]!["changes"] = JsonNode.Parse("""[{"metric": "auc", "minDelta": -0.05}]""");
        spec["drift"] = new JsonObject { ["windowMinutes"] = 0.25, ["minSamples"] = 150, ["consecutiveWindows"] = 1 };
        Assert.Equal(HttpStatusCode.Created, (await http.PutAsync($"/api/models/{name}", Json(spec.ToJsonString()))).StatusCode);
        Assert.Equal("succeeded", (string)(await host.UploadAndWaitAsync(name))["status"]!);

        using var imported = await http.PostAsync($"/api/models/{name}/versions", Import("churn-sklearn.onnx", source: "tests/Fixtures/imported/make_churn_sklearn.py"));
        Assert.True(imported.StatusCode == HttpStatusCode.Accepted, await imported.Content.ReadAsStringAsync());
        var accepted = (await imported.Content.ReadFromJsonAsync<JsonObject>())!;
        var statusUrl = (string)accepted["statusUrl"]!;
        Assert.Equal(statusUrl, imported.Headers.Location?.OriginalString);
        var run = await host.WaitForRunAsync(statusUrl, TimeSpan.FromMinutes(3));

        Assert.True((string)run["status"]! == "succeeded", $"run ended {run}\n{host.Log}");
        Assert.Contains(run["steps"]!.AsArray(), s => (string)s!["name"]! == "import");
        Assert.DoesNotContain(run["steps"]!.AsArray(), s => (string)s!["name"]! == "train");
        var verdict = run["verdict"]!;
        Assert.Equal(1, (int)verdict["championVersion"]!);
        Assert.Contains(verdict["checks"]!.AsArray(), c => (string)c!["metric"]! == "auc" && (string)c["kind"]! == "change" && (bool)c["passed"]!);

        var version = (await http.GetFromJsonAsync<JsonObject>($"/api/models/{name}/versions/champion"))!;
        Assert.Equal(2, (int)version["version"]!);
        var card = version["card"]!;
        Assert.Equal("imported", (string)card["algorithm"]!);
        Assert.Equal("import", (string)card["lineage"]!["trigger"]!);
        var lineage = card["imported"]!;
        var sourceSha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(Fixtures, "churn-sklearn.onnx"))));
        Assert.Equal(sourceSha, (string)lineage["sourceSha256"]!);
        Assert.Equal((string)accepted["sha256"]!, (string)card["onnxSha256"]!);
        Assert.NotEqual(sourceSha, (string)card["onnxSha256"]!);
        Assert.Contains("scikit-learn", (string)lineage["producer"]!, StringComparison.Ordinal);
        Assert.EndsWith("(laptop)", (string)lineage["actor"]!, StringComparison.Ordinal);
        Assert.Equal("tests/Fixtures/imported/make_churn_sklearn.py", (string)lineage["source"]!);

        // Measured by the evaluate step on the graph itself, as for a model trained here.
        Assert.Equal(6, card["importance"]!["features"]!.AsArray().Count);
        Assert.True((double)card["importance"]!["features"]![0]!["drop"]! > 0);

        // Trained elsewhere: nothing recorded here to reproduce it from.
        var reproduce = await http.PostAsync($"/api/models/{name}/versions/2/reproduce", null);
        Assert.Equal(HttpStatusCode.Conflict, reproduce.StatusCode);
        Assert.Contains("was imported", await reproduce.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Both prediction APIs score it as scikit-learn does.
        var (instances, expected) = SampleRows(3);
        var predict = await http.PostAsync($"/api/models/{name}/predict", Json(new JsonObject { ["instances"] = instances }.ToJsonString()));
        Assert.Equal(HttpStatusCode.OK, predict.StatusCode);
        var predictions = (await predict.Content.ReadFromJsonAsync<JsonObject>())!["predictions"]!.AsArray();
        var tensors = new JsonArray(
            new[] { "tenure_months", "monthly_charges", "support_calls" }.Select(c => (JsonNode)new JsonObject
            {
                ["name"] = c, ["shape"] = new JsonArray(3), ["datatype"] = "FP32", ["data"] = new JsonArray([.. instances.Select(i => i![c]!.DeepClone())]),
            }).Concat(new[] { "contract", "internet_service", "payment_method" }.Select(c => (JsonNode)new JsonObject
            {
                ["name"] = c, ["shape"] = new JsonArray(3), ["datatype"] = "BYTES", ["data"] = new JsonArray([.. instances.Select(i => i![c]!.DeepClone())]),
            })).ToArray());
        var infer = await http.PostAsync($"/api/v2/models/{name}/infer", Json(new JsonObject { ["inputs"] = tensors, ["outputs"] = JsonNode.Parse("""[{"name":"probability"}]""") }.ToJsonString()));
        Assert.Equal(HttpStatusCode.OK, infer.StatusCode);
        var inferred = (await infer.Content.ReadFromJsonAsync<JsonObject>())!["outputs"]!.AsArray().Single()!["data"]!.AsArray();
        for (var row = 0; row < expected.Length; row++)
        {
            Assert.Equal(expected[row], (double)predictions[row]!["probability"]!, 5);
            Assert.Equal(expected[row], (double)inferred[row]!, 5);
        }

        // The host says what loading it took, phase by phase (GET /api/status).
        var loaded = (await http.GetFromJsonAsync<JsonObject>("/api/status"))!["serving"]!["loaded"]!.AsArray()
            .Single(l => (string)l!["model"]! == name && (int)l["version"]! == 2)!["load"]!;
        Assert.All(new[] { "cardMs", "downloadMs", "sessionMs", "warmupMs" }, phase => Assert.True((double)loaded[phase]! > 0, $"{phase}: {loaded}"));

        // Monitored like any version: traffic gets a drift pass against the import's baseline.
        var after = DateTimeOffset.UtcNow;
        var lines = ChurnDataGenerator.Generate(300, seed: 61).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var traffic = LaptopEndToEndTests.Instances(lines);
        foreach (var chunk in traffic.Chunk(50))
        {
            Assert.Equal(HttpStatusCode.OK, (await http.PostAsync($"/api/models/{name}/predict", Json(new JsonObject { ["instances"] = new JsonArray([.. chunk]) }.ToJsonString()))).StatusCode);
        }

        var pass = await Eventually.WaitAsync(
            async () => (await http.GetFromJsonAsync<JsonObject>($"/api/models/{name}/monitoring"))!["passes"]!.AsArray()
                .FirstOrDefault(p => DateTimeOffset.Parse((string)p!["at"]!, CultureInfo.InvariantCulture) > after && (string)p["status"]! != "insufficientData"),
            p => p is not null);
        Assert.True(pass is not null, host.Log);
        Assert.Equal((2, "noDrift"), ((int)pass!["version"]!, (string)pass["status"]!));
    }

    [Fact]
    public async Task AGraphThatDoesNotFit_Is400_NamingEachInputAndOutput_AndNothingIsKept()
    {
        var http = host.Http;
        var name = Azurite.UniqueModelName("imp");
        await host.RegisterSampleAsync(name);

        using var mismatched = await http.PostAsync($"/api/models/{name}/versions", Import("churn-mismatch.onnx", """{"label": "output_label", "probability": "output_probability_map"}"""));
        using var unmapped = await http.PostAsync($"/api/models/{name}/versions", Import("churn-sklearn.onnx", outputs: null));
        using var badMap = await http.PostAsync($"/api/models/{name}/versions", Import("churn-sklearn.onnx", outputs: """{"lable": "output_label"}"""));
        using var notOnnx = await http.PostAsync($"/api/models/{name}/versions", new MultipartFormDataContent { { new ByteArrayContent("id,x\n1,2\n"u8.ToArray()), "model", "data.csv" } });
        using var notForm = await http.PostAsync($"/api/models/{name}/versions", new ByteArrayContent(File.ReadAllBytes(Path.Combine(Fixtures, "churn-sklearn.onnx"))));

        Assert.Equal(HttpStatusCode.BadRequest, mismatched.StatusCode);
        var errors = (await mismatched.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject();
        Assert.Equal(
            new[] { "model.inputs.support_calls", "model.inputs.tenure", "model.inputs.tenure_months", "model.outputs.probability" },
            errors.Select(e => e.Key).Order(StringComparer.Ordinal));
        Assert.Contains("int64", (string)errors["model.inputs.support_calls"]![0]!, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, unmapped.StatusCode);
        Assert.Contains("model.outputs.probability", await unmapped.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, badMap.StatusCode);
        Assert.Contains("outputs", (await badMap.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject().Select(e => e.Key));
        Assert.Equal(HttpStatusCode.BadRequest, notOnnx.StatusCode);
        Assert.Contains("\"model\"", await notOnnx.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, notForm.StatusCode);

        Assert.Empty((await http.GetFromJsonAsync<JsonObject>($"/api/models/{name}/versions"))!["versions"]!.AsArray());
        Assert.Empty((await http.GetFromJsonAsync<JsonObject>($"/api/models/{name}/runs"))!["runs"]!.AsArray());
    }

    [Fact]
    public async Task AnEvaluationFileSentWithTheModel_IsStoredAsADataset_AndTheImportIsGatedOnIt()
    {
        var http = host.Http;
        var name = Azurite.UniqueModelName("imp");
        await host.RegisterSampleAsync(name);
        using var form = Import("churn-sklearn.onnx");
        var evaluation = new StringContent(ChurnDataGenerator.Generate(1200, seed: 12), Encoding.UTF8, "text/csv");
        form.Add(evaluation, "evaluation", "holdout.csv");

        using var response = await http.PostAsync($"/api/models/{name}/versions", form);

        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        var accepted = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        var datasetPath = (string)accepted["dataset"]!["path"]!;
        Assert.StartsWith($"datasets/{name}/", datasetPath, StringComparison.Ordinal);
        var run = await host.WaitForRunAsync((string)accepted["statusUrl"]!, TimeSpan.FromMinutes(3));
        Assert.True((string)run["status"]! == "succeeded", run.ToJsonString());
        var card = (await http.GetFromJsonAsync<JsonObject>($"/api/models/{name}/versions/1"))!["card"]!;
        Assert.Equal(datasetPath, (string)card["dataset"]!["path"]!);
        Assert.True(card["verdict"]!["championVersion"] is null, "the first version of a name has no champion to be gated against");
    }

    [Fact]
    public async Task AnImportedModelsName_IsRetrainedByTheExamplePythonTrainer_GatedAgainstTheImport()
    {
        var http = host.Http;
        var python = RepoScripts.Run("python-trainer.sh", "The example trainer needs Python with scikit-learn, onnx and the Azure SDK");
        var name = Azurite.UniqueModelName("byo");
        var spec = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "samples", "trainers", "sklearn", "churn.spec.json")))!;
        spec["name"] = name;
        spec["trainer"]!["localCommand"] = new JsonArray(python, Path.Combine(RepoPaths.Root, "samples", "trainers", "sklearn", "train.py"));
        spec["evaluation"]!["gate"]!["changes"] = JsonNode.Parse("""[{"metric": "auc", "minDelta": -0.05}]""");
        Assert.Equal(HttpStatusCode.Created, (await http.PutAsync($"/api/models/{name}", Json(spec.ToJsonString()))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsync($"/api/models/{name}/datasets?train=false", new StringContent(ChurnDataGenerator.Generate(2500, seed: 21), Encoding.UTF8, "text/csv"))).StatusCode);
        using var imported = await http.PostAsync($"/api/models/{name}/versions", Import("churn-sklearn.onnx"));
        Assert.Equal(HttpStatusCode.Accepted, imported.StatusCode);
        Assert.Equal("succeeded", (string)(await host.WaitForRunAsync((string)(await imported.Content.ReadFromJsonAsync<JsonObject>())!["statusUrl"]!, TimeSpan.FromMinutes(3)))["status"]!);

        var retrain = await http.PostAsync($"/api/models/{name}/runs", null);
        Assert.Equal(HttpStatusCode.Accepted, retrain.StatusCode);
        var run = await host.WaitForRunAsync((string)(await retrain.Content.ReadFromJsonAsync<JsonObject>())!["statusUrl"]!, TimeSpan.FromMinutes(4));

        Assert.True((string)run["status"]! == "succeeded", $"run ended {run}\n{host.Log}");
        Assert.Equal(1, (int)run["verdict"]!["championVersion"]!);
        var card = (await http.GetFromJsonAsync<JsonObject>($"/api/models/{name}/versions/champion"))!["card"]!;
        Assert.Equal(("sklearn-logreg", 2), ((string)card["algorithm"]!, (int)card["version"]!));
        Assert.StartsWith("sklearn-example", (string)card["trainerVersion"]!, StringComparison.Ordinal);
        Assert.True(card["imported"] is null, "a trained version has no import lineage");
        var predict = await http.PostAsync($"/api/models/{name}/predict", Json(new JsonObject { ["instances"] = SampleRows(2).Instances }.ToJsonString()));
        Assert.Equal(HttpStatusCode.OK, predict.StatusCode);
        Assert.Equal(2, (int)(await predict.Content.ReadFromJsonAsync<JsonObject>())!["version"]!);
    }

    [Fact]
    public async Task ImportingWithoutAnyDataToGateOn_Is400_AndTheSameImportSentTwiceIsOneRun()
    {
        var http = host.Http;
        var name = Azurite.UniqueModelName("imp");
        await host.RegisterSampleAsync(name);

        using var noData = await http.PostAsync($"/api/models/{name}/versions", Import("churn-sklearn.onnx"));
        Assert.Equal(HttpStatusCode.BadRequest, noData.StatusCode);
        Assert.Contains("evaluation", (await noData.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject().Select(e => e.Key));

        Assert.Equal(HttpStatusCode.Created, (await http.PostAsync($"/api/models/{name}/datasets?train=false", new StringContent(ChurnDataGenerator.Generate(1500, seed: 8), Encoding.UTF8, "text/csv"))).StatusCode);
        using var first = await http.PostAsync($"/api/models/{name}/versions", Import("churn-sklearn.onnx"));
        using var again = await http.PostAsync($"/api/models/{name}/versions", Import("churn-sklearn.onnx"));

        Assert.Equal((HttpStatusCode.Accepted, HttpStatusCode.Accepted), (first.StatusCode, again.StatusCode));
        var (one, two) = ((await first.Content.ReadFromJsonAsync<JsonObject>())!, (await again.Content.ReadFromJsonAsync<JsonObject>())!);
        Assert.Equal((string)one["runId"]!, (string)two["runId"]!);
        Assert.Equal("duplicate", (string)two["outcome"]!);
        var run = await host.WaitForRunAsync((string)one["statusUrl"]!, TimeSpan.FromMinutes(3));
        Assert.True((string)run["status"]! == "succeeded", run.ToJsonString());
        Assert.Single((await http.GetFromJsonAsync<JsonObject>($"/api/models/{name}/versions"))!["versions"]!.AsArray());
    }
}
