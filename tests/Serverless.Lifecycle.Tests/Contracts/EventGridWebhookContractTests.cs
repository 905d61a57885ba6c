using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Serverless.Lifecycle.Api;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Monitoring;
using Serverless.Lifecycle.Observability;
using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;
using Serverless.Lifecycle.Tests.Api;
using Serverless.Lifecycle.Training;
using Serverless.Samples.Churn;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Contracts;

/// <summary>
/// The Event Grid webhook (POST /api/events, OPTIONS for the CloudEvents handshake) fed Azure's own
/// payloads, vendored in Contracts/ (README.md there says from where): the subscription validation
/// event of the Event Grid docs, and Microsoft.Storage.BlobCreated in the Event Grid schema and the
/// CloudEvents 1.0 schema, from the docs and from the Microsoft.Storage data-plane specification's
/// examples. A BlobCreated payload is used as Azure wrote it except for its container and blob name
/// (subject and data.url), which are made a dataset's: <c>datasets/{model}/file.csv</c>.
/// </summary>
public sealed class EventGridWebhookContractTests : IDisposable
{
    private const string Docs = "azure-docs/articles/event-grid/";
    private const string StorageExamples = "azure-rest-api-specs/specification/eventgrid/data-plane/Microsoft.Storage/stable/2018-01-01/examples/";

    private readonly LifecycleStorage storage = Azurite.CreateStorage();
    private readonly ModelRegistry registry;
    private readonly RecordingPipeline pipeline = new();
    private readonly EventsApi api;

    public EventGridWebhookContractTests()
    {
        var clock = TimeProvider.System;
        registry = new ModelRegistry(storage, clock);
        var datasets = new DatasetStore(storage, clock);
        var controller = new RunController(storage, registry, new TrainingDataPolicy(datasets, new PredictionLogReader(storage), new FeedbackStore(storage), storage, clock), new NoLifecycleEvents(), clock);
        api = new EventsApi(new NewDataTrigger(datasets, registry, controller, NullLogger<NewDataTrigger>.Instance));
    }

    public void Dispose() => storage.Dispose();

    [Fact]
    public async Task SubscriptionValidationEvent_FromTheDocs_IsAnsweredWithTheDocsValidationResponse()
    {
        var response = await PostAsync(Load(Docs + "end-point-validation-event-grid-events-schema/subscription-validation-event.json"), "application/json; charset=utf-8");

        Assert.Equal(200, response.Status);
        Assert.True(JsonNode.DeepEquals(Load(Docs + "end-point-validation-event-grid-events-schema/subscription-validation-response.json"), response.Json), response.ToString());
        Assert.Empty(pipeline.Started);
    }

    /// <summary>The docs' CloudEvents handshake: OPTIONS with WebHook-Request-Origin, answered with the origin allowed and POST in Allow.</summary>
    [Fact]
    public async Task CloudEventsValidationHandshake_FromTheDocs_AllowsTheOriginAndPost()
    {
        var request = ApiResponse.Request();
        request.Method = HttpMethods.Options;
        request.Headers["WebHook-Request-Origin"] = "eventemitter.example.com";

        var response = await ApiResponse.ExecuteAsync(EventsApi.Handshake(request), request);

        Assert.Equal(200, response.Status);
        Assert.Equal("eventemitter.example.com", response.Headers["WebHook-Allowed-Origin"].ToString());
        Assert.Equal("*", response.Headers["WebHook-Allowed-Rate"].ToString());
        Assert.Contains("POST", response.Headers.Allow.ToString().Split(',', StringSplitOptions.TrimEntries));
    }

    public static TheoryData<string, string, bool> BlobCreatedPayloads => new()
    {
        // file, content type (as Event Grid delivers each schema), whether to post one event rather than an array
        { Docs + "event-schema-blob-storage/blob-created.event-grid-schema.json", "application/json; charset=utf-8", false },
        { StorageExamples + "event-grid-schema/blob_created.json", "application/json; charset=utf-8", true },
        { Docs + "event-schema-blob-storage/blob-created.cloud-event-schema.json", "application/cloudevents-batch+json; charset=utf-8", false },
        { Docs + "event-schema-blob-storage/blob-created.cloud-event-schema.json", "application/cloudevents+json; charset=utf-8", true },
    };

    /// <summary>Azure's BlobCreated for a file under datasets/{model}/: recognized as that dataset, and its run started on it.</summary>
    [Theory]
    [MemberData(nameof(BlobCreatedPayloads))]
    public async Task BlobCreated_ForADatasetFile_StartsARunOnThatBlob(string file, string contentType, bool single)
    {
        var model = await RegisterWithDatasetAsync("file.csv");
        var payload = AboutBlob(Load(file), "datasets", $"{model}/file.csv");
        if (single && payload is JsonArray array)
        {
            payload = array.Single()!.DeepClone();
        }

        var response = await PostAsync(payload, contentType);

        Assert.Equal(200, response.Status);
        Assert.Equal((1, 0), (response.Json["accepted"]!.GetValue<int>(), response.Json["ignored"]!.GetValue<int>()));
        var run = Assert.Single(response.Json["runs"]!.AsArray())!;
        Assert.Equal(($"datasets/{model}/file.csv", TriggerOutcomes.Started), (run["dataset"]!.GetValue<string>(), run["outcome"]!.GetValue<string>()));
        var started = Assert.Single(pipeline.Started);
        Assert.Equal((model, $"datasets/{model}/file.csv", NewDataTrigger.Trigger), (started.Spec.Name, started.Dataset.Path, started.Trigger));
    }

    /// <summary>The docs' BlobCreated payloads as they are: a file in container test-container, not a dataset, acknowledged and ignored.</summary>
    [Theory]
    [InlineData(Docs + "event-schema-blob-storage/blob-created.event-grid-schema.json", "application/json; charset=utf-8")]
    [InlineData(Docs + "event-schema-blob-storage/blob-created.cloud-event-schema.json", "application/cloudevents-batch+json; charset=utf-8")]
    public async Task BlobCreated_AsTheDocsWroteIt_OutsideDatasets_IsAcknowledgedAndIgnored(string file, string contentType)
    {
        var response = await PostAsync(Load(file), contentType);

        Assert.Equal(200, response.Status);
        Assert.Equal((0, 1), (response.Json["accepted"]!.GetValue<int>(), response.Json["ignored"]!.GetValue<int>()));
        Assert.Empty(pipeline.Started);
    }

    /// <summary>
    /// The Storage specification's CloudEvents example spells the attribute "specVersion"; CloudEvents
    /// 1.0 names it "specversion" (the docs' payload, which Event Grid delivers). It is refused as not
    /// a CloudEvent rather than guessed at, and starts nothing.
    /// </summary>
    [Fact]
    public async Task StorageSpecificationsCloudEventsExample_WithSpecVersionMisspelled_IsRefusedAsNotACloudEvent()
    {
        var model = await RegisterWithDatasetAsync("file.csv");
        var payload = AboutBlob(Load(StorageExamples + "cloud-events-schema/blob_created.json"), "datasets", $"{model}/file.csv");
        Assert.NotNull(payload["specVersion"]);

        var response = await PostAsync(payload, "application/cloudevents+json; charset=utf-8");

        Assert.Equal(400, response.Status);
        Assert.Contains("Not Event Grid or CloudEvents events", response.ToString(), StringComparison.Ordinal);
        Assert.Empty(pipeline.Started);
    }

    private static JsonNode Load(string path) => SwaggerContract.Load(path);

    /// <summary>The payload's events made about <paramref name="container"/>/<paramref name="blob"/>: subject and data.url, nothing else.</summary>
    private static JsonNode AboutBlob(JsonNode payload, string container, string blob)
    {
        foreach (var e in payload is JsonArray events ? events.OfType<JsonObject>() : [payload.AsObject()])
        {
            e["subject"] = $"/blobServices/default/containers/{container}/blobs/{blob}";
            var url = new Uri(e["data"]!["url"]!.GetValue<string>());
            e["data"]!["url"] = new Uri(url, $"/{container}/{blob}").ToString();
        }

        return payload;
    }

    /// <summary>A model of its own, registered, with <paramref name="file"/> written to datasets/{model}/ straight to storage.</summary>
    private async Task<string> RegisterWithDatasetAsync(string file)
    {
        var spec = ModelSpecValidator.Parse(File.ReadAllText(RepoPaths.SampleSpec)).Spec! with { Name = Azurite.UniqueModelName("eg") };
        await registry.PutSpecAsync(spec, "test", CancellationToken.None);
        await storage.EnsureCreatedAsync(CancellationToken.None);
        await storage.Blob(new BlobPath(StorageNames.DatasetsContainer, $"{spec.Name}/{file}")).UploadAsync(BinaryData.FromString(ChurnDataGenerator.Generate(500, seed: 19)), overwrite: true);
        return spec.Name;
    }

    private async Task<ApiResponse> PostAsync(JsonNode payload, string contentType)
    {
        var request = ApiResponse.Request();
        request.Method = HttpMethods.Post;
        request.ContentType = contentType;
        request.Headers["aeg-event-type"] = payload.ToJsonString().Contains("SubscriptionValidationEvent", StringComparison.Ordinal) ? "SubscriptionValidation" : "Notification";
        request.Body = new MemoryStream(Encoding.UTF8.GetBytes(payload.ToJsonString()));
        return await ApiResponse.ExecuteAsync(await api.PostAsync(request, pipeline, CancellationToken.None), request);
    }

    /// <summary>The engine, recording the runs it is asked to start.</summary>
    private sealed class RecordingPipeline : IPipelineClient
    {
        public ConcurrentQueue<TrainingRunRequest> Started { get; } = new();

        public Task<bool> StartRunAsync(TrainingRunRequest request, CancellationToken cancellationToken)
        {
            Started.Enqueue(request);
            return Task.FromResult(true);
        }

        public Task<RunStatus?> GetRunAsync(string runId, CancellationToken cancellationToken) => Task.FromResult<RunStatus?>(null);

        public Task<RunSignalOutcome> NotifyJobCompletedAsync(TrainingCompletedEvent completion, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<RunSignalOutcome> CancelRunAsync(string runId, CancelRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<RunSignalOutcome> DecideRunAsync(string runId, ApprovalDecision decision, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
