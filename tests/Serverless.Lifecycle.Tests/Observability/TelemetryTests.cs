using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Reflection;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Api;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Observability;
using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Pipeline.Activities;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Rollouts;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Storage;
using Serverless.Lifecycle.Tests.Serving;
using Serverless.Lifecycle.Training;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Observability;

/// <summary>The metrics as exported (OpenTelemetry's in-memory exporter): names, dimensions and values.</summary>
public sealed class TelemetryTests
{
    [Fact]
    public void EveryInstrument_IsDeclaredWithItsDimensions_AndEveryDeclarationHasAnInstrument()
    {
        var instruments = typeof(Telemetry).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => f.GetValue(null)).OfType<Instrument>().Select(i => i.Name).ToList();

        Assert.Equal(TelemetryNames.Dimensions.Keys.Order(StringComparer.Ordinal), instruments.Order(StringComparer.Ordinal));
        Assert.All(instruments, name => Assert.StartsWith("lifecycle.", name, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Predictions_AreCountedWithTheirLatency_AndARefusedRequestIsAnError()
    {
        using var capture = new MetricCapture();
        using var storage = Azurite.CreateStorage();
        var model = Azurite.UniqueModelName("otel");
        var registry = new ModelRegistry(storage, TimeProvider.System);
        var sample = await ServedVersions.TrainSampleAsync(registry, model);
        var version = await ServedVersions.RegisterAsync(storage, registry, sample.Spec, sample.Onnx);
        await registry.SetAliasAsync(model, ReservedAliases.Champion, version.Version, null, "test", null, CancellationToken.None);
        var options = Options.Create(new ServingOptions { AliasCacheSeconds = 0 });
        var log = new PredictionLog(storage, Options.Create(new PredictionLogOptions()), TimeProvider.System, NullLogger<PredictionLog>.Instance);
        using var server = new ModelServer(registry, new ModelArtifactStore(storage), options, TimeProvider.System);
        var api = new PredictionApi(new PredictionService(server, new RolloutStore(storage), log, options, TimeProvider.System, NullLogger<PredictionService>.Instance), registry, options, TimeProvider.System);
        const string Row = """{"tenure_months":2,"monthly_charges":105,"support_calls":5,"contract":"month-to-month","internet_service":"fiber","payment_method":"electronic-check"}""";

        async Task<int> PredictAsync(string body)
        {
            var context = new DefaultHttpContext();
            context.Request.ContentType = "application/json";
            context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(body));
            var result = await api.PredictAsync(context.Request, model, CancellationToken.None);
            return (result as IStatusCodeHttpResult)?.StatusCode ?? StatusCodes.Status200OK;
        }

        Assert.Equal(StatusCodes.Status200OK, await PredictAsync($$"""{"instances":[{{Row}},{{Row}},{{Row}}]}"""));
        Assert.Equal(StatusCodes.Status200OK, await PredictAsync($$"""{"instances":[{{Row}}]}"""));
        Assert.Equal(StatusCodes.Status400BadRequest, await PredictAsync("""{"instances":[{"tenure_months":"two"}]}"""));

        var rows = Assert.Single(capture.Points(TelemetryNames.Predictions, model));
        Assert.Equal(4, rows.Sum);
        Assert.Equal((version.Version, "champion", true), ((int)rows.Tags["version"]!, rows.Tags["alias"], rows.Tags["served"]));
        var latency = Assert.Single(capture.Points(TelemetryNames.PredictionDuration, model));
        Assert.Equal(2, latency.Count);
        Assert.True(latency.Sum > 0);
        var error = Assert.Single(capture.Points(TelemetryNames.PredictionErrors, model));
        Assert.Equal((1.0, TelemetryNames.ErrorKinds.BadRequest), (error.Sum, error.Tags["kind"]));
        MetricCapture.AssertDeclaredDimensions(TelemetryNames.Predictions, [rows]);
        MetricCapture.AssertDeclaredDimensions(TelemetryNames.PredictionDuration, [latency]);
        MetricCapture.AssertDeclaredDimensions(TelemetryNames.PredictionErrors, [error]);

        // The alias move is a registry event.
        var events = capture.Points(TelemetryNames.RegistryEvents, model);
        Assert.Contains(events, e => (string?)e.Tags["action"] == AuditActions.AliasMoved && e.Sum == 1);
        Assert.Contains(events, e => (string?)e.Tags["action"] == AuditActions.VersionRegistered && e.Sum == 1);
        MetricCapture.AssertDeclaredDimensions(TelemetryNames.RegistryEvents, events);
    }

    [Theory]
    [InlineData(null, null, false)]
    [InlineData(LifecycleTelemetry.ConsoleSetting, "true", true)]
    [InlineData(LifecycleTelemetry.ConsoleSetting, "false", false)]
    [InlineData(LifecycleTelemetry.OtlpEndpointSetting, "http://127.0.0.1:9", true)]
    public void Exporters_AreRegisteredOnlyWhenConfigured(string? setting, string? value, bool registered)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(setting is null ? [] : [KeyValuePair.Create(setting, value)])
            .Build();
        var services = new ServiceCollection().AddLogging();
        var hostCalled = false;

        services.AddLifecycleTelemetry(configuration, "test", _ => hostCalled = true);
        using var provider = services.BuildServiceProvider();

        Assert.Equal(registered, hostCalled);
        Assert.Equal(registered, provider.GetService(typeof(OpenTelemetry.Metrics.MeterProvider)) is not null);
        Assert.Equal(registered, provider.GetService(typeof(OpenTelemetry.Trace.TracerProvider)) is not null);
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("", null)]
    [InlineData("Authorization=AAD", "system")]
    [InlineData("Authorization=AAD;ClientId=11111111-2222-3333-4444-555555555555", "user")]
    [InlineData(" authorization = aad ; clientid = 11111111-2222-3333-4444-555555555555 ", "user")]
    public void EntraCredential_FollowsTheAuthenticationString(string? authentication, string? expected)
    {
        var credential = LifecycleTelemetry.EntraCredential(authentication);

        Assert.Equal(expected is null, credential is null);
        if (expected is not null)
        {
            Assert.IsType<Azure.Identity.ManagedIdentityCredential>(credential);
        }
    }

    [Theory]
    [InlineData("Authorization=Key")]
    [InlineData("ClientId=abc")]
    public void EntraCredential_OtherOrNoAuthorization_IsRefusedByName(string authentication)
    {
        var error = Assert.Throws<InvalidOperationException>(() => LifecycleTelemetry.EntraCredential(authentication));

        Assert.Contains(LifecycleTelemetry.AuthenticationStringSetting, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/", true)]
    [InlineData("garbage", false)]
    [InlineData("IngestionEndpoint=https://example.com/", false)]
    [InlineData("InstrumentationKey=", false)]
    public void ApplicationInsightsConnectionString_NeedsAnInstrumentationKey(string connectionString, bool accepted)
    {
        var error = Record.Exception(() => LifecycleTelemetry.CheckConnectionString(connectionString));

        Assert.Equal(accepted, error is null);
        if (error is not null)
        {
            Assert.Contains(LifecycleTelemetry.ConnectionStringSetting, error.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("http://localhost:4317", true)]
    [InlineData("https://collector.example.com", true)]
    [InlineData("localhost:4317", false)]
    [InlineData("notaurl", false)]
    [InlineData("ftp://collector", false)]
    public void OtlpEndpoint_MustBeAnAbsoluteHttpUrl(string endpoint, bool accepted)
    {
        if (accepted)
        {
            Assert.Equal(new Uri(endpoint), LifecycleTelemetry.OtlpEndpoint(endpoint));
        }
        else
        {
            Assert.Contains(LifecycleTelemetry.OtlpEndpointSetting, Assert.Throws<InvalidOperationException>(() => LifecycleTelemetry.OtlpEndpoint(endpoint)).Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ATrainingJob_CarriesTheTraceOfTheRunThatStartedIt_AndTheTrainerJoinsIt()
    {
        var runId = Azurite.UniqueModelName("trace");
        var spans = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == TelemetryNames.ActivitySource,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if ((string?)activity.GetTagItem("run") == runId)
                {
                    lock (spans)
                    {
                        spans.Add(activity);
                    }
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        using var storage = Azurite.CreateStorage();
        await storage.EnsureCreatedAsync(CancellationToken.None);
        using var data = new Training.TrainingData(rows: 600);
        var split = new DatasetSplit($"runs/{runId}/split/train.csv", $"runs/{runId}/split/validation.csv", $"runs/{runId}/split/test.csv", new SplitCounts(1, 1, 1));
        await storage.Blob(BlobPath.Parse(split.TrainPath)).UploadAsync(data.Train, overwrite: true);
        await storage.Blob(BlobPath.Parse(split.ValidationPath)).UploadAsync(data.Validation, overwrite: true);
        var dataset = new DatasetVersion("churn", "datasets/churn/x.csv", "\"0x1\"", new string('0', 64), 1, DateTimeOffset.UnixEpoch);
        var job = new TrainingJobInput(runId, $"{runId}-train", data.Spec, dataset, split, data.Spec.Trainer.Algorithm, data.Spec.Trainer.Hyperparameters, DateTime.UtcNow.AddHours(1));
        var jobs = new TrainingJobStore(storage);
        var dispatcher = new Training.RecordingDispatcher();

        using (var run = new Activity("run").Start())
        {
            await new StartTrainingJobActivity(jobs, dispatcher, Options.Create(new TrainingOptions()))
                .RunAsync(null!, new StartTrainingInput(job, 1));
            var started = Assert.Single(spans);
            Assert.Equal((run.TraceId, run.SpanId), (started.TraceId, started.ParentSpanId));
            Assert.Equal(started.Id, Assert.Single(dispatcher.Started).TraceParent);
        }

        var result = await new Trainer.TrainingJobRunner(storage, jobs).RunAsync(TrainingJobPaths.Spec(runId, job.JobId), CancellationToken.None);

        Assert.Equal(TrainingJobState.Succeeded, result.State);
        var train = Assert.Single(spans, s => s.OperationName == TelemetryNames.Spans.Train);
        var start = Assert.Single(spans, s => s.OperationName == TelemetryNames.Spans.StartTrainingJob);
        Assert.All(spans, s => Assert.Equal(TelemetryNames.SpanTags[s.OperationName].Order(StringComparer.Ordinal), s.Tags.Select(t => t.Key).Order(StringComparer.Ordinal)));
        Assert.Equal((start.TraceId, start.SpanId), (train.TraceId, train.ParentSpanId));
    }
}
