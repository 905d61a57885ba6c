using System.Text;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Registry;

public sealed class ModelRegistryTests
{
    private readonly LifecycleStorage storage = Azurite.CreateStorage();
    private readonly ModelRegistry registry;
    private readonly ModelArtifactStore artifacts;
    private readonly string model = Azurite.UniqueModelName();

    public ModelRegistryTests()
    {
        registry = new ModelRegistry(storage, TimeProvider.System);
        artifacts = new ModelArtifactStore(storage);
    }

    private async Task<ModelVersion> RegisterReadyAsync(string runId)
    {
        var reserved = await registry.ReserveVersionAsync(model, runId, CancellationToken.None);
        return await registry.CompleteVersionAsync(reserved, new string('a', 64), null, new Dictionary<string, double> { ["auc"] = 0.8 }, CancellationToken.None);
    }

    [Fact]
    public async Task PutSpec_ThenGet_RoundTripsAndReportsCreation()
    {
        var spec = ModelSpecValidator.Parse(File.ReadAllText(RepoPaths.SampleSpec)).Spec! with { Name = model };

        Assert.True(await registry.PutSpecAsync(spec, "test", CancellationToken.None));
        Assert.False(await registry.PutSpecAsync(spec, "test", CancellationToken.None));
        var stored = await registry.GetSpecAsync(model, CancellationToken.None);

        Assert.Equal(spec.Features.Select(f => f.Name), stored.Features.Select(f => f.Name));
        Assert.Equal(spec.Evaluation.Gate.Thresholds, stored.Evaluation.Gate.Thresholds);
    }

    [Fact]
    public async Task GetSpec_UnknownModel_ThrowsNotFoundWithTheName()
    {
        var ex = await Assert.ThrowsAsync<ModelNotFoundException>(() => registry.GetSpecAsync(model, CancellationToken.None));
        Assert.Equal(model, ex.Model);
    }

    [Fact]
    public async Task ReserveVersion_SameRunTwice_ReturnsTheSameVersion()
    {
        var first = await registry.ReserveVersionAsync(model, "run-a", CancellationToken.None);
        var again = await registry.ReserveVersionAsync(model, "run-a", CancellationToken.None);
        var other = await registry.ReserveVersionAsync(model, "run-b", CancellationToken.None);

        Assert.Equal(1, first.Version);
        Assert.Equal(1, again.Version);
        Assert.Equal(2, other.Version);
    }

    [Fact]
    public async Task ReserveVersion_ConcurrentRuns_GetConsecutiveNumbersWithoutDuplicates()
    {
        var reservations = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() => registry.ReserveVersionAsync(model, $"run-{i}", CancellationToken.None))));

        Assert.Equal(Enumerable.Range(1, 8), reservations.Select(r => r.Version).Order());
        var stored = await registry.ListVersionsAsync(model, CancellationToken.None);
        Assert.Equal(8, stored.Count);
        Assert.Equal(8, stored.Select(v => v.RunId).Distinct().Count());
    }

    [Fact]
    public async Task SetAlias_MovesAndPointsAtExactlyOneVersion()
    {
        await RegisterReadyAsync("run-1");
        await RegisterReadyAsync("run-2");

        await registry.SetAliasAsync(model, "champion", 1, null, "test", "first", CancellationToken.None);
        await registry.SetAliasAsync(model, "champion", 2, null, "test", "second", CancellationToken.None);

        var alias = Assert.Single(await registry.ListAliasesAsync(model, CancellationToken.None));
        Assert.Equal(2, alias.Version);
        Assert.Equal(2, (await registry.ResolveAsync(model, "champion", CancellationToken.None)).Version);
        var moves = (await registry.ListAuditAsync(model, CancellationToken.None)).Where(e => e.Action == "alias-moved").ToList();
        Assert.Equal(2, moves.Count);
        Assert.Contains(moves, m => m.From == 1 && m.To == 2 && m.Reason == "second");
    }

    [Fact]
    public async Task SetAlias_WithStaleETag_ConflictsAndReportsTheCurrentState()
    {
        await RegisterReadyAsync("run-1");
        await RegisterReadyAsync("run-2");
        var first = await registry.SetAliasAsync(model, "champion", 1, null, "test", null, CancellationToken.None);
        await registry.SetAliasAsync(model, "champion", 2, first.ETag, "alice", null, CancellationToken.None);

        var conflict = await Assert.ThrowsAsync<AliasConflictException>(
            () => registry.SetAliasAsync(model, "champion", 1, first.ETag, "bob", null, CancellationToken.None));

        Assert.Equal(2, conflict.CurrentVersion);
        Assert.Equal(2, (await registry.ResolveAsync(model, "champion", CancellationToken.None)).Version);
    }

    [Fact]
    public async Task SetAlias_ConcurrentConditionalMoves_OneWinsTheOtherConflicts()
    {
        await RegisterReadyAsync("run-1");
        await RegisterReadyAsync("run-2");
        await RegisterReadyAsync("run-3");
        var start = await registry.SetAliasAsync(model, "champion", 1, null, "test", null, CancellationToken.None);

        var moves = new[] { 2, 3 }.Select(v => Task.Run(async () =>
        {
            try
            {
                await registry.SetAliasAsync(model, "champion", v, start.ETag, $"user-{v}", null, CancellationToken.None);
                return (Version: v, Won: true);
            }
            catch (AliasConflictException)
            {
                return (Version: v, Won: false);
            }
        }));
        var results = await Task.WhenAll(moves);

        var winner = Assert.Single(results, r => r.Won);
        Assert.Equal(winner.Version, (await registry.ResolveAsync(model, "champion", CancellationToken.None)).Version);
    }

    [Theory]
    [InlineData("latest")]
    [InlineData("v3")]
    public async Task SetAlias_ReservedName_IsRefused(string alias)
    {
        await RegisterReadyAsync("run-1");

        await Assert.ThrowsAsync<ArgumentException>(() => registry.SetAliasAsync(model, alias, 1, null, "test", null, CancellationToken.None));
    }

    [Fact]
    public async Task SetAlias_OnPendingVersion_IsRefused()
    {
        await registry.ReserveVersionAsync(model, "run-1", CancellationToken.None);

        await Assert.ThrowsAsync<InvalidOperationException>(() => registry.SetAliasAsync(model, "champion", 1, null, "test", null, CancellationToken.None));
    }

    [Fact]
    public async Task Resolve_VersionNumbersAndLatest()
    {
        await RegisterReadyAsync("run-1");
        await RegisterReadyAsync("run-2");
        await registry.ReserveVersionAsync(model, "run-3", CancellationToken.None);

        Assert.Equal(1, (await registry.ResolveAsync(model, "1", CancellationToken.None)).Version);
        Assert.Equal(2, (await registry.ResolveAsync(model, "v2", CancellationToken.None)).Version);
        Assert.Equal(2, (await registry.ResolveAsync(model, "latest", CancellationToken.None)).Version);
        await Assert.ThrowsAsync<ModelVersionNotFoundException>(() => registry.ResolveAsync(model, "9", CancellationToken.None));
        await Assert.ThrowsAsync<AliasNotFoundException>(() => registry.ResolveAsync(model, "champion", CancellationToken.None));
    }

    [Fact]
    public async Task DeleteAlias_RemovesItAndAuditsIt()
    {
        await RegisterReadyAsync("run-1");
        await registry.SetAliasAsync(model, "challenger", 1, null, "test", null, CancellationToken.None);

        await registry.DeleteAliasAsync(model, "challenger", null, "test", CancellationToken.None);

        Assert.Empty(await registry.ListAliasesAsync(model, CancellationToken.None));
        Assert.Contains(await registry.ListAuditAsync(model, CancellationToken.None), e => e.Action == "alias-deleted" && e.Alias == "challenger");
    }

    [Fact]
    public async Task Artifacts_WrittenAndRead_AreVerifiedAgainstTheRegistry()
    {
        var bytes = Encoding.UTF8.GetBytes("not really onnx, but bytes");
        var source = new BlobPath(StorageNames.RunsContainer, $"{model}/model.onnx");
        await storage.EnsureCreatedAsync();
        await storage.Blob(source).UploadAsync(new BinaryData(bytes));
        var reserved = await registry.ReserveVersionAsync(model, "run-1", CancellationToken.None);

        var (sha, size) = await artifacts.WriteModelAsync(source, ModelArtifactStore.Sha256Hex(bytes), reserved, CancellationToken.None);
        var ready = await registry.CompleteVersionAsync(reserved, sha, null, new Dictionary<string, double>(), CancellationToken.None);

        Assert.Equal(bytes.Length, size);
        Assert.Equal(bytes, await artifacts.ReadModelAsync(ready, CancellationToken.None));

        await storage.Blob(BlobPath.Parse(ready.ModelPath)).UploadAsync(new BinaryData(Encoding.UTF8.GetBytes("tampered")), overwrite: true);
        await Assert.ThrowsAsync<ArtifactIntegrityException>(() => artifacts.ReadModelAsync(ready, CancellationToken.None));
    }

    [Fact]
    public async Task WriteModel_SourceNotWhatTheTrainerReported_IsRefused()
    {
        var source = new BlobPath(StorageNames.RunsContainer, $"{model}/model.onnx");
        await storage.EnsureCreatedAsync();
        await storage.Blob(source).UploadAsync(new BinaryData(Encoding.UTF8.GetBytes("bytes")));
        var reserved = await registry.ReserveVersionAsync(model, "run-1", CancellationToken.None);

        await Assert.ThrowsAsync<ArtifactIntegrityException>(() => artifacts.WriteModelAsync(source, new string('0', 64), reserved, CancellationToken.None));
    }
}
