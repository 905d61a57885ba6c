using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Azure.Core;
using Azure.Core.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Serverless.Lifecycle.Tests.Training;

/// <summary>
/// A loopback HTTPS server that answers like Azure Resource Manager for one Container Apps job,
/// with the documented shapes (api-version 2025-01-01): <c>GET …/jobs/{job}</c> (the job with its
/// template), <c>POST …/jobs/{job}/start</c> (200 with JobExecutionBase, or 202 with Location),
/// <c>GET …/jobs/{job}/executions/{name}</c> (properties.status) and
/// <c>POST …/executions/{name}/stop</c>. Failures (429/5xx with Retry-After) can be queued per operation.
/// </summary>
public sealed class FakeContainerAppsArm : IAsyncDisposable
{
    public const string SubscriptionId = "34adfa4f-cedf-4dc0-ba29-b6d1a69ab345";
    public const string ResourceGroup = "rg";
    public const string JobName = "trainer-job";
    public const string Token = "test-token";

    private readonly WebApplication app;
    private readonly X509Certificate2 certificate;
    private int executions;

    private FakeContainerAppsArm(WebApplication app, X509Certificate2 certificate)
    {
        this.app = app;
        this.certificate = certificate;
    }

    public Uri Endpoint { get; private set; } = null!;

    /// <summary>Every request: method, path and query, Authorization header, body.</summary>
    public ConcurrentQueue<(string Method, string PathAndQuery, string? Authorization, string Body)> Requests { get; } = new();

    /// <summary>Responses to give before the real one, per operation: start, execution, stop, job.</summary>
    public ConcurrentDictionary<string, ConcurrentQueue<(int Status, int? RetryAfterSeconds)>> Faults { get; } = new();

    /// <summary>Execution name → status as the platform reports it (Running, Succeeded, Failed...).</summary>
    public ConcurrentDictionary<string, string> Executions { get; } = new();

    /// <summary>The image in the job's template (a deployment changes it).</summary>
    public string Image { get; set; } = "registry.azurecr.io/gpu-trainer:1.0";

    /// <summary>Answer start with 202 and a Location to poll instead of 200.</summary>
    public bool StartAnswersAccepted { get; set; }

    /// <summary>Called with the started execution's environment, as the platform would run the container.</summary>
    public Func<IReadOnlyDictionary<string, string>, Task>? OnStart { get; set; }

    public static string JobPath => $"/subscriptions/{SubscriptionId}/resourceGroups/{ResourceGroup}/providers/Microsoft.App/jobs/{JobName}";

    public static async Task<FakeContainerAppsArm> StartAsync()
    {
        var certificate = CreateCertificate();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate)));
        var app = builder.Build();
        var fake = new FakeContainerAppsArm(app, certificate);
        fake.Map();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        fake.Endpoint = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal));
        return fake;
    }

    /// <summary>A transport that trusts this server's certificate alone.</summary>
    public HttpPipelineTransport Transport() => new HttpClientTransport(new HttpClientHandler
    {
        ServerCertificateCustomValidationCallback = (_, cert, _, _) => cert?.Thumbprint == certificate.Thumbprint,
    });

    public void Fail(string operation, int status, int? retryAfterSeconds = null) =>
        Faults.GetOrAdd(operation, _ => new()).Enqueue((status, retryAfterSeconds));

    public int Count(string method, string pathSuffix) =>
        Requests.Count(r => r.Method == method && r.PathAndQuery.Split('?')[0].EndsWith(pathSuffix, StringComparison.Ordinal));

    private void Map()
    {
        var prefix = $"/subscriptions/{{sub}}/resourceGroups/{{rg}}/providers/Microsoft.App/jobs/{{job}}";
        app.Use(async (context, next) =>
        {
            context.Request.EnableBuffering();
            var body = await new StreamReader(context.Request.Body).ReadToEndAsync();
            context.Request.Body.Position = 0;
            Requests.Enqueue((context.Request.Method, context.Request.Path + context.Request.QueryString, context.Request.Headers.Authorization.FirstOrDefault(), body));
            if (context.Request.Query["api-version"] != "2025-01-01")
            {
                context.Response.StatusCode = 400;
                await context.Response.WriteAsJsonAsync(new { error = new { code = "MissingApiVersionParameter", message = "The api-version query parameter is required." } });
                return;
            }

            if (context.Request.Headers.Authorization != "Bearer " + Token)
            {
                context.Response.StatusCode = 401;
                await context.Response.WriteAsJsonAsync(new { error = new { code = "AuthenticationFailed", message = "No bearer token." } });
                return;
            }

            await next();
        });

        app.MapGet(prefix, (HttpContext http) => Faulted(http, "job") ?? Results.Json(new JsonObject
        {
            ["id"] = JobPath,
            ["name"] = JobName,
            ["type"] = "Microsoft.App/jobs",
            ["properties"] = new JsonObject
            {
                ["triggerType"] = "Manual",
                ["template"] = new JsonObject
                {
                    ["containers"] = new JsonArray(new JsonObject
                    {
                        ["name"] = "trainer",
                        ["image"] = Image,
                        ["env"] = new JsonArray(new JsonObject { ["name"] = "Storage__BlobServiceUri", ["value"] = "https://account.blob.core.windows.net" }),
                        ["resources"] = new JsonObject { ["cpu"] = 4, ["memory"] = "16Gi" },
                    }),
                },
            },
        }));

        app.MapPost(prefix + "/start", async (HttpContext http) =>
        {
            if (Faulted(http, "start") is { } fault)
            {
                return fault;
            }

            var body = await JsonNode.ParseAsync(http.Request.Body);
            var container = body?["containers"]?[0];
            if (container?["image"] is null || container["name"] is null)
            {
                return Results.Json(new { error = new { code = "InvalidRequestContent", message = "containers[0] needs name and image." } }, statusCode: 400);
            }

            var environment = (container["env"] as JsonArray ?? [])
                .OfType<JsonObject>()
                .ToDictionary(e => e["name"]!.GetValue<string>(), e => e["value"]?.GetValue<string>() ?? "");
            var name = $"{JobName}-{Interlocked.Increment(ref executions)}";
            Executions[name] = "Running";
            if (OnStart is { } onStart)
            {
                await onStart(environment);
            }

            var execution = new { name, id = $"{JobPath}/executions/{name}" };
            if (!StartAnswersAccepted)
            {
                return Results.Json(execution);
            }

            http.Response.Headers.Location = new Uri(Endpoint, $"/operations/{name}?api-version=2025-01-01").ToString();
            http.Response.Headers.RetryAfter = "0";
            return Results.StatusCode(202);
        });

        var polled = new ConcurrentDictionary<string, int>();
        app.MapGet("/operations/{name}", (string name) =>
            polled.AddOrUpdate(name, 1, (_, n) => n + 1) == 1
                ? Results.StatusCode(202)
                : Results.Json(new { name, id = $"{JobPath}/executions/{name}" }));

        app.MapGet(prefix + "/executions/{name}", (HttpContext http, string name) =>
            Faulted(http, "execution")
            ?? (Executions.TryGetValue(name, out var status)
                ? Results.Json(new { name, id = $"{JobPath}/executions/{name}", properties = new { status, startTime = "2026-11-25T10:00:00+00:00" } })
                : Results.Json(new { error = new { code = "ResourceNotFound", message = $"Execution {name} was not found." } }, statusCode: 404)));

        app.MapPost(prefix + "/executions/{name}/stop", (HttpContext http, string name) =>
        {
            if (Faulted(http, "stop") is { } fault)
            {
                return fault;
            }

            if (!Executions.TryGetValue(name, out var status))
            {
                return Results.Json(new { error = new { code = "ResourceNotFound", message = $"Execution {name} was not found." } }, statusCode: 404);
            }

            if (status != "Running")
            {
                return Results.Json(new { error = new { code = "Conflict", message = $"Execution {name} is {status}." } }, statusCode: 409);
            }

            Executions[name] = "Stopped";
            return Results.Ok();
        });
    }

    private IResult? Faulted(HttpContext http, string operation)
    {
        if (!Faults.TryGetValue(operation, out var queue) || !queue.TryDequeue(out var fault))
        {
            return null;
        }

        if (fault.RetryAfterSeconds is { } seconds)
        {
            http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return Results.Json(new { error = new { code = fault.Status == 429 ? "TooManyRequests" : "InternalServerError", message = $"Injected {fault.Status}." } }, statusCode: fault.Status);
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }

    public async ValueTask DisposeAsync()
    {
        await app.DisposeAsync();
        certificate.Dispose();
    }
}

/// <summary>A fixed bearer token: Entra ID is not reachable here; the server checks the header it produces.</summary>
public sealed class StaticTokenCredential : TokenCredential
{
    public ConcurrentBag<string> Scopes { get; } = [];

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        foreach (var scope in requestContext.Scopes)
        {
            Scopes.Add(scope);
        }

        return new AccessToken(FakeContainerAppsArm.Token, DateTimeOffset.UtcNow.AddHours(1));
    }

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        new(GetToken(requestContext, cancellationToken));
}
