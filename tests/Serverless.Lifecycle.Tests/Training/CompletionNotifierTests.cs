using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Serverless.Lifecycle.Training;
using Serverless.Trainer;

namespace Serverless.Lifecycle.Tests.Training;

/// <summary>The trainer's completion callback against a loopback server: retried on 5xx, final on 4xx, never fatal.</summary>
public sealed class CompletionNotifierTests : IAsyncLifetime
{
    private readonly ConcurrentQueue<int> answers = new();
    private readonly ConcurrentQueue<string> bodies = new();
    private readonly ConcurrentQueue<string?> authorizations = new();
    private WebApplication app = null!;
    private Uri url = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        app = builder.Build();
        app.MapPost("/api/runs/{runId}/jobs/{jobId}/complete", async (HttpRequest request) =>
        {
            bodies.Enqueue(await new StreamReader(request.Body).ReadToEndAsync());
            authorizations.Enqueue(request.Headers.Authorization.FirstOrDefault());
            return Results.StatusCode(answers.TryDequeue(out var status) ? status : 202);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        url = new Uri(new Uri(address), "/api/runs/r/jobs/r-train/complete");
    }

    public async Task DisposeAsync() => await app.DisposeAsync();

    private static HttpCompletionNotifier Notifier(HttpClient http, Azure.Core.TokenCredential? credential = null, TextWriter? log = null) =>
        new(http, log ?? TextWriter.Null, [TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(10)], credential);

    private static TrainingJobSpec Job(Uri? callback) => ContainerAppsJobDispatcherTests.Job("r", "r-train") with { CallbackUrl = callback };

    private static TrainingJobResult Result => TrainingJobResult.PipelineFailure("r-train", TrainingJobState.Succeeded, "");

    [Fact]
    public async Task Notify_ServerErrorsThenAccepted_RetriesUntilDelivered()
    {
        answers.Enqueue(503);
        answers.Enqueue(500);
        using var http = new HttpClient();

        await Notifier(http).NotifyAsync(Job(url), Result, CancellationToken.None);

        Assert.Equal(3, bodies.Count);
        Assert.Contains("\"runId\":\"r\",\"jobId\":\"r-train\",\"state\":\"succeeded\"", bodies.Last(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Notify_Conflict_IsFinalAndNotRetried()
    {
        answers.Enqueue(409);
        using var http = new HttpClient();

        await Notifier(http).NotifyAsync(Job(url), Result, CancellationToken.None);

        Assert.Single(bodies);
    }

    [Fact]
    public async Task Notify_Unreachable_GivesUpWithoutThrowing()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var closed = new Uri("http://127.0.0.1:1/api/runs/r/jobs/r-train/complete");

        var attempt = await Record.ExceptionAsync(() => Notifier(http).NotifyAsync(Job(closed), Result, CancellationToken.None));

        Assert.Null(attempt);
        Assert.Empty(bodies);
    }

    [Fact]
    public async Task Notify_NoCallbackUrl_SendsNothing()
    {
        using var http = new HttpClient();

        await Notifier(http).NotifyAsync(Job(null), Result, CancellationToken.None);

        Assert.Empty(bodies);
    }

    [Fact]
    public async Task Notify_WithAnAudience_SendsTheTrainerIdentitysTokenForIt_AndNoKeyInTheUrl()
    {
        using var http = new HttpClient();
        var identity = new FakeIdentity();

        await Notifier(http, identity).NotifyAsync(Job(url) with { CallbackAudience = "api://11111111-2222-3333-4444-555555555555" }, Result, CancellationToken.None);

        Assert.Single(bodies);
        Assert.Equal("Bearer token-for api://11111111-2222-3333-4444-555555555555/.default", Assert.Single(authorizations));
        Assert.Equal(["api://11111111-2222-3333-4444-555555555555/.default"], identity.Scopes);
        Assert.Empty(url.Query);
    }

    [Fact]
    public async Task Notify_WithoutAnAudience_SendsNoToken()
    {
        using var http = new HttpClient();

        await Notifier(http, new FakeIdentity()).NotifyAsync(Job(url), Result, CancellationToken.None);

        Assert.Null(Assert.Single(authorizations));
    }

    [Fact]
    public async Task Notify_AnAudienceButNoIdentity_PostsNothing_AndSaysTheStatusChecksWillFindTheResult()
    {
        using var http = new HttpClient();
        using var log = new StringWriter();

        await Notifier(http, credential: null, log).NotifyAsync(Job(url) with { CallbackAudience = "api://app" }, Result, CancellationToken.None);

        Assert.Empty(bodies);
        Assert.Contains("has no identity", log.ToString(), StringComparison.Ordinal);
    }

    /// <summary>Stands in for the trainer's managed identity: a token named after the scope it was asked for.</summary>
    private sealed class FakeIdentity : Azure.Core.TokenCredential
    {
        public List<string> Scopes { get; } = [];

        public override Azure.Core.AccessToken GetToken(Azure.Core.TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            Scopes.AddRange(requestContext.Scopes);
            return new Azure.Core.AccessToken("token-for " + string.Join(' ', requestContext.Scopes), DateTimeOffset.UtcNow.AddHours(1));
        }

        public override ValueTask<Azure.Core.AccessToken> GetTokenAsync(Azure.Core.TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }
}
