using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Scoring;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Serving;

/// <summary>
/// Serving when storage is away or a version's file is bad: loaded sessions answer on the last
/// resolved alias for a bounded staleness, then 503; an unservable version is remembered, recorded
/// in the registry, and the version served before keeps answering its alias.
/// </summary>
public sealed class ServingFaultTests : IAsyncLifetime
{
    private readonly FaultyAzurite azurite = new();
    private readonly string model = Azurite.UniqueModelName("fault");
    private readonly FakeTimeProvider clock = new(DateTimeOffset.UtcNow);
    private LifecycleStorage storage = null!;
    private ModelRegistry registry = null!;
    private ModelSpec spec = null!;
    private byte[] onnx = null!;
    private FeatureBatch batch = null!;

    public async Task InitializeAsync()
    {
        storage = azurite.CreateStorage();
        registry = new ModelRegistry(storage, TimeProvider.System);
        var trained = await ServedVersions.TrainSampleAsync(registry, model);
        (spec, onnx) = (trained.Spec, trained.Onnx);
        batch = LabeledBatch.ReadCsv(new StringReader(trained.TestCsv), spec, maxRows: 3).Features;
        await ServedVersions.RegisterAsync(storage, registry, spec, onnx);
        await ServedVersions.RegisterAsync(storage, registry, spec, onnx);
        await MoveChampionAsync(1);
    }

    public async Task DisposeAsync()
    {
        storage.Dispose();
        await azurite.DisposeAsync();
    }

    private Task MoveChampionAsync(int version) =>
        registry.SetAliasAsync(model, ReservedAliases.Champion, version, null, "test", null, CancellationToken.None);

    private ModelServer Server() => new(
        registry,
        new ModelArtifactStore(storage),
        Options.Create(new ServingOptions { AliasCacheSeconds = 5, MaxStaleSeconds = 60, RefreshTimeoutSeconds = 1, UnservableRetrySeconds = 30 }),
        clock);

    private Task TamperAsync(int version) =>
        storage.Blob(BlobPath.Parse($"{StorageNames.ModelsContainer}/{model}/{version}/model.onnx")).UploadAsync(new BinaryData(onnx.Reverse().ToArray()), overwrite: true);

    [Fact]
    public async Task StorageRefused_LoadedAliasAnswersStaleWithinTheBound_ThenStorageUnavailable()
    {
        using var server = Server();
        using (var first = await server.AcquireAsync(model, ReservedAliases.Champion, CancellationToken.None))
        {
            Assert.False(first.Stale);
        }

        azurite.Set(FaultMode.Refuse);
        clock.Advance(TimeSpan.FromSeconds(10));
        using (var stale = await server.AcquireAsync(model, ReservedAliases.Champion, CancellationToken.None))
        {
            Assert.True(stale.Stale);
            Assert.Equal(1, stale.Model.Version.Version);
            Assert.Equal(3, stale.Model.Onnx.Predict(batch).Count);
        }

        Assert.NotNull(server.StorageFailing);
        clock.Advance(TimeSpan.FromSeconds(60));
        var unavailable = await Assert.ThrowsAsync<StorageUnavailableException>(() => server.AcquireAsync(model, ReservedAliases.Champion, CancellationToken.None));
        Assert.Contains("Serving:MaxStaleSeconds", unavailable.Message, StringComparison.Ordinal);

        azurite.Set(FaultMode.Pass);
        using var back = await server.AcquireAsync(model, ReservedAliases.Champion, CancellationToken.None);
        Assert.False(back.Stale);
        Assert.Null(server.StorageFailing);
    }

    [Fact]
    public async Task TamperedVersion_AfterAnAliasMove_ThePreviousVersionKeepsAnswering_AndTheRegistryRecordsWhy()
    {
        using var server = Server();
        using (await server.AcquireAsync(model, ReservedAliases.Champion, CancellationToken.None))
        {
        }

        await TamperAsync(2);
        await MoveChampionAsync(2);
        clock.Advance(TimeSpan.FromSeconds(6));
        using (var standIn = await server.AcquireAsync(model, ReservedAliases.Champion, CancellationToken.None))
        {
            Assert.Equal(1, standIn.Model.Version.Version);
            Assert.Contains("version 2", standIn.StandingInFor, StringComparison.OrdinalIgnoreCase);
            Assert.Equal(3, standIn.Model.Onnx.Predict(batch).Count);
        }

        var pinned = await Assert.ThrowsAsync<ModelVersionUnservableException>(() => server.AcquireAsync(model, "v2", CancellationToken.None));
        Assert.Equal((model, 2), (pinned.Model, pinned.Version));
        Assert.Contains("SHA-256", pinned.Reason, StringComparison.Ordinal);
        Assert.Equal([(model, 2, pinned.Reason)], server.Unservable);
        var recorded = await Eventually.WaitAsync(() => registry.GetVersionAsync(model, 2, CancellationToken.None), v => v.ServingProblem is not null);
        Assert.Equal(pinned.Reason, recorded.ServingProblem);
        Assert.Equal(ModelVersionStatus.Ready, recorded.Status);
    }

    [Fact]
    public async Task TamperedChampion_OnAFreshHost_IsUnservable_RememberedForAWhile_ThenLoadsOnceRestored()
    {
        await TamperAsync(1);
        using var server = Server();
        var first = await Assert.ThrowsAsync<ModelVersionUnservableException>(() => server.AcquireAsync(model, ReservedAliases.Champion, CancellationToken.None));
        Assert.Equal(1, first.Version);
        var recorded = await Eventually.WaitAsync(() => registry.GetVersionAsync(model, 1, CancellationToken.None), v => v.ServingProblem is not null);
        Assert.Equal(first.Reason, recorded.ServingProblem);

        // Restored, but the failure is remembered: no request downloads and hashes the file again yet.
        await storage.Blob(BlobPath.Parse($"{StorageNames.ModelsContainer}/{model}/1/model.onnx")).UploadAsync(new BinaryData(onnx), overwrite: true);
        await Assert.ThrowsAsync<ModelVersionUnservableException>(() => server.AcquireAsync(model, ReservedAliases.Champion, CancellationToken.None));
        Assert.Empty(server.Loaded);

        clock.Advance(TimeSpan.FromSeconds(31));
        using var loaded = await server.AcquireAsync(model, ReservedAliases.Champion, CancellationToken.None);
        Assert.Equal(1, loaded.Model.Version.Version);
        var cleared = await Eventually.WaitAsync(() => registry.GetVersionAsync(model, 1, CancellationToken.None), v => v.ServingProblem is null);
        Assert.Null(cleared.ServingProblem);
    }
}
