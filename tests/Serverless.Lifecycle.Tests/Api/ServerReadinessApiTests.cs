using Azure.Core;
using Azure.Core.Pipeline;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Serverless.Lifecycle.Api;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Rollouts;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;
using Serverless.Lifecycle.Tests.Serving;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Api;

/// <summary>
/// GET v2/health/ready, the anonymous readiness probe: one small storage read at most every few
/// seconds whatever the registry holds, and only kinds of problem in its answer, never an exception's text.
/// </summary>
public sealed class ServerReadinessApiTests : IAsyncLifetime
{
    private readonly FaultyAzurite azurite = new();
    private readonly StorageRequestLog requests = new();
    private readonly FakeTimeProvider clock = new(DateTimeOffset.UtcNow);
    private readonly RecordingLogger<OpenInferenceApi> log = new();
    private readonly IOptions<ServingOptions> options = Options.Create(new ServingOptions { AliasCacheSeconds = 0, MaxStaleSeconds = 600 });
    private LifecycleStorage storage = null!;
    private ModelRegistry registry = null!;
    private ModelServer server = null!;
    private PredictionLog predictionLog = null!;

    public async Task InitializeAsync()
    {
        storage = new LifecycleStorage(Options.Create(azurite.Options), requests);
        await storage.EnsureCreatedAsync();
        registry = new ModelRegistry(storage, TimeProvider.System);
        server = new ModelServer(registry, new ModelArtifactStore(storage), options, clock);
        predictionLog = new PredictionLog(storage, Options.Create(new PredictionLogOptions()), clock, NullLogger<PredictionLog>.Instance);
    }

    public async Task DisposeAsync()
    {
        server.Dispose();
        predictionLog.Dispose();
        storage.Dispose();
        await azurite.DisposeAsync();
    }

    private OpenInferenceApi Api(LifecycleStorage? probed = null) => new(
        server,
        new PredictionService(server, new RolloutStore(storage), predictionLog, options, clock, NullLogger<PredictionService>.Instance),
        registry,
        probed ?? storage,
        predictionLog,
        options,
        clock,
        log);

    private static async Task<ApiResponse> ReadyAsync(OpenInferenceApi api) => await ApiResponse.ExecuteAsync(await api.ServerReadyAsync(CancellationToken.None));

    private async Task RegisterModelsAsync(int count)
    {
        var spec = ModelSpecValidator.Parse(await File.ReadAllTextAsync(RepoPaths.SampleSpec)).Spec!;
        for (var i = 0; i < count; i++)
        {
            await registry.PutSpecAsync(spec with { Name = Azurite.UniqueModelName("ready") }, "test", CancellationToken.None);
        }
    }

    [Fact]
    public async Task Ready_ReadsStorageOnce_NotTheRegistry_HoweverManyModelsThereAre()
    {
        var api = Api();
        await RegisterModelsAsync(1);
        requests.Reset();
        var first = await ReadyAsync(api);
        var fewModels = requests.Reset();

        await RegisterModelsAsync(5);
        clock.Advance(OpenInferenceApi.ReadinessProbeInterval);
        requests.Reset();
        var second = await ReadyAsync(api);
        var moreModels = requests.Reset();

        Assert.Equal((200, 200), (first.Status, second.Status));
        Assert.True((bool)second.Json["ready"]!);
        Assert.False((bool)second.Json["degraded"]!);
        var read = Assert.Single(fewModels);
        Assert.Equal([read], moreModels);
        Assert.DoesNotContain(StorageNames.SpecsTable, read, StringComparison.Ordinal);
        Assert.DoesNotContain(StorageNames.VersionsTable, read, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ready_CalledAgainWithinTheProbeInterval_AnswersFromTheLastProbe_ThenProbesAgain()
    {
        var api = Api();
        await ReadyAsync(api);
        requests.Reset();

        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => ReadyAsync(api)));
        clock.Advance(OpenInferenceApi.ReadinessProbeInterval - TimeSpan.FromMilliseconds(1));
        await ReadyAsync(api);
        var withinTheInterval = requests.Reset();
        clock.Advance(TimeSpan.FromMilliseconds(1));
        await ReadyAsync(api);

        Assert.Empty(withinTheInterval);
        Assert.Single(requests.Reset());
    }

    [Fact]
    public async Task StorageRefusingTheHost_NothingLoaded_Is503_NamingOnlyTheKindOfProblem_WhileTheLogHasTheExceptionsText()
    {
        // Storage answers at once, refusing the host's credentials: the probe fails with the SDK's exception and its message.
        var wrongKey = Convert.ToBase64String(new byte[64]);
        var refusing = new StorageOptions { ConnectionString = System.Text.RegularExpressions.Regex.Replace(Azurite.ConnectionString, "AccountKey=[^;]+", "AccountKey=" + wrongKey) };
        using var refused = new LifecycleStorage(Options.Create(refusing));
        var detail = await refused.ProbeAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.NotNull(detail);
        Assert.DoesNotContain("did not answer", detail, StringComparison.Ordinal);

        var response = await ReadyAsync(Api(refused));

        Assert.Equal(503, response.Status);
        Assert.False((bool)response.Json["ready"]!);
        Assert.Equal(["storage is unreachable"], response.Json["problems"]!.AsArray().Select(p => (string)p!));
        AssertNoExceptionText(response, detail);
        Assert.Contains(log.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning && e.Message.Contains(detail, StringComparison.Ordinal));
    }

    [Fact]
    public async Task StorageUnreachable_WithALoadedModel_Is200Degraded_NamingOnlyTheKindOfProblem()
    {
        var registered = new ModelRegistry(storage, TimeProvider.System);
        var sample = await ServedVersions.TrainSampleAsync(registered, Azurite.UniqueModelName("ready"));
        var version = await ServedVersions.RegisterAsync(storage, registered, sample.Spec, sample.Onnx);
        await registered.SetAliasAsync(version.Model, ReservedAliases.Champion, version.Version, null, "test", null, CancellationToken.None);
        using (await server.AcquireAsync(version.Model, ReservedAliases.Champion, CancellationToken.None))
        {
        }

        var api = Api();
        Assert.Equal(200, (await ReadyAsync(api)).Status);
        azurite.Set(FaultMode.Refuse);
        clock.Advance(OpenInferenceApi.ReadinessProbeInterval);

        var response = await ReadyAsync(api);

        var logged = Assert.Single(log.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning).Message;
        var detail = logged[(logged.IndexOf('(') + 1)..logged.LastIndexOf(')')];
        Assert.Equal(200, response.Status);
        Assert.True((bool)response.Json["ready"]!);
        Assert.True((bool)response.Json["degraded"]!);
        Assert.Equal(["storage is unreachable; loaded models answer from what this host read last"], response.Json["problems"]!.AsArray().Select(p => (string)p!));
        AssertNoExceptionText(response, detail);
    }

    private static void AssertNoExceptionText(ApiResponse response, string detail)
    {
        var body = System.Text.Encoding.UTF8.GetString(response.Body);
        Assert.DoesNotContain(detail, body, StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.1", body, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", body, StringComparison.Ordinal);
        Assert.Equal(["degraded", "problems", "ready"], response.Json.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
    }
}
