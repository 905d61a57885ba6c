using System.Text.Json.Nodes;
using Azure;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Serverless.Functions;
using Serverless.Lifecycle.Api;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Storage;
using Serverless.Tests;

namespace Serverless.Hosts.Tests.Functions;

/// <summary>
/// The Functions app's answer to an exception an HTTP function did not handle: the worker middleware
/// runs the API's exception handler, registered by <c>AddLifecycleApi()</c> as the app registers it.
/// </summary>
public sealed class ExceptionHandlingMiddlewareTests : IDisposable
{
    // An exception message that must never reach a caller: it could hold a connection string.
    private const string Secret = "AccountKey=c2VjcmV0; the caller must never see this";

    private readonly RecordingLogger<ApiExceptionHandler> log = new();
    private readonly ServiceProvider services;

    public ExceptionHandlingMiddlewareTests()
    {
        var collection = new ServiceCollection();
        collection.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        collection.AddLogging();
        collection.AddLifecycleApi();
        collection.AddSingleton<ILogger<ApiExceptionHandler>>(log);
        services = collection.BuildServiceProvider();
    }

    public void Dispose() => services.Dispose();

    private async Task<(HttpContext Http, JsonObject Body)> InvokeAsync(Exception thrown)
    {
        var http = new DefaultHttpContext { RequestServices = services, TraceIdentifier = "trace-of-this-request" };
        http.Request.Method = HttpMethods.Get;
        http.Request.Path = "/api/models/m";
        http.Response.Body = new MemoryStream();
        var context = new HttpFunctionContext(http, services);
        Assert.Same(http, context.GetHttpContext());

        var middleware = ActivatorUtilities.CreateInstance<ExceptionHandlingMiddleware>(services);
        await middleware.Invoke(context, _ => throw thrown);

        var text = System.Text.Encoding.UTF8.GetString(((MemoryStream)http.Response.Body).ToArray());
        Assert.DoesNotContain(Secret, text, StringComparison.Ordinal);
        Assert.DoesNotContain(thrown.GetType().Name, text, StringComparison.Ordinal);
        return (http, JsonNode.Parse(text)!.AsObject());
    }

    [Fact]
    public async Task AnUnhandledException_IsA500ProblemDetailsWithTheTraceId_WithoutTheExceptionsTextOrStack_AndIsLogged()
    {
        var thrown = new InvalidOperationException(Secret);

        var (http, body) = await InvokeAsync(thrown);

        Assert.Equal(500, http.Response.StatusCode);
        Assert.Equal("application/problem+json", http.Response.ContentType);

        // The same members laptop mode answers with (LaptopExceptionHandlerTests).
        Assert.Equal(["detail", "status", "title", "traceId", "type"], body.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal(ApiExceptionHandler.UnexpectedTitle, (string?)body["title"]);
        Assert.Equal(ApiExceptionHandler.UnexpectedDetail, (string?)body["detail"]);
        Assert.Equal(500, (int?)body["status"]);
        Assert.Equal("trace-of-this-request", (string?)body["traceId"]);
        var entry = Assert.Single(log.Entries, e => e.Exception == thrown);
        Assert.Equal(LogLevel.Error, entry.Level);
        Assert.Contains("trace-of-this-request", entry.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string> StorageFailures() => new() { "refused", "server error", "unavailable exception" };

    private static Exception StorageFailure(string kind) => kind switch
    {
        // As the SDK throws once its retries are spent: every attempt failed to connect.
        "refused" => new AggregateException(new RequestFailedException(0, "Connection refused (127.0.0.1:10000)"), new RequestFailedException(0, "Connection refused (127.0.0.1:10000)")),
        "server error" => new RequestFailedException(503, "The server is busy."),
        _ => new StorageUnavailableException("Storage is unreachable while loading version 2 of 'm'."),
    };

    [Theory]
    [MemberData(nameof(StorageFailures))]
    public async Task StorageUnreachable_IsThe503EveryEndpointGives_WithRetryAfter(string kind)
    {
        var (http, body) = await InvokeAsync(StorageFailure(kind));
        var endpoint = await ExecuteAsync(await ApiResults.HandleAsync(() => throw StorageFailure(kind)));

        Assert.Equal(503, http.Response.StatusCode);
        Assert.Equal(endpoint.Http.Response.StatusCode, http.Response.StatusCode);
        Assert.Equal(endpoint.Http.Response.Headers.RetryAfter.ToString(), http.Response.Headers.RetryAfter.ToString());
        Assert.Equal("5", http.Response.Headers.RetryAfter.ToString());
        Assert.Equal("application/problem+json", http.Response.ContentType);
        Assert.Equal((string?)endpoint.Body["title"], (string?)body["title"]);
        Assert.Equal((string?)endpoint.Body["detail"], (string?)body["detail"]);
        Assert.Equal("trace-of-this-request", (string?)body["traceId"]);
        Assert.Equal(LogLevel.Warning, Assert.Single(log.Entries).Level);
    }

    [Fact]
    public async Task AnUnservableVersion_IsThe503WithTheVersionNamed()
    {
        var (http, body) = await InvokeAsync(new ModelVersionUnservableException("m", 2, "its card.json does not match the SHA-256 the registry recorded", 30));

        Assert.Equal(503, http.Response.StatusCode);
        Assert.Equal("30", http.Response.Headers.RetryAfter.ToString());
        Assert.Equal(("m", 2), ((string?)body["model"], (int?)body["version"]));
        Assert.Contains("card.json", (string?)body["reason"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnExceptionOfAFunctionWithoutHttp_IsRethrown_ForDurableRetriesToSee()
    {
        var context = new HttpFunctionContext(null, services);
        var middleware = ActivatorUtilities.CreateInstance<ExceptionHandlingMiddleware>(services);
        var thrown = new InvalidOperationException("an activity failed");

        var caught = await Assert.ThrowsAsync<InvalidOperationException>(() => middleware.Invoke(context, _ => throw thrown));

        Assert.Same(thrown, caught);
        Assert.Empty(log.Entries);
    }

    private async Task<(HttpContext Http, JsonObject Body)> ExecuteAsync(IResult result)
    {
        var http = new DefaultHttpContext { RequestServices = services };
        http.Response.Body = new MemoryStream();
        await result.ExecuteAsync(http);
        return (http, JsonNode.Parse(((MemoryStream)http.Response.Body).ToArray())!.AsObject());
    }
}
