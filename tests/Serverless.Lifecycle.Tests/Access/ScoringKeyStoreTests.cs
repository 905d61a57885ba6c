using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Access;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Storage;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Access;

/// <summary>The product's scoring keys on Azurite: what a presented key turns out to be, and what is stored of it.</summary>
public sealed class ScoringKeyStoreTests : IDisposable
{
    private readonly LifecycleStorage storage = Azurite.CreateStorage();

    private ScoringKeyStore NewStore(int cacheSeconds = 5) =>
        new(storage, Options.Create(new ServingOptions { AliasCacheSeconds = cacheSeconds }), TimeProvider.System);

    public void Dispose() => storage.Dispose();

    [Fact]
    public async Task AnIssuedKey_IsValid_AndOnlyItsExactSecretIs()
    {
        var store = NewStore();
        var (key, secret) = await store.CreateAsync("checkout-service", [], "ada (oid 1)", CancellationToken.None);

        Assert.StartsWith($"slk.{key.Id}.", secret, StringComparison.Ordinal);
        Assert.Equal(ScoringKeyVerdict.Valid, (await store.CheckAsync(secret, "churn", CancellationToken.None)).Verdict);
        Assert.Equal(ScoringKeyVerdict.Valid, (await store.CheckAsync(secret, null, CancellationToken.None)).Verdict);

        var tampered = secret[..^1] + (secret[^1] == 'A' ? 'B' : 'A');
        Assert.Equal(ScoringKeyVerdict.Unknown, (await store.CheckAsync(tampered, "churn", CancellationToken.None)).Verdict);
        Assert.Null((await store.CheckAsync(tampered, "churn", CancellationToken.None)).Key);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a-function-key-of-the-host==")]
    [InlineData("slk.0123456789ab")]
    [InlineData("slk.0123456789AB.secret")]
    [InlineData("slk.0123456789ab.secret.extra")]
    [InlineData("xyz.0123456789ab.secret")]
    [InlineData("slk.0123456789ab.never-issued")]
    public async Task AnythingElse_IsUnknown(string presented)
    {
        Assert.Equal(ScoringKeyVerdict.Unknown, (await NewStore().CheckAsync(presented, "churn", CancellationToken.None)).Verdict);
    }

    [Fact]
    public async Task AKeyForSomeModels_CoversThoseAndRouteWithoutAModel_NotOthers()
    {
        var store = NewStore();
        var (_, secret) = await store.CreateAsync("churn-only", ["churn", "churn-eu"], "ada", CancellationToken.None);

        Assert.Equal(ScoringKeyVerdict.Valid, (await store.CheckAsync(secret, "churn-eu", CancellationToken.None)).Verdict);
        Assert.Equal(ScoringKeyVerdict.Valid, (await store.CheckAsync(secret, null, CancellationToken.None)).Verdict);
        var other = await store.CheckAsync(secret, "fraud", CancellationToken.None);
        Assert.Equal(ScoringKeyVerdict.NotForModel, other.Verdict);
        Assert.Equal(["churn", "churn-eu"], other.Key!.Models);
    }

    [Fact]
    public async Task ARevokedKey_IsRevokedAtOnceHere_AndOnAnotherInstanceOnceItsCacheExpires()
    {
        var here = NewStore(cacheSeconds: 3600);
        var elsewhere = NewStore(cacheSeconds: 0);
        var (key, secret) = await here.CreateAsync("leaked", [], "ada", CancellationToken.None);
        Assert.Equal(ScoringKeyVerdict.Valid, (await here.CheckAsync(secret, "churn", CancellationToken.None)).Verdict);
        Assert.Equal(ScoringKeyVerdict.Valid, (await elsewhere.CheckAsync(secret, "churn", CancellationToken.None)).Verdict);

        var revoked = await here.RevokeAsync(key.Id, "bob", CancellationToken.None);

        Assert.Equal(("bob", true), (revoked!.RevokedBy, revoked.Revoked));
        Assert.Equal(ScoringKeyVerdict.Revoked, (await here.CheckAsync(secret, "churn", CancellationToken.None)).Verdict);
        Assert.Equal(ScoringKeyVerdict.Revoked, (await elsewhere.CheckAsync(secret, "churn", CancellationToken.None)).Verdict);
    }

    [Fact]
    public async Task RevokingTwice_KeepsTheFirstRevocation_AndAnUnknownIdIsNull()
    {
        var store = NewStore();
        var (key, _) = await store.CreateAsync("twice", [], "ada", CancellationToken.None);

        var first = await store.RevokeAsync(key.Id, "bob", CancellationToken.None);
        var second = await store.RevokeAsync(key.Id, "carol", CancellationToken.None);

        Assert.Equal((first!.RevokedBy, first.RevokedAt), (second!.RevokedBy, second.RevokedAt));
        Assert.Null(await store.RevokeAsync("0123456789ab", "bob", CancellationToken.None));
    }

    [Fact]
    public async Task TheSecret_IsStoredNowhere_OnlyItsHash_AndTheListNamesWhoIssuedIt()
    {
        var store = NewStore();
        var (key, secret) = await store.CreateAsync("audited", ["churn"], "ada@contoso.com (oid 42)", CancellationToken.None);

        var row = await storage.Table(StorageNames.ScoringKeysTable).GetEntityAsync<TableEntity>("scoring-key", key.Id);
        var secretPart = secret.Split('.')[2];
        Assert.DoesNotContain(row.Value, p => p.Value is string s && s.Contains(secretPart, StringComparison.Ordinal));
        Assert.Equal(64, row.Value.GetString("SecretSha256").Length);

        var listed = Assert.Single(await store.ListAsync(CancellationToken.None), k => k.Id == key.Id);
        Assert.Equal(("audited", "ada@contoso.com (oid 42)", false), (listed.Name, listed.CreatedBy, listed.Revoked));
    }
}
