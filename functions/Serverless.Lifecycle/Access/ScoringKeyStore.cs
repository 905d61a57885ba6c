using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Access;

/// <summary>
/// A key a scoring client presents: who it was issued to, which models it may score (all when empty),
/// who issued it and when, and who revoked it. The secret itself is never stored, only its SHA-256.
/// </summary>
public sealed record ScoringKey(
    string Id, string Name, IReadOnlyList<string> Models, string CreatedBy, DateTimeOffset CreatedAt, string? RevokedBy, DateTimeOffset? RevokedAt)
{
    public bool Revoked => RevokedAt is not null;

    /// <summary>Whether this key may score <paramref name="model"/> (null: a route that names no model, such as server metadata).</summary>
    public bool Covers(string? model) => Models.Count == 0 || model is null || Models.Contains(model, StringComparer.Ordinal);
}

/// <summary>What a presented scoring key turned out to be.</summary>
public enum ScoringKeyVerdict
{
    /// <summary>Issued here, not revoked, and it covers the model.</summary>
    Valid,

    /// <summary>Not a key this product issued: malformed, an unknown id, or a secret that does not match (a function key lands here).</summary>
    Unknown,

    /// <summary>Issued here and revoked.</summary>
    Revoked,

    /// <summary>Issued here for other models.</summary>
    NotForModel,
}

/// <summary>The verdict on a presented key, and the key when it was one of ours.</summary>
public readonly record struct ScoringKeyCheck(ScoringKeyVerdict Verdict, ScoringKey? Key);

/// <summary>
/// The product's scoring keys (the <c>ScoringKeys</c> table): issued and revoked by an administrator,
/// presented by scoring clients where a function key would go. A key is <c>slk.{id}.{secret}</c>: the id
/// finds its row with one point read, and the secret (256 random bits) is compared by its SHA-256 in
/// constant time. A plain hash rather than a slow password hash is right here: the secret is random and
/// long, so there is nothing to guess from the hash. Checks reuse a row for
/// <see cref="ServingOptions.AliasCacheSeconds"/> and, while storage is away, for up to
/// <see cref="ServingOptions.MaxStaleSeconds"/> (<see cref="ResolutionCache{TKey, TValue}"/>), so a
/// revocation reaches every instance within the first and a storage outage does not stop scoring.
/// </summary>
public sealed class ScoringKeyStore(LifecycleStorage storage, IOptions<ServingOptions> options, TimeProvider clock)
{
    /// <summary>The prefix every scoring key starts with, so a key found in a log or a repository says what it is.</summary>
    public const string Prefix = "slk";

    /// <summary>The longest name a key may have.</summary>
    public const int MaxNameLength = 64;

    private const string Partition = "scoring-key";
    private const int SecretBytes = 32;

    private readonly ResolutionCache<string, StoredKey> cache = new(options.Value, clock);

    private TableClient Keys => storage.Table(StorageNames.ScoringKeysTable);

    /// <summary>What is wrong with <paramref name="name"/> as a key's name, or null when nothing is.</summary>
    public static string? NameProblem(string? name) =>
        string.IsNullOrWhiteSpace(name) || name.Trim().Length > MaxNameLength || name.Any(char.IsControl)
            ? $"Required: who the key is for, 1 to {MaxNameLength} characters without control characters, for example \"checkout-service\"."
            : null;

    /// <summary>Issues a key; the returned secret (the whole key) is shown once and never again.</summary>
    public async Task<(ScoringKey Key, string Secret)> CreateAsync(string name, IReadOnlyList<string> models, string actor, CancellationToken cancellationToken)
    {
        if (NameProblem(name) is { } problem)
        {
            throw new ArgumentException(problem, nameof(name));
        }

        ArgumentNullException.ThrowIfNull(models);
        name = name.Trim();
        await storage.EnsureCreatedAsync(cancellationToken);
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var secret = System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(SecretBytes));
        var key = new ScoringKey(id, name, models, actor, clock.GetUtcNow(), null, null);
        await Keys.AddEntityAsync(
            new TableEntity(Partition, id)
            {
                ["Name"] = name, ["Models"] = string.Join(',', models), ["SecretSha256"] = Hash(secret), ["CreatedBy"] = actor, ["CreatedAt"] = key.CreatedAt,
            },
            cancellationToken);
        return (key, $"{Prefix}.{id}.{secret}");
    }

    /// <summary>Every key issued, revoked ones included, oldest first; never a secret.</summary>
    public async Task<IReadOnlyList<ScoringKey>> ListAsync(CancellationToken cancellationToken)
    {
        await storage.EnsureCreatedAsync(cancellationToken);
        var keys = new List<ScoringKey>();
        await foreach (var entity in Keys.QueryAsync<TableEntity>(e => e.PartitionKey == Partition, cancellationToken: cancellationToken))
        {
            keys.Add(ToKey(entity));
        }

        return [.. keys.OrderBy(k => k.CreatedAt)];
    }

    /// <summary>
    /// Revokes a key: null when there is no such key; a key revoked before stays as it was (who revoked
    /// it first, and when). Takes effect here at once and on other instances within
    /// <see cref="ServingOptions.AliasCacheSeconds"/>.
    /// </summary>
    public async Task<ScoringKey?> RevokeAsync(string id, string actor, CancellationToken cancellationToken)
    {
        await storage.EnsureCreatedAsync(cancellationToken);
        while (true)
        {
            var row = await Keys.GetEntityIfExistsAsync<TableEntity>(Partition, id, cancellationToken: cancellationToken);
            if (!row.HasValue)
            {
                return null;
            }

            var entity = row.Value!;
            if (entity.GetDateTimeOffset("RevokedAt") is null)
            {
                entity["RevokedBy"] = actor;
                entity["RevokedAt"] = clock.GetUtcNow();
                try
                {
                    await Keys.UpdateEntityAsync(entity, entity.ETag, TableUpdateMode.Replace, cancellationToken);
                }
                catch (RequestFailedException ex) when (ex.Status == 412)
                {
                    // Revoked by someone else meanwhile: read again, and keep theirs.
                    continue;
                }
            }

            cache.Forget(id);
            return ToKey(entity);
        }
    }

    /// <summary>What <paramref name="presented"/> is, for a request to score <paramref name="model"/> (null: a route that names no model).</summary>
    public async Task<ScoringKeyCheck> CheckAsync(string presented, string? model, CancellationToken cancellationToken)
    {
        var parts = (presented ?? "").Split('.');
        if (parts is not [Prefix, { Length: 12 } id, { Length: > 0 } secret] || !id.All(char.IsAsciiHexDigitLower))
        {
            return new(ScoringKeyVerdict.Unknown, null);
        }

        var stored = (await cache.GetAsync(id, ct => ReadAsync(id, ct), cancellationToken)).Value;
        if (stored.Key is null)
        {
            // Only issued keys are kept: unknown ids would otherwise fill the cache.
            cache.Forget(id);
            return new(ScoringKeyVerdict.Unknown, null);
        }

        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(stored.SecretSha256), Encoding.ASCII.GetBytes(Hash(secret))))
        {
            return new(ScoringKeyVerdict.Unknown, null);
        }

        var key = stored.Key;
        return new(key.Revoked ? ScoringKeyVerdict.Revoked : key.Covers(model) ? ScoringKeyVerdict.Valid : ScoringKeyVerdict.NotForModel, key);
    }

    private async Task<StoredKey> ReadAsync(string id, CancellationToken cancellationToken)
    {
        await storage.EnsureCreatedAsync(cancellationToken);
        var row = await Keys.GetEntityIfExistsAsync<TableEntity>(Partition, id, cancellationToken: cancellationToken);
        return row.HasValue ? new StoredKey(ToKey(row.Value!), row.Value!.GetString("SecretSha256") ?? "") : new StoredKey(null, "");
    }

    private static ScoringKey ToKey(TableEntity entity) => new(
        entity.RowKey,
        entity.GetString("Name") ?? "",
        (entity.GetString("Models") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries),
        entity.GetString("CreatedBy") ?? "",
        entity.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.MinValue,
        entity.GetString("RevokedBy"),
        entity.GetDateTimeOffset("RevokedAt"));

    private static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    private sealed record StoredKey(ScoringKey? Key, string SecretSha256);
}
