using Serverless.Lifecycle.Api;

namespace Serverless.Lifecycle.Tests.Api;

/// <summary>GET /v2, the Open Inference Protocol's server metadata.</summary>
public sealed class ServerMetadataApiTests
{
    [Fact]
    public async Task ServerMetadata_IsTheProtocolsObject_NameVersionAndExtensions()
    {
        var response = await ApiResponse.ExecuteAsync(OpenInferenceApi.ServerMetadata());

        Assert.Equal(200, response.Status);
        var body = response.Json.AsObject();
        Assert.Equal(["name", "version", "extensions"], body.Select(p => p.Key));
        Assert.Equal("serverless-lifecycle", (string)body["name"]!);

        // The product's version (1.0.0 when nothing sets one), without the build's commit.
        var version = (string)body["version"]!;
        Assert.Matches(@"^\d+\.\d+\.\d+", version);
        Assert.DoesNotContain("+", version, StringComparison.Ordinal);
        Assert.Empty(body["extensions"]!.AsArray());
    }
}
