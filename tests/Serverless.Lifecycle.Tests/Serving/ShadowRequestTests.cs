using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Api;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Rollouts;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Serving;

/// <summary>
/// A shadow challenger whose spec differs from the champion's re-reads the request after the
/// response has been sent: it must still find the request's body, and its prediction is logged.
/// </summary>
public sealed class ShadowRequestTests : IAsyncLifetime
{
    private readonly LifecycleStorage storage = Azurite.CreateStorage();
    private readonly string model = Azurite.UniqueModelName("shadow");
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

    [Fact]
    public async Task ShadowChallengerWithAnotherSpec_ScoresTheRequestAfterTheResponse()
    {
        var champion = await ServedVersions.RegisterAsync(storage, registry, spec, onnx);
        var challenger = await ServedVersions.RegisterAsync(storage, registry, spec with { Serving = new ServingSpec { UnknownFeatures = InputPolicies.Reject } }, onnx);
        await registry.SetAliasAsync(model, ReservedAliases.Champion, champion.Version, null, "test", null, CancellationToken.None);
        var now = DateTimeOffset.UtcNow;
        await new RolloutStore(storage).SaveAsync(
            new RolloutState(model, "run", RolloutStrategies.Shadow, challenger.Version, champion.Version, 0, 1.0, RolloutStatuses.Running, null, now, now, []), CancellationToken.None);

        var options = Options.Create(new ServingOptions { AliasCacheSeconds = 0 });
        var log = new PredictionLog(storage, Options.Create(new PredictionLogOptions { FlushInterval = TimeSpan.FromMilliseconds(100) }), TimeProvider.System, NullLogger<PredictionLog>.Instance);
        await log.StartAsync(CancellationToken.None);
        var server = new ModelServer(registry, new ModelArtifactStore(storage), options, TimeProvider.System);
        var service = new PredictionService(server, new RolloutStore(storage), log, options, TimeProvider.System, NullLogger<PredictionService>.Instance);
        var api = new PredictionApi(service, registry, options, TimeProvider.System);
        var context = new DefaultHttpContext();
        context.Request.ContentType = "application/json";
        context.Request.Headers[RequestIds.Header] = "shadowed-1";
        context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(
            """{"instances":[{"tenure_months":2,"monthly_charges":105,"support_calls":5,"contract":"month-to-month","internet_service":"fiber","payment_method":"electronic-check"}]}"""));

        var result = await api.PredictAsync(context.Request, model, CancellationToken.None);

        Assert.Equal(StatusCodes.Status200OK, (result as IStatusCodeHttpResult)?.StatusCode ?? StatusCodes.Status200OK);
        var reader = new PredictionLogReader(storage);
        var records = await Eventually.WaitAsync(
            async () => await reader.ReadAsync(model, now.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1), new UnreadableLines()).ToListAsync(),
            found => found.Count >= 2,
            interval: TimeSpan.FromMilliseconds(100));

        await log.StopAsync(CancellationToken.None);
        server.Dispose();
        var shadow = Assert.Single(records, r => r.Version == challenger.Version);
        Assert.Null(shadow.Error);
        Assert.Equal(("shadowed-1", false, "challenger"), (shadow.RequestId, shadow.Served, shadow.Alias));
        Assert.Single(records, r => r.Version == champion.Version && r.Served);
    }
}
