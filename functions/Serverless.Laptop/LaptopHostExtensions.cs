using System.Net;
using Microsoft.Extensions.Options;
using OpenTelemetry.Trace;
using Serverless.Lifecycle.Api;
using Serverless.Lifecycle.Hosting;
using Serverless.Lifecycle.Monitoring;
using Serverless.Lifecycle.Observability;
using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Storage;
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

        builder.Services.AddLifecycleApi().AddTrainingDispatcher();
        builder.Services.AddLifecycleTelemetry(builder.Configuration, "serverless-lifecycle-laptop", otel => otel.WithTracing(tracing => tracing.AddAspNetCoreInstrumentation()));

        // The trainer reports to this host's callback route unless configured otherwise.
        var own = new Uri(urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[0].Replace("localhost", "127.0.0.1", StringComparison.Ordinal));
        builder.Services.PostConfigure<TrainingOptions>(o => o.CallbackBaseUrl ??= own);
        builder.Services.AddOptions<LaptopOptions>().BindConfiguration(LaptopOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<DurableTaskFrameworkHost>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<DurableTaskFrameworkHost>());
        builder.Services.AddSingleton<TaskHubEngine>();
        builder.Services.AddSingleton<IPipelineClient>(sp => new PipelineClient(sp.GetRequiredService<TaskHubEngine>()));

        // Azure scores batch files and retrains on new datasets on Event Grid blob triggers, and runs
        // the drift monitor on a timer trigger; laptop mode polls and keeps its own timer. (Two pollers of
        // one type: AddHostedService would keep only the first, as it adds each implementation type once.)
        builder.Services.AddSingleton<IHostedService>(sp => Poller(sp, new BlobPollerSettings(
            StorageNames.BatchInputContainer,
            TelemetryNames.Components.BatchInput,
            sp.GetRequiredService<IOptions<BatchScoringOptions>>().Value.PollInterval,
            _ => true,
            async (blob, ct) =>
            {
                var log = sp.GetRequiredService<ILogger<BatchScorer>>();
                if (!BatchScorer.IsUnderAModel(blob))
                {
                    // Not under batch-input/{model}/: no model to score with, and no retry will change that.
                    BatchScorer.LogNotUnderAModel(log, blob);
                    return;
                }

                var summary = await sp.GetRequiredService<BatchScorer>().ScoreAsync(blob, ct);
                LaptopLog.BatchScored(log, blob, summary.Version, summary.Scored, summary.Rejected, summary.Error);
            })));
        builder.Services.AddSingleton<IHostedService>(sp =>
        {
            var monitoring = sp.GetRequiredService<IOptions<MonitoringOptions>>().Value;
            return Poller(sp, new BlobPollerSettings(
                StorageNames.DatasetsContainer,
                TelemetryNames.Components.DatasetWatcher,
                monitoring.DatasetPollInterval,
                blob => monitoring.Covers(blob.Split('/')[0]),
                (blob, ct) => sp.GetRequiredService<NewDataTrigger>().OnBlobAsync(blob, sp.GetRequiredService<IPipelineClient>(), ct),
                monitoring.Enabled));
        });
        builder.Services.AddHostedService<MonitoringScheduler>();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
        return builder;
    }

    private static BlobPoller Poller(IServiceProvider services, BlobPollerSettings settings) =>
        ActivatorUtilities.CreateInstance<BlobPoller>(services, settings);

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

internal static partial class LaptopLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {Blob}: version {Version} scored {Scored} row(s), rejected {Rejected}. {Error}")]
    public static partial void BatchScored(ILogger logger, string blob, int? version, long scored, long rejected, string? error);
}
