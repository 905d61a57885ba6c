using System.Security.Cryptography;
using Serverless.Lifecycle.Api;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;
using Serverless.Lifecycle.Tests.Serving;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Api;

/// <summary>GET /models/{name}/versions/{version}/model.onnx: the registered bytes with their digest, or a problem that says why not.</summary>
public sealed class ModelFileApiTests : IAsyncLifetime
{
    private readonly LifecycleStorage storage = Azurite.CreateStorage();
    private readonly string model = Azurite.UniqueModelName("file");
    private readonly byte[] onnx = RandomNumberGenerator.GetBytes(4096);
    private ModelRegistry registry = null!;
    private RegistryApi api = null!;
    private ModelVersion version = null!;

    public async Task InitializeAsync()
    {
        registry = new ModelRegistry(storage, TimeProvider.System);
        api = new RegistryApi(registry, new ModelArtifactStore(storage), new Lifecycle.Rollouts.RolloutStore(storage));
        var spec = ModelSpecValidator.Parse(await File.ReadAllTextAsync(RepoPaths.SampleSpec)).Spec! with { Name = model };
        await registry.PutSpecAsync(spec, "test", CancellationToken.None);

        // The file is served as stored; it is never loaded, so any bytes do.
        version = await ServedVersions.RegisterAsync(storage, registry, spec, onnx);
        await registry.SetAliasAsync(model, ReservedAliases.Champion, version.Version, null, "test", null, CancellationToken.None);
    }

    public Task DisposeAsync()
    {
        storage.Dispose();
        return Task.CompletedTask;
    }

    private async Task<ApiResponse> GetAsync(string reference, string? name = null, string? ifNoneMatch = null)
    {
        var request = ApiResponse.Request();
        if (ifNoneMatch is not null)
        {
            request.Headers.IfNoneMatch = ifNoneMatch;
        }

        return await ApiResponse.ExecuteAsync(await api.GetModelFileAsync(name ?? model, reference, CancellationToken.None), request);
    }

    [Theory]
    [InlineData("1")]
    [InlineData("v1")]
    [InlineData("champion")]
    [InlineData("latest")]
    public async Task AVersion_ComesAsItsRegisteredBytes_WithTheirSha256AsReprDigestAndETag(string reference)
    {
        var response = await GetAsync(reference);

        Assert.True(response.Status == 200, response.ToString());
        Assert.Equal(onnx, response.Body);
        Assert.Equal("application/octet-stream", response.Headers.ContentType.ToString());
        Assert.Contains($"filename={model}-v1.onnx", response.Headers.ContentDisposition.ToString(), StringComparison.Ordinal);
        Assert.Equal($"sha-256=:{Convert.ToBase64String(SHA256.HashData(onnx))}:", response.Headers["Repr-Digest"].ToString());
        Assert.Equal($"\"{Convert.ToHexStringLower(SHA256.HashData(onnx))}\"", response.Headers.ETag.ToString());
    }

    [Fact]
    public async Task IfNoneMatchWithTheDigest_Gets304WithoutTheBytes()
    {
        var response = await GetAsync("1", ifNoneMatch: $"\"{version.Sha256}\"");

        Assert.Equal(304, response.Status);
        Assert.Empty(response.Body);
    }

    [Fact]
    public async Task AFileThatNoLongerMatchesItsRecordedSha256_IsRefusedWith500_NotSent()
    {
        var tampered = onnx.ToArray();
        tampered[100] ^= 0xFF;
        await storage.Blob(BlobPath.Parse(version.ModelPath)).UploadAsync(new BinaryData(tampered), overwrite: true);

        var response = await GetAsync("1");

        Assert.Equal(500, response.Status);
        Assert.Contains("does not match the SHA-256 the registry recorded", (string)response.Json["detail"]!, StringComparison.Ordinal);
        Assert.Equal(version.Sha256, (string)response.Json["sha256"]!);
        Assert.False(response.Headers.ContainsKey("Repr-Digest"));
    }

    [Fact]
    public async Task AFileMissingFromStorage_IsA500ThatSaysSo()
    {
        await storage.Blob(BlobPath.Parse(version.ModelPath)).DeleteAsync();

        var response = await GetAsync("1");

        Assert.Equal(500, response.Status);
        Assert.Contains("missing from storage", (string)response.Json["detail"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownModelsVersionsAndAliases_Get404_ADeletedVersion410_AndABadVersion400()
    {
        Assert.Equal(404, (await GetAsync("1", name: "no-such-model")).Status);
        Assert.Equal(404, (await GetAsync("9")).Status);
        Assert.Equal(404, (await GetAsync("staging")).Status);

        var bad = await GetAsync("0");
        Assert.Equal(400, bad.Status);
        Assert.NotNull(bad.Json["errors"]!["version"]);

        await registry.DeleteAliasAsync(model, ReservedAliases.Champion, null, "test", CancellationToken.None);
        await registry.DeleteVersionAsync(model, version.Version, "test", "no longer needed", CancellationToken.None);
        Assert.Equal(410, (await GetAsync("1")).Status);
    }
}
