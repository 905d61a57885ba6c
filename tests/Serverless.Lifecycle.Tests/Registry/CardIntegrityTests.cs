using System.Text;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Api;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Rollouts;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;
using Serverless.Lifecycle.Tests.Api;
using Serverless.Lifecycle.Tests.Serving;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Registry;

/// <summary>
/// A version's card.json, whose spec drives serving, is checked against the SHA-256 the registry
/// recorded at registration, as its ONNX file is: a card changed in storage is refused by serving
/// (503 naming the version) and by GET /models/{name}/versions/{version}.
/// </summary>
public sealed class CardIntegrityTests : IAsyncLifetime
{
    private const string CardMismatch = "its card.json does not match the SHA-256 the registry recorded";

    private readonly LifecycleStorage storage = Azurite.CreateStorage();
    private readonly string model = Azurite.UniqueModelName("card");
    private readonly IOptions<ServingOptions> options = Options.Create(new ServingOptions { AliasCacheSeconds = 0 });
    private ModelRegistry registry = null!;
    private ModelArtifactStore artifacts = null!;
    private TrainedSample sample = null!;
    private PredictionLog log = null!;
    private ModelServer server = null!;

    public async Task InitializeAsync()
    {
        registry = new ModelRegistry(storage, TimeProvider.System);
        artifacts = new ModelArtifactStore(storage);
        sample = await ServedVersions.TrainSampleAsync(registry, model);
        log = new PredictionLog(storage, Options.Create(new PredictionLogOptions()), TimeProvider.System, NullLogger<PredictionLog>.Instance);
        server = new ModelServer(registry, artifacts, options, TimeProvider.System);
    }

    public Task DisposeAsync()
    {
        server.Dispose();
        log.Dispose();
        storage.Dispose();
        return Task.CompletedTask;
    }

    private Task<ModelVersion> RegisterAsync() => ServedVersions.RegisterAsync(storage, registry, sample.Spec, sample.Onnx);

    private async Task<ApiResponse> PredictAsync(int version)
    {
        var api = new PredictionApi(new PredictionService(server, new RolloutStore(storage), log, options, TimeProvider.System, NullLogger<PredictionService>.Instance), registry, options, TimeProvider.System);
        var request = ApiResponse.Request();
        request.Method = HttpMethods.Post;
        request.ContentType = "application/json";
        request.Body = new MemoryStream(Encoding.UTF8.GetBytes(
            """{"instances":[{"tenure_months":2,"monthly_charges":105,"support_calls":5,"contract":"month-to-month","internet_service":"fiber","payment_method":"electronic-check"}]}"""));
        return await ApiResponse.ExecuteAsync(await api.PredictVersionAsync(request, model, version.ToString(System.Globalization.CultureInfo.InvariantCulture), CancellationToken.None), request);
    }

    private async Task<ApiResponse> GetVersionAsync(int version)
    {
        var api = new RegistryApi(registry, artifacts, new RolloutStore(storage));
        return await ApiResponse.ExecuteAsync(await api.GetVersionAsync(model, version.ToString(System.Globalization.CultureInfo.InvariantCulture), CancellationToken.None));
    }

    [Fact]
    public async Task Registering_RecordsTheSha256OfTheStoredCard()
    {
        var version = await RegisterAsync();

        var stored = (await storage.Blob(BlobPath.Parse(version.CardPath)).DownloadContentAsync()).Value.Content.ToArray();
        Assert.Equal(ModelArtifactStore.Sha256Hex(stored), version.CardSha256);
        Assert.Equal(version.CardSha256, (await registry.GetVersionAsync(model, version.Version, CancellationToken.None)).CardSha256);
    }

    [Fact]
    public async Task ATamperedCard_IsUnservable_Predictions503NamingTheVersionAndTheCard_AndAnUntamperedVersionServes()
    {
        var untampered = await RegisterAsync();
        var tampered = await RegisterAsync();
        await ServedVersions.TamperCardAsync(storage, tampered);

        var refused = await PredictAsync(tampered.Version);
        var served = await PredictAsync(untampered.Version);

        Assert.True(refused.Status == 503, refused.ToString());
        Assert.Equal(CardMismatch, (string?)refused.Json["reason"]);
        Assert.Equal(tampered.Version, (int?)refused.Json["version"]);
        Assert.Contains($"Version {tampered.Version} of '{model}' cannot be served: {CardMismatch}", (string?)refused.Json["detail"], StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(refused.Headers.RetryAfter.ToString()));
        var unservable = Assert.Single(server.Unservable);
        Assert.Equal((model, tampered.Version, CardMismatch), unservable);
        Assert.True(served.Status == 200, served.ToString());
    }

    [Fact]
    public async Task ATamperedCard_IsRefusedByGetVersion_NamingTheReason_AndAnUntamperedOneIsShown()
    {
        var untampered = await RegisterAsync();
        var tampered = await RegisterAsync();
        await ServedVersions.TamperCardAsync(storage, tampered);

        var refused = await GetVersionAsync(tampered.Version);
        var shown = await GetVersionAsync(untampered.Version);

        Assert.True(refused.Status == 500, refused.ToString());
        Assert.Equal("application/problem+json", refused.Headers.ContentType.ToString());
        Assert.Contains($"Version {tampered.Version} of '{model}' cannot be shown: {CardMismatch}", (string?)refused.Json["detail"], StringComparison.Ordinal);
        Assert.Equal(tampered.CardSha256, (string?)refused.Json["cardSha256"]);
        Assert.DoesNotContain("\"card\"", Encoding.UTF8.GetString(refused.Body), StringComparison.Ordinal);
        Assert.True(shown.Status == 200, shown.ToString());
        Assert.Equal(untampered.CardSha256, (string?)shown.Json["cardSha256"]);
        Assert.Equal(untampered.RunId, (string?)shown.Json["card"]!["runId"]);
    }

    [Fact]
    public async Task AVersionRegisteredBeforeCardsWereHashed_IsReadAndServedUnchecked()
    {
        // A row as written before this change: the ONNX file's SHA-256, and no column for the card's.
        var version = await RegisterAsync();
        var table = storage.Table(StorageNames.VersionsTable);
        var row = (await table.GetEntityAsync<TableEntity>(model, VersionStore.VersionKey(version.Version))).Value;
        Assert.True(row.Remove("CardSha256"));
        await table.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace);
        var legacy = await registry.GetVersionAsync(model, version.Version, CancellationToken.None);
        await ServedVersions.TamperCardAsync(storage, legacy);

        Assert.Null(legacy.CardSha256);
        Assert.Equal(InputPolicies.Reject, (await artifacts.ReadCardAsync(legacy, CancellationToken.None)).Spec.Serving.UnknownFeatures);
        Assert.Equal(200, (await GetVersionAsync(legacy.Version)).Status);
        Assert.Equal(200, (await PredictAsync(legacy.Version)).Status);
    }
}
