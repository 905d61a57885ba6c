using Azure.Core;
using Azure.Identity;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Serverless.Lifecycle.Observability;

/// <summary>
/// OpenTelemetry for both hosts: the product's meter and trace source, the Durable Task engines'
/// spans and outgoing HTTP, and the exporters the configuration asks for.
/// <list type="bullet">
/// <item><c>APPLICATIONINSIGHTS_CONNECTION_STRING</c>: the Azure Monitor exporter, authenticated
/// with Entra ID (<c>APPLICATIONINSIGHTS_AUTHENTICATION_STRING</c> =
/// <c>Authorization=AAD;ClientId=…</c> names the user-assigned identity), as Application Insights
/// with local auth disabled requires.</item>
/// <item><c>OTEL_EXPORTER_OTLP_ENDPOINT</c>: the OTLP exporter (a local collector, Aspire's dashboard, Jaeger).</item>
/// <item><c>Telemetry:Console</c> = true: the console exporter.</item>
/// </list>
/// None of them: nothing is registered, and the instruments cost next to nothing.
/// </summary>
public static class LifecycleTelemetry
{
    public const string ConnectionStringSetting = "APPLICATIONINSIGHTS_CONNECTION_STRING";
    public const string AuthenticationStringSetting = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";
    public const string OtlpEndpointSetting = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public const string ConsoleSetting = "Telemetry:Console";

    /// <summary>The Durable Task engines' trace sources: the framework (laptop host) and the SDK (Functions worker).</summary>
    public static readonly string[] DurableTaskSources = ["DurableTask.Core", "Microsoft.DurableTask"];

    /// <param name="host">What the host adds: its own instrumentation (ASP.NET Core, the Functions worker).</param>
    public static IServiceCollection AddLifecycleTelemetry(this IServiceCollection services, IConfiguration configuration, string serviceName, Action<OpenTelemetryBuilder>? host = null)
    {
        var exporters = Exporters.From(configuration);
        if (!exporters.Any)
        {
            return services;
        }

        var builder = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName))
            .WithTracing(tracing => tracing.AddSource(TelemetryNames.ActivitySource).AddSource(DurableTaskSources).AddHttpClientInstrumentation())
            .WithMetrics(metrics => metrics.AddMeter(TelemetryNames.Meter));

        if (exporters.AzureMonitor is { } azureMonitor)
        {
            builder.UseAzureMonitorExporter(azureMonitor);
        }

        if (exporters.Otlp is not null)
        {
            builder.UseOtlpExporter();
        }

        if (exporters.Console)
        {
            builder.WithTracing(tracing => tracing.AddConsoleExporter()).WithMetrics(metrics => metrics.AddConsoleExporter());
        }

        host?.Invoke(builder);
        return services;
    }

    /// <summary>
    /// Tracing for a process without a host (the trainer): the product's spans to the exporters the
    /// configuration asks for, as <see cref="AddLifecycleTelemetry"/> does; null when none is
    /// configured. Dispose it before exit, which flushes.
    /// </summary>
    public static TracerProvider? CreateTracerProvider(IConfiguration configuration, string serviceName)
    {
        var exporters = Exporters.From(configuration);
        if (!exporters.Any)
        {
            return null;
        }

        var builder = Sdk.CreateTracerProviderBuilder()
            .ConfigureResource(resource => resource.AddService(serviceName))
            .AddSource(TelemetryNames.ActivitySource);
        if (exporters.AzureMonitor is { } azureMonitor)
        {
            builder.AddAzureMonitorTraceExporter(azureMonitor);
        }

        if (exporters.Otlp is { } otlp)
        {
            builder.AddOtlpExporter(options => options.Endpoint = otlp);
        }

        if (exporters.Console)
        {
            builder.AddConsoleExporter();
        }

        return builder.Build();
    }

    /// <summary>
    /// The credential an authentication string asks for: <c>Authorization=AAD;ClientId=…</c> a
    /// user-assigned managed identity, <c>Authorization=AAD</c> the system-assigned one; null (the
    /// connection string alone) when there is none.
    /// </summary>
    public static TokenCredential? EntraCredential(string? authenticationString)
    {
        var parts = (authenticationString ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2))
            .Where(p => p.Length == 2)
            .ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);
        if (!parts.TryGetValue("Authorization", out var authorization))
        {
            // Something was set, but not what asks for Entra: falling back to the key would be refused by a resource without local auth.
            return string.IsNullOrWhiteSpace(authenticationString)
                ? null
                : throw new InvalidOperationException($"{AuthenticationStringSetting} has no Authorization=AAD; expected Authorization=AAD, with ClientId=<client id> for a user-assigned identity.");
        }

        if (!authorization.Equals("AAD", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"{AuthenticationStringSetting} has Authorization={authorization}; only AAD (Entra ID) is supported.");
        }

        return parts.TryGetValue("ClientId", out var clientId) && clientId.Length > 0
            ? new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId))
            : new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned);
    }

    /// <summary>
    /// An Application Insights connection string is <c>key=value</c> pairs with an
    /// <c>InstrumentationKey</c>; anything else is refused here with the setting named (the
    /// exporter's own message does not say which connection string it means).
    /// </summary>
    public static void CheckConnectionString(string connectionString)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        var pairs = connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (pairs.Length == 0 || pairs.Any(p => !p.Contains('=', StringComparison.Ordinal))
            || !pairs.Any(p => p.StartsWith("InstrumentationKey=", StringComparison.OrdinalIgnoreCase) && p.Length > "InstrumentationKey=".Length))
        {
            throw new InvalidOperationException($"{ConnectionStringSetting} is not an Application Insights connection string; expected InstrumentationKey=…;IngestionEndpoint=… as the resource shows it.");
        }
    }

    /// <summary>The OTLP endpoint, which must be an absolute http(s) URL (without a scheme the exporter sends nothing, silently).</summary>
    public static Uri OtlpEndpoint(string endpoint) =>
        Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) && uri.Host.Length > 0
            ? uri
            : throw new InvalidOperationException($"{OtlpEndpointSetting} is '{endpoint}'; expected an absolute http(s) URL such as http://localhost:4317.");

    /// <summary>The exporters the configuration asks for, read once for both kinds of host.</summary>
    private sealed record Exporters(Action<AzureMonitorExporterOptions>? AzureMonitor, Uri? Otlp, bool Console)
    {
        public bool Any => AzureMonitor is not null || Otlp is not null || Console;

        public static Exporters From(IConfiguration configuration)
        {
            ArgumentNullException.ThrowIfNull(configuration);
            Action<AzureMonitorExporterOptions>? azureMonitor = null;
            if (configuration[ConnectionStringSetting] is { Length: > 0 } connectionString)
            {
                CheckConnectionString(connectionString);
                var credential = EntraCredential(configuration[AuthenticationStringSetting]);
                azureMonitor = options =>
                {
                    options.ConnectionString = connectionString;
                    options.Credential = credential;
                };
            }

            var otlp = configuration[OtlpEndpointSetting] is { Length: > 0 } endpoint ? OtlpEndpoint(endpoint) : null;
            return new Exporters(azureMonitor, otlp, configuration.GetValue<bool>(ConsoleSetting));
        }
    }
}
