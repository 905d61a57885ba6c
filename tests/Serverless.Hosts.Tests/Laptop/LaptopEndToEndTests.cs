using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Serverless.Samples.Churn;
using Serverless.Tests;

namespace Serverless.Hosts.Tests.Laptop;

public sealed class LaptopEndToEndTests(LaptopHostProcess host) : IClassFixture<LaptopHostProcess>
{
    private const string HighRisk = """{"tenure_months":2,"monthly_charges":105,"support_calls":5,"contract":"month-to-month","internet_service":"fiber","payment_method":"electronic-check"}""";
    private const string LowRisk = """{"tenure_months":65,"monthly_charges":25,"support_calls":0,"contract":"two-year","internet_service":"none","payment_method":"card"}""";

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>The sample spec under another model name, so tests do not share a model.</summary>
    /// <summary>The rows of a churn CSV (header first) as predict instances: numbers as numbers (empty as null), categories as text.</summary>
    internal static JsonNode[] Instances(string[] lines)
    {
        var header = lines[0].Split(',');
        return [.. lines.Skip(1).Select(line =>
        {
            var fields = line.Split(',');
            var instance = new JsonObject();
            foreach (var column in new[] { "tenure_months", "monthly_charges", "support_calls" })
            {
                var text = fields[Array.IndexOf(header, column)];
                instance[column] = text.Length == 0 ? null : JsonValue.Create(double.Parse(text, System.Globalization.CultureInfo.InvariantCulture));
            }

            foreach (var column in new[] { "contract", "internet_service", "payment_method" })
            {
                instance[column] = fields[Array.IndexOf(header, column)];
            }

            return (JsonNode)instance;
        })];
    }

    internal static async Task<JsonNode> SampleSpecAsync(string name)
    {
        var spec = JsonNode.Parse(await File.ReadAllTextAsync(RepoPaths.SampleSpec))!;
        spec["name"] = name;
        return spec;
    }

    [Fact]
    public async Task SampleModel_TrainsThroughTheWholeLoopAndServesPredictions()
    {
        var http = host.Http;
        var name = Azurite.UniqueModelName("e2e");
        await host.RegisterSampleAsync(name);

        // A model with no champion yet cannot predict.
        var early = await http.PostAsync($"/api/models/{name}/predict", Json($$"""{"instances":[{{HighRisk}}]}"""));
        Assert.Equal(HttpStatusCode.NotFound, early.StatusCode);

        var run = await host.UploadAndWaitAsync(name);

        Assert.True((string)run["status"]! == "succeeded", $"run ended {run}\n{host.Log}");
        Assert.Equal(6, run["steps"]!.AsArray().Count);

        // The trainer process posted its completion to this host's callback route.
        Assert.Contains("end noticed by callback", (string)run["steps"]![2]!["detail"]!, StringComparison.Ordinal);
        var runId = (string)run["runId"]!;
        var late = await http.PostAsync($"/api/runs/{runId}/jobs/{runId}-train/complete", Json($$"""{"runId":"{{runId}}","jobId":"{{runId}}-train","state":"succeeded"}"""));
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await http.PostAsync($"/api/runs/{runId}/cancel", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await http.PostAsync($"/api/runs/{runId}/approve", null)).StatusCode);

        var profile = (await http.GetFromJsonAsync<JsonObject>((string)run["profileUrl"]!))!;
        Assert.Equal(2500, (int)profile["rows"]!);
        Assert.NotNull(profile["features"]!["tenure_months"]!["numeric"]!["histogram"]!["edges"]);
        var version = (await http.GetFromJsonAsync<JsonObject>($"/api/models/{name}/versions/1"))!;
        Assert.Equal((string)run["profilePath"]!, (string)version["card"]!["profilePath"]!);
        Assert.Equal(2500, (int)version["baseline"]!["rows"]!);

        // What the version relies on: every feature's permutation importance on the test split, most important first.
        var importance = version["card"]!["importance"]!;
        Assert.Equal("auc", (string)importance["metric"]!);
        var features = importance["features"]!.AsArray();
        Assert.Equal(["contract", "internet_service", "monthly_charges", "payment_method", "support_calls", "tenure_months"], features.Select(f => (string)f!["feature"]!).Order(StringComparer.Ordinal));
        Assert.Equal(features.Select(f => (double)f!["drop"]!).OrderDescending(), features.Select(f => (double)f!["drop"]!));
        Assert.Equal(1.0, features.Sum(f => (double)f!["share"]!), 6);
        Assert.All(features, f => Assert.True((double)f!["spread"]! >= 0));

        var model = (await http.GetFromJsonAsync<JsonObject>($"/api/models/{name}"))!;
        Assert.Equal(1, (int)model["aliases"]!["champion"]!);
        Assert.Equal(1, (int)model["versions"]!);

        // The model's runs as the dashboard lists them, and the version's ONNX file with its registered digest.
        var listed = (await http.GetFromJsonAsync<JsonObject>($"/api/models/{name}/runs"))!["runs"]!.AsArray().Single()!;
        Assert.Equal((runId, "succeeded", "upload", 1, $"/api/runs/{runId}"), ((string)listed["runId"]!, (string)listed["status"]!, (string)listed["trigger"]!, (int)listed["version"]!, (string)listed["statusUrl"]!));
        var file = await http.GetAsync($"/api/models/{name}/versions/champion/model.onnx");
        Assert.Equal(HttpStatusCode.OK, file.StatusCode);
        var onnx = await file.Content.ReadAsByteArrayAsync();
        Assert.Equal((string)version["sha256"]!, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(onnx)));
        Assert.Equal($"sha-256=:{Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(onnx))}:", file.Headers.GetValues("Repr-Digest").Single());

        var predict = await http.PostAsync($"/api/models/{name}/predict", Json($$"""{"instances":[{{HighRisk}},{{LowRisk}}]}"""));
        Assert.Equal(HttpStatusCode.OK, predict.StatusCode);
        var body = (await predict.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(1, (int)body["version"]!);
        Assert.False(string.IsNullOrEmpty((string?)body["requestId"]));
        var predictions = body["predictions"]!.AsArray();
        var high = (double)predictions[0]!["probability"]!;
        var low = (double)predictions[1]!["probability"]!;
        Assert.InRange(high, 0.0, 1.0);
        Assert.InRange(low, 0.0, 1.0);
        Assert.True(high > 0.5 && low < 0.5, $"high-risk {high}, low-risk {low}");
        Assert.True((bool)predictions[0]!["label"]!);

        // The caller's request id is kept; the prediction log records both rows under it, off the request path.
        var tagged = new HttpRequestMessage(HttpMethod.Post, $"/api/models/{name}/predict") { Content = Json($$"""{"instances":[{{HighRisk}},{{LowRisk}}]}""") };
        tagged.Headers.Add("X-Request-Id", "order-4711");
        Assert.Equal("order-4711", (string)(await (await http.SendAsync(tagged)).Content.ReadFromJsonAsync<JsonObject>())!["requestId"]!);
        var logged = await LoggedAsync(name, "order-4711", expected: 2);
        Assert.Equal([0, 1], logged.Select(r => (int)r["row"]!).Order());
        Assert.All(logged, r => Assert.Equal((1, "champion", "predict"), ((int)r["version"]!, (string)r["alias"]!, (string)r["route"]!)));
        Assert.Equal("fiber", (string)logged.Single(r => (int)r["row"]! == 0)["inputs"]!["internet_service"]!);

        // Ground truth for it, one item and then a batch; a bad item is refused with its field named and nothing stored.
        Assert.Equal(HttpStatusCode.Accepted, (await http.PostAsync($"/api/models/{name}/feedback", Json("""{"requestId":"order-4711","row":0,"label":true}"""))).StatusCode);
        var bad = await http.PostAsync($"/api/models/{name}/feedback", Json("""{"feedback":[{"requestId":"order-4711","row":1,"label":false},{"requestId":"order-4711","row":1,"label":"maybe"}]}"""));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("feedback[1].label", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var batch = await http.PostAsync($"/api/models/{name}/feedback", Json("""{"feedback":[{"requestId":"order-4711","row":1,"label":false}]}"""));
        Assert.Equal(1, (int)(await batch.Content.ReadFromJsonAsync<JsonObject>())!["accepted"]!);
        Assert.Equal(HttpStatusCode.NotFound, (await http.PostAsync("/api/models/no-such-model/feedback", Json("""{"requestId":"r","label":true}"""))).StatusCode);

        await OpenInferenceProtocolAsync(http, name);

        // Batch scoring: a file dropped under batch-input/{model}/ is scored by the champion (laptop mode polls for it).
        using var storage = Azurite.CreateStorage();
        await storage.Blob(new Lifecycle.Storage.BlobPath("batch-input", $"{name}/today.csv")).UploadAsync(BinaryData.FromString(ChurnDataGenerator.Generate(50, seed: 3)), overwrite: true);
        var summary = storage.Blob(new Lifecycle.Storage.BlobPath("batch-output", $"{name}/today.summary.json"));
        await Eventually.WaitAsync(async () => (await summary.ExistsAsync()).Value, exists => exists);

        var scored = JsonNode.Parse((await summary.DownloadContentAsync()).Value.Content.ToString())!;
        Assert.True(scored["error"] is null, scored.ToJsonString());
        Assert.Equal((50, 50, 1, $"batch-output/{name}/today.v1.csv"), ((int)scored["scored"]!, (int)scored["rows"]!, (int)scored["version"]!, (string)scored["output"]!));
    }

    /// <summary>The Open Inference Protocol v2 routes on a binary champion: shapes per the protocol, errors as {"error"}.</summary>
    private static async Task OpenInferenceProtocolAsync(HttpClient http, string name)
    {
        const string Tensors = """
            {"name":"tenure_months","shape":[2],"datatype":"INT64","data":[2,65]},
            {"name":"monthly_charges","shape":[2,1],"datatype":"FP32","data":[[105],[25]]},
            {"name":"support_calls","shape":[2],"datatype":"FP32","data":[5,0]},
            {"name":"contract","shape":[2],"datatype":"BYTES","data":["month-to-month","two-year"]},
            {"name":"internet_service","shape":[2],"datatype":"BYTES","data":["fiber","none"]},
            {"name":"payment_method","shape":[2],"datatype":"BYTES","data":["electronic-check","card"]}
            """;
        var infer = await http.PostAsync($"/api/v2/models/{name}/infer", Json($$"""{"id":"oip-1","inputs":[{{Tensors}}],"outputs":[{"name":"probability"}]}"""));
        Assert.Equal(HttpStatusCode.OK, infer.StatusCode);
        var response = (await infer.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal((name, "1", "oip-1"), ((string)response["model_name"]!, (string)response["model_version"]!, (string)response["id"]!));
        var output = response["outputs"]!.AsArray().Single()!;
        Assert.Equal(("probability", "FP32", 2), ((string)output["name"]!, (string)output["datatype"]!, (int)output["shape"]![0]!));
        Assert.True((double)output["data"]![0]! > 0.5 && (double)output["data"]![1]! < 0.5, output.ToJsonString());

        Assert.Equal("oip-1", infer.Headers.GetValues("X-Request-Id").Single());

        // An id that is not a valid request id is echoed, and the id the prediction is logged under comes back in the header.
        var odd = await http.PostAsync($"/api/v2/models/{name}/infer", Json($$"""{"id":"oip id with spaces","inputs":[{{Tensors}}]}"""));
        Assert.Equal("oip id with spaces", (string)(await odd.Content.ReadFromJsonAsync<JsonObject>())!["id"]!);
        var logged = odd.Headers.GetValues("X-Request-Id").Single();
        Assert.Equal(2, (await LoggedAsync(name, logged, 2)).Count);

        var pinned = await http.PostAsync($"/api/v2/models/{name}/versions/1/infer", Json($$"""{"inputs":[{{Tensors}}]}"""));
        Assert.Equal(["label", "probability", "score"], (await pinned.Content.ReadFromJsonAsync<JsonObject>())!["outputs"]!.AsArray().Select(o => (string)o!["name"]!));

        // A wrong shape gets a 400 in the protocol's error shape; the same model then answers a good request.
        var bad = await http.PostAsync($"/api/v2/models/{name}/infer", Json($$"""{"inputs":[{{Tensors.Replace("\"shape\":[2],\"datatype\":\"INT64\"", "\"shape\":[3],\"datatype\":\"INT64\"", StringComparison.Ordinal)}}]}"""));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("shape [3] but 2 value(s)", (string)(await bad.Content.ReadFromJsonAsync<JsonObject>())!["error"]!, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync($"/api/v2/models/{name}/infer", Json($$"""{"inputs":[{{Tensors}}]}"""))).StatusCode);

        var server = (await http.GetFromJsonAsync<JsonObject>("/api/v2"))!;
        Assert.Equal(("serverless-lifecycle", 0), ((string)server["name"]!, server["extensions"]!.AsArray().Count));

        var metadata = (await http.GetFromJsonAsync<JsonObject>($"/api/v2/models/{name}"))!;
        Assert.Equal(("onnxruntime_onnx", "1"), ((string)metadata["platform"]!, (string)metadata["versions"]![0]!));
        Assert.Equal(6, metadata["inputs"]!.AsArray().Count);
        Assert.Equal("BYTES", (string)metadata["inputs"]!.AsArray().Single(i => (string)i!["name"]! == "contract")!["datatype"]!);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"/api/v2/models/{name}/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"/api/v2/models/{name}/versions/1/ready")).StatusCode);
        var missing = await http.GetAsync($"/api/v2/models/{name}/versions/9/ready");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.NotNull((await missing.Content.ReadFromJsonAsync<JsonObject>())!["error"]);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/api/v2/models/no-such-model/ready")).StatusCode);
        Assert.True((bool)(await http.GetFromJsonAsync<JsonObject>("/api/v2/health/live"))!["live"]!);
        Assert.True((bool)(await http.GetFromJsonAsync<JsonObject>("/api/v2/health/ready"))!["ready"]!);
    }

    /// <summary>The prediction-log records of one request, once the log has written them (it flushes every few seconds).</summary>
    private static async Task<List<JsonNode>> LoggedAsync(string model, string requestId, int expected)
    {
        using var storage = Azurite.CreateStorage();
        var container = storage.Container("predictions");
        var records = await Eventually.WaitAsync(
            async () =>
            {
                var found = new List<JsonNode>();
                if (!(await container.ExistsAsync()).Value)
                {
                    return found;
                }

                await foreach (var blob in container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, model + "/", CancellationToken.None))
                {
                    var text = (await container.GetBlobClient(blob.Name).DownloadContentAsync()).Value.Content.ToString();
                    found.AddRange(text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).Where(r => (string)r["requestId"]! == requestId));
                }

                return found;
            },
            found => found.Count >= expected);

        Assert.Equal(expected, records.Count);
        return records;
    }

    /// <summary>
    /// A multiclass model (the internet service) and a regression model (the churn label as a
    /// number) on the sample data: each trains through the laptop loop and answers in its own shape.
    /// </summary>
    [Theory]
    [InlineData("multiclass", "internet_service", "macroAccuracy")]
    [InlineData("regression", "churned", "r2")]
    public async Task OtherTasks_TrainThroughTheLoopAndServeTheirOwnPredictions(string task, string label, string metric)
    {
        var http = host.Http;
        var name = Azurite.UniqueModelName(task[..5]);
        var spec = await SampleSpecAsync(name);
        spec["task"] = task;
        spec["label"] = label;
        spec["features"] = new JsonArray(spec["features"]!.AsArray()
            .Where(f => (string)f!["name"]! != label && !(label == "internet_service" && (string)f!["name"]! == "contract"))
            .Select(f => f!.DeepClone()).ToArray());
        spec["evaluation"]!["gate"] = new JsonObject { ["thresholds"] = new JsonArray(new JsonObject { ["metric"] = metric, ["min"] = 0.05 }) };
        var put = await http.PutAsync($"/api/models/{name}", new StringContent(spec.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);

        var run = await host.UploadAndWaitAsync(name);
        Assert.True((string)run["status"]! == "succeeded", $"run ended {run}\n{host.Log}");
        Assert.NotNull(run["metrics"]![metric]);

        var predict = await http.PostAsync($"/api/models/{name}/predict", Json($$"""{"instances":[{{HighRisk}},{{LowRisk}}]}"""));
        Assert.Equal(HttpStatusCode.OK, predict.StatusCode);
        var predictions = (await predict.Content.ReadFromJsonAsync<JsonObject>())!["predictions"]!.AsArray();
        if (task == "multiclass")
        {
            // The sample's generator gives fiber customers the highest charges: 105 a month reads as fiber.
            Assert.Equal("fiber", (string)predictions[0]!["label"]!);
            var probabilities = predictions[0]!["probabilities"]!.AsObject();
            Assert.Equal(1.0, probabilities.Sum(p => (double)p.Value!), 4);
            Assert.Equal((double)probabilities["fiber"]!, (double)predictions[0]!["probability"]!);
        }
        else
        {
            Assert.True((double)predictions[0]!["value"]! > (double)predictions[1]!["value"]!, predictions.ToJsonString());
            Assert.Null(predictions[0]!["label"]);
        }

        // The same model through the Open Inference Protocol: the task's own output tensors.
        var tensors = string.Join(",", spec["features"]!.AsArray().Select(f => (string)f!["type"]! == "numeric"
            ? $$"""{"name":"{{f!["name"]}}","shape":[1],"datatype":"FP32","data":[3]}"""
            : $$"""{"name":"{{f!["name"]}}","shape":[1],"datatype":"BYTES","data":["card"]}"""));
        var infer = (await (await http.PostAsync($"/api/v2/models/{name}/infer", Json($$"""{"inputs":[{{tensors}}]}"""))).Content.ReadFromJsonAsync<JsonObject>())!;
        var outputs = infer["outputs"]!.AsArray().ToDictionary(o => (string)o!["name"]!, o => o!);
        if (task == "multiclass")
        {
            Assert.Equal([1, 3], outputs["probabilities"]["shape"]!.AsArray().Select(d => (int)d!));
            Assert.Equal("BYTES", (string)outputs["label"]["datatype"]!);
            var metadata = (await http.GetFromJsonAsync<JsonObject>($"/api/v2/models/{name}"))!;
            Assert.Equal(["dsl", "fiber", "none"], metadata["parameters"]!["classes"]!.AsArray().Select(c => (string)c!).Order());
        }
        else
        {
            Assert.Equal(["value"], outputs.Keys);
        }
    }

    /// <summary>
    /// The Event Grid webhook: the subscription handshakes of both schemas, new data announced as a
    /// BlobCreated event (twice: one run) and as a custom CloudEvent, other events acknowledged.
    /// </summary>
    [Fact]
    public async Task EventGridWebhook_ValidatesSubscriptions_AndNewDataEventsStartOneRunEach()
    {
        var http = host.Http;
        var name = Azurite.UniqueModelName("evt");
        await host.RegisterSampleAsync(name);

        var validation = await http.PostAsync("/api/events", Json("""[{"id":"1","topic":"t","subject":"s","eventType":"Microsoft.EventGrid.SubscriptionValidationEvent","eventTime":"2026-11-26T00:00:00Z","dataVersion":"1","data":{"validationCode":"abc-123","validationUrl":"https://example"}}]"""));
        Assert.Equal("abc-123", (string)(await validation.Content.ReadFromJsonAsync<JsonObject>())!["validationResponse"]!);
        var options = new HttpRequestMessage(HttpMethod.Options, "/api/events");
        options.Headers.Add("WebHook-Request-Origin", "eventgrid.azure.net");
        var handshake = await http.SendAsync(options);
        Assert.Equal(HttpStatusCode.OK, handshake.StatusCode);
        Assert.Equal("eventgrid.azure.net", handshake.Headers.GetValues("WebHook-Allowed-Origin").Single());

        using var storage = Azurite.CreateStorage();
        await storage.Blob(new Lifecycle.Storage.BlobPath("datasets", $"{name}/a.csv")).UploadAsync(BinaryData.FromString(ChurnDataGenerator.Generate(2500, seed: 61)), overwrite: true);
        await storage.Blob(new Lifecycle.Storage.BlobPath("datasets", $"{name}/b.csv")).UploadAsync(BinaryData.FromString(ChurnDataGenerator.Generate(2500, seed: 62)), overwrite: true);
        var blobCreated = $$$"""[{"id":"2","topic":"t","subject":"/blobServices/default/containers/datasets/blobs/{{{name}}}/a.csv","eventType":"Microsoft.Storage.BlobCreated","eventTime":"2026-11-26T00:00:00Z","dataVersion":"1","data":{"api":"PutBlob"}},{"id":"3","topic":"t","subject":"/blobServices/default/containers/other/blobs/x","eventType":"Microsoft.Storage.BlobCreated","eventTime":"2026-11-26T00:00:00Z","dataVersion":"1","data":{}}]""";

        var first = (await (await http.PostAsync("/api/events", Json(blobCreated))).Content.ReadFromJsonAsync<JsonObject>())!;
        var again = (await (await http.PostAsync("/api/events", Json(blobCreated))).Content.ReadFromJsonAsync<JsonObject>())!;
        var custom = await http.PostAsync("/api/events", new StringContent($$$"""{"specversion":"1.0","id":"4","source":"/etl","type":"Serverless.Lifecycle.DataReady","data":{"path":"datasets/{{{name}}}/b.csv"}}""", Encoding.UTF8, "application/cloudevents+json"));
        var garbage = await http.PostAsync("/api/events", Json("""{"hello":"world"}"""));

        Assert.Equal((1, 1), ((int)first["accepted"]!, (int)first["ignored"]!));
        var runId = (string)first["runs"]![0]!["runId"]!;
        Assert.Equal(runId, (string)again["runs"]![0]!["runId"]!);

        // The second dataset arrived while the first one's run was training: coalesced into it, and recorded.
        var customRun = (await custom.Content.ReadFromJsonAsync<JsonObject>())!["runs"]![0]!;
        Assert.Equal((runId, "coalesced"), ((string)customRun["runId"]!, (string)customRun["outcome"]!));
        Assert.Equal(HttpStatusCode.BadRequest, garbage.StatusCode);
        var run = await host.WaitForRunAsync($"/api/runs/{runId}", TimeSpan.FromMinutes(3));
        Assert.True((string)run["status"]! == "succeeded", run.ToJsonString());
        Assert.Equal("newData", (string)run["trigger"]!);
    }

    /// <summary>
    /// 20 datasets written at once and their 20 BlobCreated events posted at once: every delivery is
    /// answered 200, one run starts and the other 19 are coalesced into it (before, claim conflicts
    /// surfaced as 500s). Then one event delivered 3 times at once starts nothing more.
    /// </summary>
    [Fact]
    public async Task EventGridWebhook_TwentyConcurrentBlobCreatedEvents_AllAnswered_OneStartedNineteenCoalesced()
    {
        var http = host.Http;
        var name = Azurite.UniqueModelName("burst");
        await host.RegisterSampleAsync(name);
        using var storage = Azurite.CreateStorage();
        for (var i = 0; i < 20; i++)
        {
            await storage.Blob(new Lifecycle.Storage.BlobPath("datasets", $"{name}/drop-{i}.csv")).UploadAsync(BinaryData.FromString(ChurnDataGenerator.Generate(600, seed: 100 + i)), overwrite: true);
        }

        static string Event(string blob) =>
            $$$"""[{"id":"{{{Guid.NewGuid()}}}","topic":"t","subject":"/blobServices/default/containers/datasets/blobs/{{{blob}}}","eventType":"Microsoft.Storage.BlobCreated","eventTime":"2026-11-26T00:00:00Z","dataVersion":"1","data":{"api":"PutBlob"}}]""";

        async Task<(HttpStatusCode Status, JsonObject? Body)> PostAsync(string blob)
        {
            using var response = await http.PostAsync("/api/events", Json(Event(blob)));
            return (response.StatusCode, response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<JsonObject>() : null);
        }

        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() => PostAsync($"{name}/drop-{i}.csv"))));
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.Status));
        var outcomes = answers.Select(a => ((string)a.Body!["runs"]![0]!["outcome"]!, (string)a.Body!["runs"]![0]!["runId"]!)).ToList();
        var started = Assert.Single(outcomes, o => o.Item1 == "started");
        Assert.Equal(19, outcomes.Count(o => o.Item1 == "coalesced" && o.Item2 == started.Item2));

        // The started blob's event, delivered 3 more times at once: the same run, never a second one.
        var redelivered = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Task.Run(() => PostAsync($"{name}/drop-{outcomes.IndexOf(started)}.csv"))));
        Assert.All(redelivered, r => Assert.Equal((HttpStatusCode.OK, "duplicate", started.Item2), (r.Status, (string)r.Body!["runs"]![0]!["outcome"]!, (string)r.Body!["runs"]![0]!["runId"]!)));
        // The one run ends as any run of this data would; what matters here is that it is the only one.
        var run = await host.WaitForRunAsync($"/api/runs/{started.Item2}", TimeSpan.FromMinutes(3));
        Assert.True((string)run["status"]! is not ("pending" or "running" or "failed"), run.ToJsonString());
    }

    /// <summary>Optimistic concurrency over HTTP: a spec update or an alias move with a stale If-Match gets 409 with the current ETag, and changes nothing.</summary>
    [Fact]
    public async Task IfMatch_OnSpecUpdatesAndAliasMoves_AStaleETagGets409WithTheCurrentOne()
    {
        var http = host.Http;
        var name = Azurite.UniqueModelName("etag");
        var spec = (await SampleSpecAsync(name)).ToJsonString();
        async Task<HttpResponseMessage> SendAsync(HttpMethod method, string url, string? body, string? ifMatch)
        {
            using var message = new HttpRequestMessage(method, url) { Content = body is null ? null : Json(body) };
            if (ifMatch is not null)
            {
                message.Headers.TryAddWithoutValidation("If-Match", ifMatch);
            }

            return await http.SendAsync(message);
        }

        var created = await SendAsync(HttpMethod.Put, $"/api/models/{name}", spec, null);
        var first = created.Headers.ETag!.ToString();
        var updated = await SendAsync(HttpMethod.Put, $"/api/models/{name}", spec, first);
        var second = updated.Headers.ETag!.ToString();
        var stale = await SendAsync(HttpMethod.Put, $"/api/models/{name}", spec, first);

        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.OK, HttpStatusCode.Conflict), (created.StatusCode, updated.StatusCode, stale.StatusCode));
        Assert.NotEqual(first, second);
        Assert.Equal(second, (string)(await stale.Content.ReadFromJsonAsync<JsonObject>())!["currentETag"]!);
        Assert.Equal(second, (await http.GetAsync($"/api/models/{name}")).Headers.ETag!.ToString());

        var run = await host.UploadAndWaitAsync(name);
        Assert.True((string)run["status"]! == "succeeded", run.ToJsonString());
        var set = await SendAsync(HttpMethod.Put, $"/api/models/{name}/aliases/staging", """{"version":1,"reason":"try it"}""", null);
        var aliasFirst = set.Headers.ETag!.ToString();
        var moved = await SendAsync(HttpMethod.Put, $"/api/models/{name}/aliases/staging", """{"version":1,"reason":"again"}""", aliasFirst);
        var aliasSecond = moved.Headers.ETag!.ToString();
        var staleMove = await SendAsync(HttpMethod.Put, $"/api/models/{name}/aliases/staging", """{"version":1,"reason":"late"}""", aliasFirst);
        var staleDelete = await SendAsync(HttpMethod.Delete, $"/api/models/{name}/aliases/staging", null, aliasFirst);

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.Conflict, HttpStatusCode.Conflict), (set.StatusCode, moved.StatusCode, staleMove.StatusCode, staleDelete.StatusCode));
        var conflict = (await staleMove.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal((1, aliasSecond), ((int)conflict["currentVersion"]!, (string)conflict["currentETag"]!));
        Assert.Equal(aliasSecond, (string)(await staleDelete.Content.ReadFromJsonAsync<JsonObject>())!["currentETag"]!);
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Delete, $"/api/models/{name}/aliases/staging", null, aliasSecond)).StatusCode);
    }

    private const string BlobCreatedAt = """[{"id":"b","topic":"t","eventType":"Microsoft.Storage.BlobCreated","eventTime":"2026-11-26T00:00:00Z","dataVersion":"1","data":{},"subject":"/blobServices/default/containers/datasets/blobs/""";

    /// <summary>Events that are not well-formed get a 400 that says what is wrong; none reaches storage or starts anything.</summary>
    [Theory]
    [InlineData("application/json", "[1,2]", "Not Event Grid or CloudEvents events")]
    [InlineData("application/json", """[{"id":"1","topic":"t","subject":5,"eventType":"x","eventTime":"2026-11-26T00:00:00Z","dataVersion":"1","data":{}}]""", "Not Event Grid or CloudEvents events")]
    [InlineData("application/cloudevents+json", """{"specversion":"1.0","id":5,"source":"/x","type":"t"}""", "Not Event Grid or CloudEvents events")]
    [InlineData("application/cloudevents+json", """{"specversion":"1.0","id":"1","source":"/x","type":"Serverless.Lifecycle.DataReady","data":"datasets/m/a.csv"}""", "must be an object with a string 'path'")]
    [InlineData("application/cloudevents+json", """{"specversion":"1.0","id":"1","source":"/x","type":"Serverless.Lifecycle.DataReady","data":{"path":5}}""", "must be an object with a string 'path'")]
    [InlineData("application/cloudevents+json", """{"specversion":"1.0","id":"1","source":"/x","type":"Serverless.Lifecycle.DataReady","data":{"path":"datasets/"}}""", "names 'datasets/'")]
    [InlineData("application/cloudevents+json", """{"specversion":"1.0","id":"1","source":"/x","type":"Serverless.Lifecycle.DataReady","data":{"path":"datasets/m/../../runs/x/profile.json"}}""", "without empty, '.' or '..' segments")]
    [InlineData("application/json", "5", "expected an event object or an array of them")]
    [InlineData("application/json", """[{"id":"1","topic":"t","subject":"s","eventType":"Microsoft.EventGrid.SubscriptionValidationEvent","eventTime":"2026-11-26T00:00:00Z","dataVersion":"1","data":{}}]""", "no data.validationCode")]
    public async Task EventGridWebhook_MalformedEvents_AreRefusedNamingTheProblem(string contentType, string body, string expected)
    {
        var response = await host.Http.PostAsync("/api/events", new StringContent(body, Encoding.UTF8, contentType));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EventGridWebhook_AContentTypeThatIsNotJson_Gets415()
    {
        var response = await host.Http.PostAsync("/api/events", new StringContent("""{"id":"1"}""", Encoding.UTF8, "text/plain"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    /// <summary>Storage reports every blob; one that is not a model's dataset is ignored, not refused (a 400 would fail the whole batch).</summary>
    [Theory]
    [InlineData("m/../../runs/x/profile.json")]
    [InlineData("m/")]
    [InlineData("readme.txt")]
    public async Task EventGridWebhook_BlobCreatedForABlobThatIsNotADataset_IsIgnored(string blob)
    {
        var response = await host.Http.PostAsync("/api/events", Json(BlobCreatedAt + blob + "\"}]"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal((0, 1), ((int)body["accepted"]!, (int)body["ignored"]!));
    }

    [Fact]
    public async Task EventGridWebhook_EventForABlobThatDoesNotExist_IsAcknowledgedAndStartsNothing()
    {
        var name = Azurite.UniqueModelName("ghost");
        await host.RegisterSampleAsync(name);

        var response = await host.Http.PostAsync("/api/events", Json(BlobCreatedAt + name + "/never-written.csv\"}]"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal((1, 0), ((int)body["accepted"]!, body["runs"]!.AsArray().Count));
        Assert.Empty((await host.Http.GetFromJsonAsync<JsonObject>($"/api/models/{name}/versions"))!["versions"]!.AsArray());
    }

    [Theory]
    [InlineData("staging", """{"version":"1"}""", "version")]
    [InlineData("3", """{"version":1}""", "reserved")]
    [InlineData("v3", """{"version":1}""", "reserved")]
    [InlineData("a%23b", """{"version":1}""", "'a#b' is not an alias name")]
    [InlineData("a%5Cb", """{"version":1}""", "is not an alias name")]
    public async Task SetAlias_BadNameOrVersion_IsRefusedNamingIt(string alias, string body, string expected)
    {
        var response = await host.Http.PutAsync($"/api/models/any-model/aliases/{alias}", Json(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task JsonBodies_ChunkedOverTheLimitGet413_AndALeadingBomIsAccepted()
    {
        var name = Azurite.UniqueModelName("bom");
        var spec = (await SampleSpecAsync(name)).ToJsonString();

        // No Content-Length: the limit is found while reading.
        var large = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(spec[..^1] + ",\"description\":\"" + new string('x', Lifecycle.Api.RequestBodies.MaxJsonBytes) + "\"}")));
        large.Headers.ContentType = new("application/json");
        var request = new HttpRequestMessage(HttpMethod.Put, $"/api/models/{name}") { Content = large };
        request.Headers.TransferEncodingChunked = true;
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await host.Http.SendAsync(request)).StatusCode);

        var withBom = new ByteArrayContent([0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(spec)]);
        withBom.Headers.ContentType = new("application/json");
        var put = await host.Http.PutAsync($"/api/models/{name}", withBom);
        Assert.True(put.StatusCode == HttpStatusCode.Created, await put.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Reproduce_AVersionTheTrainerProcessTrained_GivesItsBytesAgain_AndBadRequestsGetClearErrors()
    {
        var http = host.Http;
        var name = Azurite.UniqueModelName("repro");
        await host.RegisterSampleAsync(name);
        Assert.Equal("succeeded", (string)(await host.UploadAndWaitAsync(name))["status"]!);
        var version = (await http.GetFromJsonAsync<JsonObject>($"/api/models/{name}/versions/1"))!;

        var reproduce = await http.PostAsync($"/api/models/{name}/versions/v1/reproduce", null);

        Assert.True(reproduce.StatusCode == HttpStatusCode.Accepted, await reproduce.Content.ReadAsStringAsync());
        var accepted = (await reproduce.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(((string)accepted["statusUrl"]!, 1), (reproduce.Headers.Location?.OriginalString, (int)accepted["version"]!));
        var run = await host.WaitForRunAsync((string)accepted["statusUrl"]!, TimeSpan.FromMinutes(3));
        Assert.True((string)run["status"]! == "reproduced", $"run ended {run}\n{host.Log}");
        Assert.Equal("reproduce", (string)run["trigger"]!);
        Assert.Equal((string)version["sha256"]!, (string)run["reproduction"]!["sha256"]!);
        Assert.Equal((string)version["card"]!["trainerVersion"]!, (string)run["reproduction"]!["trainerVersion"]!);
        Assert.Equal(1, (int)(await http.GetFromJsonAsync<JsonObject>($"/api/models/{name}"))!["versions"]!);

        // An unknown version, a malformed one, an unknown model.
        Assert.Equal(HttpStatusCode.NotFound, (await http.PostAsync($"/api/models/{name}/versions/9/reproduce", null)).StatusCode);
        var malformed = await http.PostAsync($"/api/models/{name}/versions/v0/reproduce", null);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Contains("'v0' is not a version number", await malformed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await http.PostAsync($"/api/models/{Azurite.UniqueModelName("none")}/versions/1/reproduce", null)).StatusCode);
    }

    [Fact]
    public async Task ParquetUpload_TrainsAndServes()
    {
        var http = host.Http;
        var name = Azurite.UniqueModelName("pq");
        await host.RegisterSampleAsync(name);
        var parquet = new ByteArrayContent(await ParquetFixtures.FromChurnCsvAsync(ChurnDataGenerator.Generate(2500, seed: 31)));
        parquet.Headers.ContentType = new("application/vnd.apache.parquet");

        var run = await host.UploadAndWaitAsync(name, parquet);

        Assert.EndsWith(".parquet", (string)run["dataset"]!["path"]!, StringComparison.Ordinal);
        Assert.True((string)run["status"]! == "succeeded", $"run ended {run}\n{host.Log}");
        var predict = await http.PostAsync($"/api/models/{name}/predict", Json("{\"instances\":[" + HighRisk + "]}"));
        Assert.Equal(HttpStatusCode.OK, predict.StatusCode);
    }

    [Fact]
    public async Task UploadOfBadData_IsRejectedWithItsFindingsInTheRunStatus()
    {
        var http = host.Http;
        var name = Azurite.UniqueModelName("rej");
        await host.RegisterSampleAsync(name);
        var lines = ChurnDataGenerator.Generate(300, seed: 33).Split('\n');
        lines[4] = "c-x,500,55.1,1,one-year,dsl,card,0";
        lines[7] = "c-y,12,55.1,1,forever,dsl,card,0";

        var run = await host.UploadAndWaitAsync(name, new StringContent(string.Join('\n', lines), Encoding.UTF8, "text/csv"));

        Assert.Equal("rejected", (string)run["status"]!);
        var findings = run["findings"]!.AsArray().Select(f => ((string)f!["column"]!, (string)f["rule"]!, (string)f["severity"]!)).ToList();
        Assert.Contains(("tenure_months", "out-of-range", "blocking"), findings);
        Assert.Contains(("contract", "unknown-category", "blocking"), findings);
        var outOfRange = run["findings"]!.AsArray().First(f => (string)f!["rule"]! == "out-of-range")!;
        Assert.Equal(5, (int)outOfRange["exampleLines"]![0]!);
        var predict = await http.PostAsync($"/api/models/{name}/predict", Json("{\"instances\":[" + LowRisk + "]}"));
        Assert.Equal(HttpStatusCode.NotFound, predict.StatusCode);
    }

    [Fact]
    public async Task Rollback_MovesChampionBackAndServingAnswersFromThePreviousVersion()
    {
        var http = host.Http;
        var name = Azurite.UniqueModelName("rollback");
        await host.RegisterSampleAsync(name);
        Assert.Equal("succeeded", (string)(await host.UploadAndWaitAsync(name))["status"]!);
        var second = await host.UploadAndWaitAsync(name, new StringContent(ChurnDataGenerator.Generate(2500, seed: 21), Encoding.UTF8, "text/csv"));
        Assert.True((string)second["status"]! == "succeeded", $"second run {second}");
        Assert.Equal(2, (int)second["version"]!);

        var archiveChampion = await http.PostAsync($"/api/models/{name}/versions/2/archive", null);
        Assert.Equal(HttpStatusCode.Conflict, archiveChampion.StatusCode);

        // The audit trail names the person at the machine; a header claiming someone else changes nothing.
        using var forged = new HttpRequestMessage(HttpMethod.Post, $"/api/models/{name}/rollback") { Content = Json("""{"reason":"v2 misbehaves in production"}""") };
        forged.Headers.Add("X-MS-CLIENT-PRINCIPAL", Convert.ToBase64String(Encoding.UTF8.GetBytes("""{"auth_typ":"aad","claims":[{"typ":"name","val":"mallory"}],"name_typ":"name","role_typ":"roles"}""")));
        var rollback = await http.SendAsync(forged);
        Assert.Equal(HttpStatusCode.OK, rollback.StatusCode);
        var moved = (await rollback.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal((2, 1), ((int)moved["from"]!, (int)moved["to"]!));

        // Serving follows once its alias cache (5 s by default) expires.
        var version = await Eventually.WaitAsync(
            async () => (int)(await (await http.PostAsync($"/api/models/{name}/predict", Json($$"""{"instances":[{{HighRisk}}]}"""))).Content.ReadFromJsonAsync<JsonObject>())!["version"]!,
            served => served == 1);

        Assert.Equal(1, version);
        var audit = (await http.GetFromJsonAsync<JsonObject>($"/api/models/{name}/audit"))!["events"]!.AsArray();
        var last = audit[0]!;
        Assert.Equal(("rollback", "v2 misbehaves in production", 2, 1), ((string)last["action"]!, (string)last["reason"]!, (int)last["from"]!, (int)last["to"]!));
        Assert.Equal($"{Environment.UserName} (laptop)", (string)last["actor"]!);
        Assert.Contains(audit, e => (string)e!["action"]! == "version-registered" && (int)e["to"]! == 2);

        var archived = await http.PostAsync($"/api/models/{name}/versions/v2/archive", Json("""{"reason":"rolled back"}"""));
        Assert.Equal(HttpStatusCode.OK, archived.StatusCode);
        Assert.Equal("archived", (string)(await archived.Content.ReadFromJsonAsync<JsonObject>())!["status"]!);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsync($"/api/models/{name}/versions/two/archive", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.PostAsync($"/api/models/{name}/versions/9/archive", null)).StatusCode);

        // Version 0 cannot exist: every route says so the same way.
        foreach (var zero in new[] { $"/api/models/{name}/versions/0/predict", $"/api/models/{name}@0/predict", $"/api/models/{name}@v0/predict" })
        {
            var response = await http.PostAsync(zero, Json($$"""{"instances":[{{HighRisk}}]}"""));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("versions are numbered from 1", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync($"/api/models/{name}/versions/0")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsync($"/api/models/{name}/versions/v0/archive", null)).StatusCode);

        // References: name@alias and name@version in predict; a number, v<n>, latest or an alias in the version route.
        Assert.Equal(1, (int)(await http.GetFromJsonAsync<JsonObject>($"/api/models/{name}/versions/champion"))!["version"]!);
        Assert.Equal(1, (int)(await http.GetFromJsonAsync<JsonObject>($"/api/models/{name}/versions/latest"))!["version"]!);
        Assert.Equal("archived", (string)(await http.GetFromJsonAsync<JsonObject>($"/api/models/{name}/versions/v2"))!["status"]!);
        var pinned = await http.PostAsync($"/api/models/{name}@v1/predict", Json($$"""{"instances":[{{HighRisk}}]}"""));
        Assert.Equal(1, (int)(await pinned.Content.ReadFromJsonAsync<JsonObject>())!["version"]!);
        var byRoute = (await (await http.PostAsync($"/api/models/{name}/versions/v1/predict", Json($$"""{"instances":[{{HighRisk}}]}"""))).Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal((1, null), ((int)byRoute["version"]!, (string?)byRoute["alias"]));
        var byAlias = (await (await http.PostAsync($"/api/models/{name}/versions/champion/predict", Json($$"""{"instances":[{{HighRisk}}]}"""))).Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal((1, "champion"), ((int)byAlias["version"]!, (string?)byAlias["alias"]));
        Assert.Equal(HttpStatusCode.Conflict, (await http.PostAsync($"/api/models/{name}/versions/2/predict", Json($$"""{"instances":[{{HighRisk}}]}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.PostAsync($"/api/models/{name}/versions/7/predict", Json($$"""{"instances":[{{HighRisk}}]}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await http.PostAsync($"/api/models/{name}@2/predict", Json($$"""{"instances":[{{HighRisk}}]}"""))).StatusCode);
        var noAlias = await http.PostAsync($"/api/models/{name}@staging/predict", Json($$"""{"instances":[{{HighRisk}}]}"""));
        Assert.Equal(HttpStatusCode.NotFound, noAlias.StatusCode);
        Assert.Contains("no alias 'staging'", await noAlias.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Deleting: refused for the champion; the archived version loses its ONNX file but keeps its card and history.
        Assert.Equal(HttpStatusCode.Conflict, (await http.DeleteAsync($"/api/models/{name}/versions/1")).StatusCode);
        var delete = await http.SendAsync(new HttpRequestMessage(HttpMethod.Delete, $"/api/models/{name}/versions/2") { Content = Json("""{"reason":"bad data"}""") });
        Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        var gone = (await http.GetFromJsonAsync<JsonObject>($"/api/models/{name}/versions/2"))!;
        Assert.Equal("deleted", (string)gone["status"]!);
        Assert.NotNull(gone["card"]);
        Assert.Equal(HttpStatusCode.Conflict, (await http.PostAsync($"/api/models/{name}@v2/predict", Json($$"""{"instances":[{{HighRisk}}]}"""))).StatusCode);
        var events = (await http.GetFromJsonAsync<JsonObject>($"/api/models/{name}/audit"))!["events"]!.AsArray();
        Assert.Equal(("deleted", "bad data", 2), ((string)events[0]!["action"]!, (string)events[0]!["reason"]!, (int)events[0]!["from"]!));
    }

    [Fact]
    public async Task Cancel_RunningRun_EndsCancelledAndRegistersNothing()
    {
        var http = host.Http;
        var name = Azurite.UniqueModelName("cancel");
        await host.RegisterSampleAsync(name);
        var statusUrl = await host.UploadAsync(name);
        var runId = statusUrl.Split('/')[^1];

        var cancel = await http.PostAsync($"/api/runs/{runId}/cancel", Json("""{"reason":"uploaded the wrong file"}"""));
        var run = await host.WaitForRunAsync(statusUrl, TimeSpan.FromMinutes(4));

        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        Assert.True((string)run["status"]! == "cancelled", $"run ended {run}\n{host.Log}");
        Assert.Equal($"Cancelled by {Environment.UserName} (laptop): uploaded the wrong file", (string)run["error"]!);
        var versions = (await http.GetFromJsonAsync<JsonObject>($"/api/models/{name}/versions"))!;
        Assert.Empty(versions["versions"]!.AsArray());
    }

    [Fact]
    public async Task JobCallbackAndCancel_BadOrUnknown_GetClearErrors()
    {
        var http = host.Http;

        var unknown = await http.PostAsync("/api/runs/no-such-run/jobs/j/complete", Json("""{"runId":"no-such-run","jobId":"j","state":"succeeded"}"""));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("no-such-run", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var mismatch = await http.PostAsync("/api/runs/a/jobs/j/complete", Json("""{"runId":"b","jobId":"j","state":"succeeded"}"""));
        Assert.Equal(HttpStatusCode.BadRequest, mismatch.StatusCode);
        Assert.NotNull((await mismatch.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!["runId"]);

        var badState = await http.PostAsync("/api/runs/a/jobs/j/complete", Json("""{"runId":"a","jobId":"j","state":"great"}"""));
        Assert.Equal(HttpStatusCode.BadRequest, badState.StatusCode);

        var malformed = await http.PostAsync("/api/runs/a/jobs/j/complete", Json("""{"runId":"""));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await http.PostAsync("/api/runs/no-such-run/cancel", null)).StatusCode);
        var badReason = await http.PostAsync("/api/runs/no-such-run/cancel", Json("""{"reason":42}"""));
        Assert.Equal(HttpStatusCode.BadRequest, badReason.StatusCode);
        Assert.NotNull((await badReason.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!["reason"]);

        Assert.Equal(HttpStatusCode.NotFound, (await http.PostAsync("/api/runs/no-such-run/approve", Json("""{"reason":"ok"}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsync("/api/runs/no-such-run/reject", Json("""{"reason":""}"""))).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/health")).StatusCode);

        // The running host serves its OpenAPI document (its contents are checked in ApiDocumentationTests).
        var openApi = (await http.GetFromJsonAsync<JsonObject>("/api/openapi.json"))!;
        Assert.NotNull(openApi["paths"]!["/api/models/{name}/runs"]!["get"]);
    }

    [Fact]
    public async Task BadRequests_Get400NamingTheField_AndTheServerStaysHealthy()
    {
        var http = host.Http;
        var name = Azurite.UniqueModelName("bad");
        var spec = await SampleSpecAsync(name);
        spec["evaluation"]!["gate"]!["thresholds"]![0]!["min"] = 1.5;

        var invalidSpec = await http.PutAsync($"/api/models/{name}", Json(spec.ToJsonString()));
        Assert.Equal(HttpStatusCode.BadRequest, invalidSpec.StatusCode);
        var problems = (await invalidSpec.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.NotNull(problems["errors"]!["$.evaluation.gate.thresholds[0].min"]);

        var unknown = await http.PostAsync($"/api/models/{name}/predict", Json($$"""{"instances":[{{HighRisk}}]}"""));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);

        var malformed = await http.PostAsync($"/api/models/{name}/predict", Json("""{"instances":[{"""));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal("application/problem+json", malformed.Content.Headers.ContentType!.MediaType);

        var wrongType = await http.PostAsync($"/api/models/{name}/datasets", Json("{}"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, wrongType.StatusCode);

        spec["evaluation"]!["gate"]!["thresholds"]![0]!["min"] = 0.5;
        Assert.Equal(HttpStatusCode.Created, (await http.PutAsync($"/api/models/{name}", Json(spec.ToJsonString()))).StatusCode);
        var empty = await http.PostAsync($"/api/models/{name}/datasets", new ByteArrayContent([]) { Headers = { ContentType = new("text/csv") } });
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.Contains("empty", await empty.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var versions = (await http.GetFromJsonAsync<JsonObject>($"/api/models/{name}/versions"))!;
        Assert.Empty(versions["versions"]!.AsArray());

        var health = await http.GetAsync("/api/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    /// <summary>
    /// Every kind of bad prediction request gets its 4xx with the problem named, and the very
    /// next valid request is answered: the server stays healthy. The spec rejects unknown fields
    /// and unseen categories; non-finite numbers are refused by default.
    /// </summary>
    [Fact]
    public async Task EveryBadPredictRequest_GetsItsError_ThenAGoodRequestSucceeds()
    {
        var http = host.Http;
        var name = Azurite.UniqueModelName("val");
        var spec = await SampleSpecAsync(name);
        spec["serving"] = new JsonObject { ["unknownFeatures"] = "reject", ["unseenCategories"] = "reject" };
        Assert.Equal(HttpStatusCode.Created, (await http.PutAsync($"/api/models/{name}", Json(spec.ToJsonString()))).StatusCode);
        var run = await host.UploadAndWaitAsync(name);
        Assert.True((string)run["status"]! == "succeeded", $"run ended {run}\n{host.Log}");

        string With(string from, string to) => $$"""{"instances":[{{HighRisk.Replace(from, to, StringComparison.Ordinal)}}]}""";
        var predict = $"/api/models/{name}/predict";
        var tensors = """[{"name":"tenure_months","shape":[1],"datatype":"FP32","data":[2]},{"name":"monthly_charges","shape":[1],"datatype":"FP32","data":[105]},{"name":"support_calls","shape":[1],"datatype":"FP32","data":[5]},{"name":"contract","shape":[1],"datatype":"BYTES","data":["one-year"]},{"name":"internet_service","shape":[1],"datatype":"BYTES","data":["fiber"]},{"name":"payment_method","shape":[1],"datatype":"BYTES","data":["card"]}]""";
        var cases = new (string What, string Url, HttpContent Body, HttpStatusCode Status, string Expected)[]
        {
            ("missing feature", predict, Json(With("\"support_calls\":5,", "")), HttpStatusCode.BadRequest, "instances[0].support_calls"),
            ("unknown feature", predict, Json(With("\"support_calls\":5", "\"support_calls\":5,\"plan\":\"gold\"")), HttpStatusCode.BadRequest, "instances[0].plan"),
            ("wrong JSON type", predict, Json(With("\"tenure_months\":2", "\"tenure_months\":\"two\"")), HttpStatusCode.BadRequest, "Expected a number, got a string"),
            ("NaN", predict, Json(With("\"tenure_months\":2", "\"tenure_months\":\"NaN\"")), HttpStatusCode.BadRequest, "not a finite number"),
            ("Infinity", predict, Json(With("\"tenure_months\":2", "\"tenure_months\":1e39")), HttpStatusCode.BadRequest, "not a finite number"),
            ("unseen category", predict, Json(With("\"contract\":\"month-to-month\"", "\"contract\":\"weekly\"")), HttpStatusCode.BadRequest, "not one of the categories"),
            ("empty instances", predict, Json("""{"instances":[]}"""), HttpStatusCode.BadRequest, "empty"),
            ("too many rows", predict, Json($$"""{"instances":[{{string.Join(",", Enumerable.Repeat(HighRisk, 1001))}}]}"""), HttpStatusCode.BadRequest, "exceed the limit of 1000"),
            ("malformed JSON", predict, Json("""{"instances":[{"""), HttpStatusCode.BadRequest, "Malformed JSON"),
            ("wrong content type", predict, new StringContent(HighRisk, Encoding.UTF8, "text/plain"), HttpStatusCode.UnsupportedMediaType, "application/json"),
            ("body over the limit", predict, Json($$"""{"instances":[{{new string(' ', 5 * 1024 * 1024)}}]}"""), HttpStatusCode.RequestEntityTooLarge, "larger than"),
            ("unknown model", "/api/models/no-such-model/predict", Json($$"""{"instances":[{{HighRisk}}]}"""), HttpStatusCode.NotFound, "no-such-model"),
            ("unknown version", $"/api/models/{name}/versions/7/predict", Json($$"""{"instances":[{{HighRisk}}]}"""), HttpStatusCode.NotFound, "7"),
            ("OIP wrong shape", $"/api/v2/models/{name}/infer", Json($$"""{"inputs":{{tensors.Replace("\"shape\":[1],\"datatype\":\"FP32\",\"data\":[2]", "\"shape\":[2],\"datatype\":\"FP32\",\"data\":[2]", StringComparison.Ordinal)}}}"""), HttpStatusCode.BadRequest, "shape [2] but 1 value(s)"),
            ("OIP wrong datatype", $"/api/v2/models/{name}/infer", Json($$"""{"inputs":{{tensors.Replace("\"datatype\":\"BYTES\",\"data\":[\"card\"]", "\"datatype\":\"FP32\",\"data\":[1]", StringComparison.Ordinal)}}}"""), HttpStatusCode.BadRequest, "the categorical feature takes BYTES"),
        };

        foreach (var (what, url, body, status, expected) in cases)
        {
            var bad = await http.PostAsync(url, body);
            Assert.True(bad.StatusCode == status, $"{what}: {bad.StatusCode} {await bad.Content.ReadAsStringAsync()}");
            Assert.Contains(expected, await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);

            var good = await http.PostAsync(predict, Json($$"""{"instances":[{{LowRisk}}]}"""));
            Assert.True(good.StatusCode == HttpStatusCode.OK, $"after {what}: {good.StatusCode}");
        }

        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync($"/api/v2/models/{name}/infer", Json($$"""{"inputs":{{tensors}}}"""))).StatusCode);
    }

    [Fact]
    public async Task PredictWithMissingOrWrongField_Gets400_ThenAGoodRequestSucceeds()
    {
        var http = host.Http;
        var name = Azurite.UniqueModelName("val");
        await host.RegisterSampleAsync(name);
        var run = await host.UploadAndWaitAsync(name);
        Assert.True((string)run["status"]! == "succeeded", $"run ended {run}\n{host.Log}");

        var missing = await http.PostAsync($"/api/models/{name}/predict", Json($$"""{"instances":[{{HighRisk.Replace("\"support_calls\":5,", "", StringComparison.Ordinal)}}]}"""));
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        var missingErrors = (await missing.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject();
        Assert.Equal("instances[0].support_calls", Assert.Single(missingErrors).Key);

        var wrongType = await http.PostAsync($"/api/models/{name}/predict", Json($$"""{"instances":[{{HighRisk.Replace("\"tenure_months\":2", "\"tenure_months\":\"two\"", StringComparison.Ordinal)}}]}"""));
        Assert.Equal(HttpStatusCode.BadRequest, wrongType.StatusCode);
        var wrongErrors = (await wrongType.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject();
        Assert.Equal("instances[0].tenure_months", Assert.Single(wrongErrors).Key);

        var good = await http.PostAsync($"/api/models/{name}/predict", Json($$"""{"instances":[{{LowRisk}}]}"""));
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
        using var document = JsonDocument.Parse(await good.Content.ReadAsStringAsync());
        Assert.Equal(1, document.RootElement.GetProperty("predictions").GetArrayLength());
    }
}
