using System.Net;
using OpenTelemetry.Trace;
using Serverless.Lifecycle.Hosting;
using Serverless.Lifecycle.Observability;
using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Training;

namespace Serverless.Laptop;

public static class LaptopHostExtensions
{
    public const string DefaultUrl = "http://127.0.0.1:7071";

    /// <summary>The lifecycle, the local-process trainer and the Durable Task Framework on Azurite.</summary>
    public static WebApplicationBuilder AddLaptopMode(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var urls = builder.Configuration["urls"] ?? builder.Configuration["ASPNETCORE_URLS"] ?? DefaultUrl;
        EnsureLoopback(urls);

        // Kestrel's own endpoint settings override the urls: they must be loopback too.
        foreach (var endpoint in builder.Configuration.GetSection("Kestrel:Endpoints").GetChildren())
        {
            EnsureLoopback(endpoint["Url"] ?? "", $"Kestrel:Endpoints:{endpoint.Key}:Url");
        }

        builder.WebHost.UseUrls(urls);
        var maxUpload = builder.Configuration.GetSection(LaptopOptions.SectionName).Get<LaptopOptions>()?.MaxUploadBytes ?? new LaptopOptions().MaxUploadBytes;
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = maxUpload);

        builder.Services.AddServerlessLifecycle().AddTrainingDispatcher();
        builder.Services.AddLifecycleTelemetry(builder.Configuration, "serverless-lifecycle-laptop", otel => otel.WithTracing(tracing => tracing.AddAspNetCoreInstrumentation()));

        // The trainer reports to this host's callback route unless configured otherwise.
        var own = new Uri(urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[0].Replace("localhost", "127.0.0.1", StringComparison.Ordinal));
        builder.Services.PostConfigure<TrainingOptions>(o => o.CallbackBaseUrl ??= own);
        builder.Services.AddOptions<LaptopOptions>().BindConfiguration(LaptopOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<DurableTaskFrameworkHost>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<DurableTaskFrameworkHost>());
        builder.Services.AddSingleton<TaskHubEngine>();
        builder.Services.AddSingleton<IPipelineClient>(sp => new PipelineClient(sp.GetRequiredService<TaskHubEngine>()));

        // Azure scores batch files on an Event Grid blob trigger; laptop mode polls for them.
        builder.Services.AddHostedService<BatchInputWatcher>();

        // Azure runs the drift monitor on a timer trigger; laptop mode on its own timer.
        builder.Services.AddHostedService<Serverless.Lifecycle.Monitoring.MonitoringScheduler>();
        builder.Services.AddHostedService<Serverless.Lifecycle.Monitoring.DatasetWatcher>();
        builder.Services.AddProblemDetails();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
        return builder;
    }

    /// <summary>
    /// Laptop mode has no keys: it refuses to listen anywhere but on loopback. <paramref name="setting"/>
    /// names where the addresses came from, for the message.
    /// </summary>
    public static void EnsureLoopback(string urls, string setting = "urls")
    {
        ArgumentNullException.ThrowIfNull(urls);
        var list = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (list.Length == 0)
        {
            throw new InvalidOperationException($"{setting} names no address to listen on; laptop mode listens on {DefaultUrl} by default.");
        }

        foreach (var url in list)
        {
            if (Listening(url) is not { Scheme: "http" or "https", Host.Length: > 0 })
            {
                throw new InvalidOperationException($"{setting}: '{url}' is not an http(s) URL such as {DefaultUrl}.");
            }

            if (!IsLoopback(url))
            {
                throw new InvalidOperationException($"Laptop mode listens on loopback only (it has no authentication); '{url}' in {setting} is not a loopback address.");
            }
        }
    }

    /// <summary>True when <paramref name="url"/> listens on localhost, 127.0.0.0/8 or [::1] only.</summary>
    public static bool IsLoopback(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        return Listening(url) is { } uri
            && (uri.Host == "localhost" || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address)));
    }

    /// <summary>A listening address as a URI, with Kestrel's wildcards (<c>*</c>, <c>+</c>) read as every address; null when it is not one.</summary>
    private static Uri? Listening(string url) =>
        Uri.TryCreate(url.Replace("*", "0.0.0.0", StringComparison.Ordinal).Replace("+", "0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri) ? uri : null;
}
