using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Registry;

public sealed class RollbackAndArchiveTests : IDisposable
{
    private readonly LifecycleStorage storage = Azurite.CreateStorage();
    private readonly ModelRegistry registry;
    private readonly string model = Azurite.UniqueModelName("rb");

    public RollbackAndArchiveTests() => registry = new ModelRegistry(storage, TimeProvider.System);

    public void Dispose() => storage.Dispose();

    private async Task<int[]> RegisterAsync(int count)
    {
        var spec = ModelSpecValidator.Parse(File.ReadAllText(RepoPaths.SampleSpec)).Spec! with { Name = model };
        await registry.PutSpecAsync(spec, "test", CancellationToken.None);
        var versions = new int[count];
        for (var i = 0; i < count; i++)
        {
            var reserved = await registry.ReserveVersionAsync(model, $"run-{i}", CancellationToken.None);
            versions[i] = (await registry.CompleteVersionAsync(reserved, new string('a', 64), null, new Dictionary<string, double>(), CancellationToken.None)).Version;
        }

        return versions;
    }

    private Task Promote(int version) => registry.SetAliasAsync(model, ReservedAliases.Champion, version, null, "pipeline run x", "passed the gate", CancellationToken.None);

    private async Task<int> Champion() => (await registry.ResolveAsync(model, ReservedAliases.Champion, CancellationToken.None)).Version;

    [Fact]
    public async Task Rollback_WithTheChampionsETagAsTheCallerSawIt_LosesToAMoveMadeSince()
    {
        await RegisterAsync(3);
        await Promote(1);
        await Promote(2);
        var seen = (await registry.ListAliasesAsync(model, CancellationToken.None)).Single(a => a.Alias == ReservedAliases.Champion).ETag;
        await Promote(3);

        var conflict = await Assert.ThrowsAsync<AliasConflictException>(() => registry.RollbackChampionAsync(model, "alice", "stale page", CancellationToken.None, seen));
        var current = (await registry.ListAliasesAsync(model, CancellationToken.None)).Single(a => a.Alias == ReservedAliases.Champion).ETag;
        var (moved, from) = await registry.RollbackChampionAsync(model, "alice", "fresh page", CancellationToken.None, current);

        Assert.Contains("champion", conflict.Message, StringComparison.Ordinal);
        Assert.Equal((3, 2, 2), (from, moved.Version, await Champion()));
    }

    [Fact]
    public async Task Rollback_StepsBackThroughEveryEarlierChampionAndAuditsEachWithItsReason()
    {
        await RegisterAsync(3);
        await Promote(1);
        await Promote(2);
        await Promote(3);

        var (first, from) = await registry.RollbackChampionAsync(model, "alice", "v3 drops conversions", CancellationToken.None);
        Assert.Equal((3, 2, 2), (from, first.Version, await Champion()));

        var (second, _) = await registry.RollbackChampionAsync(model, "alice", "v2 too", CancellationToken.None);
        Assert.Equal((1, 1), (second.Version, await Champion()));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => registry.RollbackChampionAsync(model, "alice", "again", CancellationToken.None));
        Assert.Contains("first champion", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, await Champion());

        var rollbacks = (await registry.ListAuditAsync(model, CancellationToken.None)).Where(e => e.Action == AuditActions.Rollback).ToList();
        Assert.Equal(
            [(2, 1, "v2 too"), (3, 2, "v3 drops conversions")],
            rollbacks.Select(e => (e.From!.Value, e.To!.Value, e.Reason!)));
        Assert.All(rollbacks, e => Assert.Equal("alice", e.Actor));
    }

    [Fact]
    public async Task Rollback_NoChampion_IsRefused()
    {
        await RegisterAsync(1);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => registry.RollbackChampionAsync(model, "alice", "why not", CancellationToken.None));

        Assert.Contains("no champion", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Archive_VersionWithAnAlias_IsRefusedAndKeepsItReady()
    {
        await RegisterAsync(2);
        await Promote(2);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => registry.ArchiveVersionAsync(model, 2, "alice", "old", CancellationToken.None));

        Assert.Contains("carries champion", error.Message, StringComparison.Ordinal);
        Assert.Equal(ModelVersionStatus.Ready, (await registry.GetVersionAsync(model, 2, CancellationToken.None)).Status);
    }

    [Fact]
    public async Task Archive_FreeVersion_KeepsItsHistoryButTakesNoAliasAndIsNotTheRollbackTarget()
    {
        await RegisterAsync(2);
        await Promote(1);
        await Promote(2);
        await registry.SetAliasAsync(model, ReservedAliases.Champion, 2, null, "x", null, CancellationToken.None);
        await registry.SetAliasAsync(model, "staging", 1, null, "x", null, CancellationToken.None);
        await registry.DeleteAliasAsync(model, "staging", null, "x", CancellationToken.None);

        var archived = await registry.ArchiveVersionAsync(model, 1, "alice", "superseded", CancellationToken.None);

        Assert.Equal(ModelVersionStatus.Archived, archived.Status);
        var listed = (await registry.ListVersionsAsync(model, CancellationToken.None)).Single(v => v.Version == 1);
        Assert.Equal((ModelVersionStatus.Archived, "run-0", new string('a', 64)), (listed.Status, listed.RunId, listed.Sha256));
        var alias = await Assert.ThrowsAsync<InvalidOperationException>(() => registry.SetAliasAsync(model, "staging", 1, null, "x", null, CancellationToken.None));
        Assert.Contains("archived", alias.Message, StringComparison.Ordinal);
        var rollback = await Assert.ThrowsAsync<InvalidOperationException>(() => registry.RollbackChampionAsync(model, "alice", "back", CancellationToken.None));
        Assert.Contains("archived", rollback.Message, StringComparison.Ordinal);
        Assert.Equal(2, await Champion());
        Assert.Contains(await registry.ListAuditAsync(model, CancellationToken.None), e => e.Action == AuditActions.Archived && e.From == 1 && e.Reason == "superseded");
    }

    [Fact]
    public async Task Delete_FreeVersion_RemovesItsOnnxKeepsItsHistory_AndItsNumberIsNeverGivenAgain()
    {
        await RegisterAsync(2);
        await Promote(2);
        var first = await registry.GetVersionAsync(model, 1, CancellationToken.None);
        var onnx = storage.Blob(BlobPath.Parse(first.ModelPath));
        await onnx.UploadAsync(new BinaryData([1, 2, 3]), overwrite: true);

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => registry.DeleteVersionAsync(model, 2, "alice", "cleanup", CancellationToken.None));
        var deleted = await registry.DeleteVersionAsync(model, 1, "alice", "trained on bad data", CancellationToken.None);
        var again = await registry.DeleteVersionAsync(model, 1, "alice", "twice", CancellationToken.None);
        var next = await registry.ReserveVersionAsync(model, "run-next", CancellationToken.None);

        Assert.Contains("carries champion", refused.Message, StringComparison.Ordinal);
        Assert.Equal((ModelVersionStatus.Deleted, ModelVersionStatus.Deleted), (deleted.Status, again.Status));
        Assert.False((await onnx.ExistsAsync()).Value);
        Assert.Equal(("run-0", new string('a', 64)), (deleted.RunId, deleted.Sha256));
        Assert.Equal(3, next.Version);
        var alias = await Assert.ThrowsAsync<InvalidOperationException>(() => registry.SetAliasAsync(model, "staging", 1, null, "x", null, CancellationToken.None));
        Assert.Contains("deleted", alias.Message, StringComparison.Ordinal);
        var archive = await Assert.ThrowsAsync<InvalidOperationException>(() => registry.ArchiveVersionAsync(model, 1, "alice", "x", CancellationToken.None));
        Assert.Contains("is deleted", archive.Message, StringComparison.Ordinal);
        Assert.Single(await registry.ListAuditAsync(model, CancellationToken.None), e => e.Action == AuditActions.Deleted && e.From == 1 && e.Reason == "trained on bad data");
    }
}

public sealed class SpecConcurrencyTests : IDisposable
{
    private readonly LifecycleStorage storage = Azurite.CreateStorage();

    public void Dispose() => storage.Dispose();

    [Fact]
    public async Task PutSpec_TwoConcurrentConditionalUpdates_OneWinsTheOtherConflictsWithTheCurrentETag()
    {
        var registry = new ModelRegistry(storage, TimeProvider.System);
        var spec = ModelSpecValidator.Parse(File.ReadAllText(RepoPaths.SampleSpec)).Spec! with { Name = Azurite.UniqueModelName("etag") };
        var (_, etag) = await registry.PutSpecAsync(spec, "test", null, CancellationToken.None);

        var writes = new[] { 10, 20 }.Select(minRows => Task.Run(async () =>
        {
            try
            {
                await registry.PutSpecAsync(spec with { Validation = spec.Validation with { MinRows = minRows } }, $"user-{minRows}", etag, CancellationToken.None);
                return (MinRows: minRows, Won: true, Current: (string?)null);
            }
            catch (SpecConflictException ex)
            {
                return (MinRows: minRows, Won: false, Current: ex.CurrentETag);
            }
        }));
        var results = await Task.WhenAll(writes);

        var winner = Assert.Single(results, r => r.Won);
        var loser = Assert.Single(results, r => !r.Won);
        var (stored, storedETag) = await registry.GetSpecWithETagAsync(spec.Name, CancellationToken.None);
        Assert.Equal(winner.MinRows, stored.Validation.MinRows);
        Assert.Equal(storedETag, loser.Current);
        await Assert.ThrowsAsync<SpecConflictException>(() => registry.PutSpecAsync(spec, "late", etag, CancellationToken.None));
    }

    [Fact]
    public async Task ReserveVersion_TenConcurrentRegistrations_GetTenDistinctVersions()
    {
        var registry = new ModelRegistry(storage, TimeProvider.System);
        var model = Azurite.UniqueModelName("ten");

        var reserved = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => Task.Run(() => registry.ReserveVersionAsync(model, $"run-{i}", CancellationToken.None))));

        Assert.Equal(Enumerable.Range(1, 10), reserved.Select(r => r.Version).Order());
        Assert.Equal(10, (await registry.ListVersionsAsync(model, CancellationToken.None)).Select(v => v.RunId).Distinct().Count());
    }
}
