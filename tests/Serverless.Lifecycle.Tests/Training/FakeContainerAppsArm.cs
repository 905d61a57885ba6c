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
using Serverless.Lifecycle.Tests.Contracts;

namespace Serverless.Lifecycle.Tests.Training;

/// <summary>
/// A loopback HTTPS server that answers like Azure Resource Manager for Container Apps jobs, with
/// the bodies of the official examples of the vendored Microsoft.App specification
/// (<see cref="MicrosoftAppContract"/>, api-version 2025-01-01) adjusted only in ids, names and the
/// container: <c>GET …/jobs/{job}</c> (Job_Get.json: the job with its template), <c>POST …/jobs/{job}/start</c>
/// (Job_Start.json: 200 with JobExecutionBase, or 202 with Location), <c>GET …/jobs/{job}/executions/{name}</c>
/// (Job_Execution_Get.json: properties.status, and the template the start posted) and
/// <c>POST …/executions/{name}/stop</c> (Job_Stop_Execution.json: 200 without a body). Errors are
/// DefaultErrorResponse bodies. Failures (429/5xx with Retry-After) can be queued per operation.
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

    /// <summary>Every request: method, path and query, Authorization header, body, Content-Type header.</summary>
    public ConcurrentQueue<(string Method, string PathAndQuery, string? Authorization, string Body, string? ContentType)> Requests { get; } = new();

    /// <summary>Every response from the Resource Manager paths (not the operation polls): status and body ("" for none).</summary>
    public ConcurrentQueue<(string Method, string Path, int Status, string Body)> Responses { get; } = new();

    /// <summary>Responses to give before the real one, per operation: start, execution, stop, job.</summary>
    public ConcurrentDictionary<string, ConcurrentQueue<(int Status, int? RetryAfterSeconds)>> Faults { get; } = new();

    /// <summary>Execution name → status as the platform reports it (Running, Succeeded, Failed...).</summary>
    public ConcurrentDictionary<string, string> Executions { get; } = new();

    /// <summary>Execution name → the template its start posted (what the platform runs), served in its properties.</summary>
    public ConcurrentDictionary<string, JsonNode?> ExecutionTemplates { get; } = new();

    /// <summary>The image in the job's template (a deployment changes it).</summary>
    public string Image { get; set; } = "registry.azurecr.io/gpu-trainer:1.0";

    /// <summary>Changes the job template's container after it is made from the example (a test adds what the platform may return).</summary>
    public Action<JsonObject>? EditContainer { get; set; }

    /// <summary>Answer start with 202 and a Location to poll instead of 200.</summary>
    public bool StartAnswersAccepted { get; set; }

    /// <summary>Called with the started execution's environment, as the platform would run the container.</summary>
    public Func<IReadOnlyDictionary<string, string>, Task>? OnStart { get; set; }

    public static string JobPath => JobPathOf(JobName);

    public static string JobPathOf(string job) => $"/subscriptions/{SubscriptionId}/resourceGroups/{ResourceGroup}/providers/Microsoft.App/jobs/{job}";

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

    /// <summary>
    /// The job as Job_Get.json returns it, for <paramref name="job"/>: its id and name, and the template's
    /// one container the deployment gives it (infra/app/trainer.bicep: "trainer", its image, environment
    /// and resources; no init containers).
    /// </summary>
    public JsonNode JobBody(string job)
    {
        var body = MicrosoftAppContract.ExampleResponse("Job_Get.json", 200)!;
        body["id"] = JobPathOf(job);
        body["name"] = job;
        var properties = body["properties"]!;
        properties["environmentId"] = $"/subscriptions/{SubscriptionId}/resourceGroups/{ResourceGroup}/providers/Microsoft.App/managedEnvironments/environment";
        var template = properties["template"]!.AsObject();
        template.Remove("initContainers");
        var container = template["containers"]![0]!.AsObject();
        container["name"] = "trainer";
        container["image"] = Image;
        container["env"] = new JsonArray(new JsonObject { ["name"] = "Storage__BlobServiceUri", ["value"] = "https://account.blob.core.windows.net" });
        container["resources"] = new JsonObject { ["cpu"] = 4, ["memory"] = "16Gi" };
        EditContainer?.Invoke(container);
        return body;
    }

    /// <summary>Job_Start.json's 200 body (JobExecutionBase) for an execution of <paramref name="job"/>.</summary>
    public static JsonNode ExecutionBaseBody(string job, string name)
    {
        var body = MicrosoftAppContract.ExampleResponse("Job_Start.json", 200)!;
        body["name"] = name;
        body["id"] = $"{JobPathOf(job)}/executions/{name}";
        return body;
    }

    private void Map()
    {
        var prefix = $"/subscriptions/{{sub}}/resourceGroups/{{rg}}/providers/Microsoft.App/jobs/{{job}}";
        app.Use(async (context, next) =>
        {
            context.Request.EnableBuffering();
            var body = await new StreamReader(context.Request.Body).ReadToEndAsync();
            context.Request.Body.Position = 0;
            Requests.Enqueue((context.Request.Method, context.Request.Path + context.Request.QueryString, context.Request.Headers.Authorization.FirstOrDefault(), body, context.Request.ContentType));
            if (context.Request.Query["api-version"] != MicrosoftAppContract.ApiVersion)
            {
                context.Response.StatusCode = 400;
                await context.Response.WriteAsJsonAsync(Error("MissingApiVersionParameter", "The api-version query parameter is required."));
                return;
            }

            if (context.Request.Headers.Authorization != "Bearer " + Token)
            {
                context.Response.StatusCode = 401;
                await context.Response.WriteAsJsonAsync(Error("AuthenticationFailed", "No bearer token."));
                return;
            }

            if (!context.Request.Path.StartsWithSegments("/subscriptions", StringComparison.Ordinal))
            {
                await next();
                return;
            }

            // Keep what is answered, for the contract tests to check against the specification.
            var original = context.Response.Body;
            using var buffer = new MemoryStream();
            context.Response.Body = buffer;
            try
            {
                await next();
            }
            finally
            {
                context.Response.Body = original;
            }

            Responses.Enqueue((context.Request.Method, context.Request.Path.Value!, context.Response.StatusCode, System.Text.Encoding.UTF8.GetString(buffer.ToArray())));
            buffer.Position = 0;
            await buffer.CopyToAsync(original);
        });

        app.MapGet(prefix, (HttpContext http, string job) => Faulted(http, "job") ?? Results.Json(JobBody(job)));

        app.MapPost(prefix + "/start", async (HttpContext http, string job) =>
        {
            if (Faulted(http, "start") is { } fault)
            {
                return fault;
            }

            var body = await JsonNode.ParseAsync(http.Request.Body);
            var container = body?["containers"]?[0];
            if (container?["image"] is null || container["name"] is null)
            {
                return Results.Json(Error("InvalidRequestContent", "containers[0] needs name and image."), statusCode: 400);
            }

            var environment = (container["env"] as JsonArray ?? [])
                .OfType<JsonObject>()
                .ToDictionary(e => e["name"]!.GetValue<string>(), e => e["value"]?.GetValue<string>() ?? "");
            var name = $"{job}-{Interlocked.Increment(ref executions)}";
            ExecutionTemplates[name] = body;
            Executions[name] = "Running";
            if (OnStart is { } onStart)
            {
                await onStart(environment);
            }

            if (!StartAnswersAccepted)
            {
                return Results.Json(ExecutionBaseBody(job, name));
            }

            http.Response.Headers.Location = new Uri(Endpoint, $"/operations/{job}/{name}?api-version={MicrosoftAppContract.ApiVersion}").ToString();
            http.Response.Headers.RetryAfter = "0";
            return Results.StatusCode(202);
        });

        var polled = new ConcurrentDictionary<string, int>();
        app.MapGet("/operations/{job}/{name}", (string job, string name) =>
            polled.AddOrUpdate(name, 1, (_, n) => n + 1) == 1
                ? Results.StatusCode(202)
                : Results.Json(ExecutionBaseBody(job, name)));

        app.MapGet(prefix + "/executions/{name}", (HttpContext http, string name) =>
        {
            if (Faulted(http, "execution") is { } fault)
            {
                return fault;
            }

            if (!Executions.TryGetValue(name, out var status))
            {
                return Results.Json(Error("ResourceNotFound", $"Execution {name} was not found."), statusCode: 404);
            }

            // Job_Execution_Get.json, for this execution: its name, status and the template it was started with.
            var body = MicrosoftAppContract.ExampleResponse("Job_Execution_Get.json", 200)!;
            body["name"] = name;
            body["properties"]!["status"] = status;
            if (ExecutionTemplates.TryGetValue(name, out var template) && template is not null)
            {
                body["properties"]!["template"] = template.DeepClone();
            }

            return Results.Json(body);
        });

        app.MapPost(prefix + "/executions/{name}/stop", (HttpContext http, string name) =>
        {
            if (Faulted(http, "stop") is { } fault)
            {
                return fault;
            }

            if (!Executions.TryGetValue(name, out var status))
            {
                return Results.Json(Error("ResourceNotFound", $"Execution {name} was not found."), statusCode: 404);
            }

            if (status != "Running")
            {
                return Results.Json(Error("Conflict", $"Execution {name} is {status}."), statusCode: 409);
            }

            // Job_Stop_Execution.json: 200 without a body.
            Executions[name] = "Stopped";
            return Results.Ok();
        });
    }

    /// <summary>A DefaultErrorResponse (CommonDefinitions.json).</summary>
    private static JsonObject Error(string code, string message) => new() { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } };

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

        return Results.Json(Error(fault.Status == 429 ? "TooManyRequests" : "InternalServerError", $"Injected {fault.Status}."), statusCode: fault.Status);
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
