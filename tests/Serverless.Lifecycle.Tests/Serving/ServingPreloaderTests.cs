using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Rollouts;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Serving;

/// <summary>
/// The background preload at host start on a registry in Azurite: the champion and a running
/// rollout's challenger are loaded before any request; a model without a champion, a version that
/// will not load and storage that does not answer are passed over without stopping anything.
/// </summary>
public sealed class ServingPreloaderTests : IAsyncLifetime
{
    private readonly LifecycleStorage storage = Azurite.CreateStorage();
    private readonly string model = Azurite.UniqueModelName("pre");
    private ModelRegistry registry = null!;
    private ModelSpec spec = null!;
    private byte[] onnx = null!;

    public async Task InitializeAsync()
    {
        registry = new ModelRegistry(storage, TimeProvider.System);
        (spec, onnx, _) = await ServedVersions.TrainSampleAsync(registry, model);
    }

    public Task DisposeAsync()
    {
        storage.Dispose();
        return Task.CompletedTask;
    }

    private static async Task RunAsync(ModelServer server, ModelRegistry registry, LifecycleStorage storage, ServingOptions options)
    {
        var log = new PredictionLog(storage, Options.Create(new PredictionLogOptions()), TimeProvider.System, NullLogger<PredictionLog>.Instance);
        var predictions = new PredictionService(server, new RolloutStore(storage), log, Options.Create(options), TimeProvider.System, NullLogger<PredictionService>.Instance);
        using var preloader = new ServingPreloader(registry, predictions, Options.Create(options), NullLogger<ServingPreloader>.Instance);
        await preloader.StartAsync(CancellationToken.None);
        await preloader.ExecuteTask!;
        await preloader.StopAsync(CancellationToken.None);
    }

    private ModelServer Server(ServingOptions options) => new(registry, new ModelArtifactStore(storage), Options.Create(options), TimeProvider.System);

    [Fact]
    public async Task AtStart_TheChampionAndARunningRolloutsChallenger_AreLoadedBeforeAnyRequest_AndAModelWithoutOneIsPassedOver()
    {
        var champion = await ServedVersions.RegisterAsync(storage, registry, spec, onnx);
        var challenger = await ServedVersions.RegisterAsync(storage, registry, spec, onnx);
        await ServedVersions.RegisterAsync(storage, registry, spec, onnx);
        await registry.SetAliasAsync(model, ReservedAliases.Champion, champion.Version, null, "test", null, CancellationToken.None);
        var now = DateTimeOffset.UtcNow;
        await new RolloutStore(storage).SaveAsync(
            new RolloutState(model, "run", RolloutStrategies.Canary, challenger.Version, champion.Version, 0, 0.1, RolloutStatuses.Running, null, now, now, []), CancellationToken.None);
        var noChampion = Azurite.UniqueModelName("pre-none");
        await registry.PutSpecAsync(spec with { Name = noChampion }, "test", CancellationToken.None);
        var options = new ServingOptions { PreloadModels = { noChampion, model } };
        using var server = Server(options);

        await RunAsync(server, registry, storage, options);

        // Version 3 has no reference: it stays on the shelf.
        Assert.Equal([(model, champion.Version), (model, challenger.Version)], server.Loaded);
        Assert.NotNull(server.LoadedModels[0].Load);
    }

    [Fact]
    public async Task Off_NothingIsLoaded()
    {
        var champion = await ServedVersions.RegisterAsync(storage, registry, spec, onnx);
        await registry.SetAliasAsync(model, ReservedAliases.Champion, champion.Version, null, "test", null, CancellationToken.None);
        var options = new ServingOptions { Preload = false, PreloadModels = { model } };
        using var server = Server(options);

        await RunAsync(server, registry, storage, options);

        Assert.Empty(server.Loaded);
    }

    [Fact]
    public async Task AChampionWhoseFileIsBad_IsLeftToTheRequestPath_AndTheNextModelStillLoads()
    {
        var bad = await ServedVersions.RegisterAsync(storage, registry, spec, onnx);
        await registry.SetAliasAsync(model, ReservedAliases.Champion, bad.Version, null, "test", null, CancellationToken.None);
        await storage.Blob(BlobPath.Parse(bad.ModelPath)).UploadAsync(new BinaryData(onnx.Reverse().ToArray()), overwrite: true);
        var good = Azurite.UniqueModelName("pre-good");
        var goodSpec = spec with { Name = good };
        await registry.PutSpecAsync(goodSpec, "test", CancellationToken.None);
        var version = await ServedVersions.RegisterAsync(storage, registry, goodSpec, onnx);
        await registry.SetAliasAsync(good, ReservedAliases.Champion, version.Version, null, "test", null, CancellationToken.None);
        var options = new ServingOptions { PreloadModels = { model, good } };
        using var server = Server(options);

        await RunAsync(server, registry, storage, options);

        Assert.Equal([(good, version.Version)], server.Loaded);
        Assert.Contains(server.Unservable, u => u.Model == model && u.Version == bad.Version);
    }

    [Fact]
    public async Task StorageThatRefuses_EndsThePreload_WithoutAnError()
    {
        await using var azurite = new FaultyAzurite();
        using var away = azurite.CreateStorage();
        var refusing = new ModelRegistry(away, TimeProvider.System);
        var champion = await ServedVersions.RegisterAsync(away, refusing, spec, onnx);
        await refusing.SetAliasAsync(model, ReservedAliases.Champion, champion.Version, null, "test", null, CancellationToken.None);
        var options = new ServingOptions { PreloadModels = { model } };
        using var server = new ModelServer(refusing, new ModelArtifactStore(away), Options.Create(options), TimeProvider.System);
        azurite.Set(FaultMode.Refuse);

        await RunAsync(server, refusing, away, options);

        Assert.Empty(server.Loaded);
    }
}
