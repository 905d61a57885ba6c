using Microsoft.Extensions.Options;
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
/// Sessions and alias moves on a registry in Azurite with two real versions of a trained model:
/// one session per version, kept while a request holds it, disposed after the last alias left it.
/// </summary>
public sealed class ModelServerTests : IAsyncLifetime
{
    private readonly LifecycleStorage storage = Azurite.CreateStorage();
    private readonly string model = Azurite.UniqueModelName("srv");
    private ModelRegistry registry = null!;
    private ModelSpec spec = null!;
    private FeatureBatch batch = null!;

    public async Task InitializeAsync()
    {
        registry = new ModelRegistry(storage, TimeProvider.System);
        var trained = await ServedVersions.TrainSampleAsync(registry, model);
        spec = trained.Spec;
        batch = LabeledBatch.ReadCsv(new StringReader(trained.TestCsv), spec, maxRows: 5).Features;
        for (var i = 1; i <= 2; i++)
        {
            await RegisterAsync(trained.Onnx);
        }

        await MoveChampionAsync(1);
    }

    public Task DisposeAsync()
    {
        storage.Dispose();
        return Task.CompletedTask;
    }

    private Task RegisterAsync(byte[] onnx) => ServedVersions.RegisterAsync(storage, registry, spec, onnx);

    private Task MoveChampionAsync(int version) =>
        registry.SetAliasAsync(model, ReservedAliases.Champion, version, null, "test", null, CancellationToken.None);

    private ModelServer Server(int aliasCacheSeconds = 0, int idleSeconds = 0) => new(
        registry,
        new ModelArtifactStore(storage),
        Options.Create(new ServingOptions { AliasCacheSeconds = aliasCacheSeconds, IdleSessionSeconds = idleSeconds }),
        TimeProvider.System);

    [Fact]
    public async Task AliasMove_KeepsTheOldSessionForTheRequestHoldingIt_ThenDisposesIt()
    {
        using var server = Server();
        var first = await server.AcquireAsync(model, ReservedAliases.Champion, CancellationToken.None);
        using (var again = await server.AcquireAsync(model, ReservedAliases.Champion, CancellationToken.None))
        {
            Assert.Same(first.Model.Onnx, again.Model.Onnx);
        }

        await MoveChampionAsync(2);
        using var second = await server.AcquireAsync(model, ReservedAliases.Champion, CancellationToken.None);

        // Version 1 has no alias left, but the request that holds it still scores.
        Assert.Equal((1, 2), (first.Model.Version.Version, second.Model.Version.Version));
        Assert.Equal([(model, 2)], server.Loaded);
        Assert.Equal(5, first.Model.Onnx.Predict(batch).Count);
        Assert.False(first.Model.Onnx.IsDisposed);

        first.Dispose();
        Assert.True(first.Model.Onnx.IsDisposed);
        Assert.False(second.Model.Onnx.IsDisposed);
    }

    [Fact]
    public async Task PinnedVersion_KeepsItsSessionWhileItIsUsed()
    {
        using var server = Server(idleSeconds: 3600);
        using (await server.AcquireAsync(model, "v1", CancellationToken.None))
        {
        }

        await MoveChampionAsync(2);
        using var champion = await server.AcquireAsync(model, ReservedAliases.Champion, CancellationToken.None);

        Assert.Equal([(model, 1), (model, 2)], server.Loaded);
    }

    [Fact]
    public async Task AliasMovesUnderLoad_FailNoRequest()
    {
        using var server = Server();
        using var stop = new CancellationTokenSource();
        var failures = new List<Exception>();
        var served = new int[3];
        var workers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var lease = await server.AcquireAsync(model, ReservedAliases.Champion, CancellationToken.None);
                    Assert.Equal(5, lease.Model.Onnx.Predict(batch).Count);
                    Interlocked.Increment(ref served[lease.Model.Version.Version]);
                }
                catch (Exception ex)
                {
                    lock (failures)
                    {
                        failures.Add(ex);
                    }
                }
            }
        })).ToList();

        for (var move = 0; move < 10; move++)
        {
            await Task.Delay(100);
            await MoveChampionAsync(move % 2 == 0 ? 2 : 1);
        }

        await Task.Delay(100);
        await stop.CancelAsync();
        await Task.WhenAll(workers);

        Assert.Empty(failures);
        Assert.True(served[1] > 0 && served[2] > 0, $"served v1 {served[1]}, v2 {served[2]}");

        // The champion ends on version 1; once it is served again, that is the one session left. (With no
        // idle time, a session nobody asked for since a later request began may already be gone, so the
        // count right after the load depends on how the workers were scheduled.)
        using (await server.AcquireAsync(model, ReservedAliases.Champion, CancellationToken.None))
        {
            Assert.Equal([(model, 1)], server.Loaded);
        }
    }
}
