using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Azure.Functions.Worker;
using Serverless.Functions;
using Serverless.Laptop;
using Serverless.Lifecycle.Api;

namespace Serverless.Hosts.Tests;

public sealed class RouteParityTests
{
    private static readonly IReadOnlySet<string> Expected =
        ApiRoutes.All.Select(r => $"{r.Method} /{ApiRoutes.Prefix}/{r.Route}").ToHashSet();

    private static IEnumerable<(MethodInfo Method, HttpTriggerAttribute Trigger)> FunctionHttpTriggers() =>
        typeof(RegistryFunctions).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(m => m.GetCustomAttribute<FunctionAttribute>() is not null)
            .SelectMany(m => m.GetParameters().Select(p => p.GetCustomAttribute<HttpTriggerAttribute>()).OfType<HttpTriggerAttribute>().Select(t => (m, t)));

    internal static IReadOnlySet<string> FunctionsRoutes() =>
        FunctionHttpTriggers()
            .SelectMany(x => x.Trigger.Methods!.Select(method => $"{method.ToUpperInvariant()} /{ApiRoutes.Prefix}/{x.Trigger.Route}"))
            .ToHashSet();

    internal static IReadOnlySet<string> LaptopRoutes()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration["Storage:ConnectionString"] = "UseDevelopmentStorage=true";
        builder.AddLaptopMode();
        var app = builder.Build();
        app.MapLifecycleApi();
        return ((IEndpointRouteBuilder)app).DataSources
            .SelectMany(d => d.Endpoints)
            .OfType<RouteEndpoint>()
            .SelectMany(e => e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.Select(method => $"{method} {e.RoutePattern.RawText}"))
            .ToHashSet();
    }

    [Fact]
    public void FunctionsApp_ExposesExactlyTheApiRoutes()
    {
        Assert.Equal(Expected.Order(), FunctionsRoutes().Order());
    }

    [Fact]
    public void LaptopHost_ExposesExactlyTheApiRoutes()
    {
        Assert.Equal(Expected.Order(), LaptopRoutes().Order());
    }

    [Fact]
    public void BothHosts_ExposeTheSameRoutes()
    {
        Assert.Equal(FunctionsRoutes().Order(), LaptopRoutes().Order());
    }

    /// <summary>
    /// The host's function keys guard the machine routes only; scoring, reading and administration are
    /// anonymous at the host so that a host key cannot open them, and the worker's CallerMiddleware asks
    /// for a scoring key the product issued or an Entra app role instead (CallerMiddlewareTests).
    /// </summary>
    [Fact]
    public void FunctionsApp_HostKeysGuardMachineRoutesOnly_TheWorkerTheRest()
    {
        foreach (var (method, trigger) in FunctionHttpTriggers())
        {
            foreach (var verb in trigger.Methods!)
            {
                var access = ApiAccess.Of(verb.ToUpperInvariant(), trigger.Route!);
                var expected = access is RouteAccess.Key ? AuthorizationLevel.Function : AuthorizationLevel.Anonymous;
                Assert.True(trigger.AuthLevel == expected, $"{method.Name} ({verb} {trigger.Route}, {access}) has auth level {trigger.AuthLevel}, expected {expected}");
            }
        }
    }

    [Theory]
    [InlineData("http://127.0.0.1:7071", true)]
    [InlineData("http://127.0.0.2:7071", true)]
    [InlineData("http://localhost:5000", true)]
    [InlineData("http://[::1]:7071", true)]
    [InlineData("http://0.0.0.0:7071", false)]
    [InlineData("http://*:7071", false)]
    [InlineData("http://+:7071", false)]
    [InlineData("http://192.168.1.10:7071", false)]
    [InlineData("not a url", false)]
    public void LaptopHost_KnowsLoopbackAddresses(string url, bool loopback)
    {
        Assert.Equal(loopback, LaptopHostExtensions.IsLoopback(url));
    }

    [Fact]
    public void LaptopHost_RefusesToStartWithAnyNonLoopbackAddress()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => LaptopHostExtensions.EnsureLoopback("http://127.0.0.1:7071;http://0.0.0.0:8080"));
        Assert.Contains("0.0.0.0:8080", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(";", "names no address")]
    [InlineData("http://127.0.0.1:abc", "'http://127.0.0.1:abc' is not an http(s) URL")]
    [InlineData("ftp://127.0.0.1:21", "is not an http(s) URL")]
    public void LaptopHost_RefusesAnEmptyOrMalformedAddressList_NamingTheSetting(string urls, string expected)
    {
        var ex = Assert.Throws<InvalidOperationException>(() => LaptopHostExtensions.EnsureLoopback(urls, "Kestrel:Endpoints:Http:Url"));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.Contains("Kestrel:Endpoints:Http:Url", ex.Message, StringComparison.Ordinal);
    }
}
