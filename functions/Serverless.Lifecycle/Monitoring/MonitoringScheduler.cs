using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Monitoring;

public sealed class MonitoringOptions : IValidatableObject
{
    public const string SectionName = "Monitoring";

    /// <summary>Laptop mode: whether this host runs the monitor and the dataset watcher (one host per storage account should).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Only models whose names start with one of these are monitored and watched for datasets
    /// (empty: every model). Lets several hosts that share a storage account split the models.
    /// </summary>
    public IList<string> ModelPrefixes { get; } = [];

    public bool Covers(string model) => ModelPrefixes.Count == 0 || ModelPrefixes.Any(p => model.StartsWith(p, StringComparison.Ordinal));

    /// <summary>
    /// <c>Monitoring:ModelPrefixes</c> given as one value (<c>churn-,fraud-</c>, the natural way to
    /// write an app setting or environment variable): the binder ignores a plain value for a list,
    /// which would silently cover every model, so it is split on commas here.
    /// </summary>
    public static void AddPlainPrefixes(MonitoringOptions options, Microsoft.Extensions.Configuration.IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(configuration);
        if (configuration[$"{SectionName}:{nameof(ModelPrefixes)}"] is { } plain && !string.IsNullOrWhiteSpace(plain))
        {
            foreach (var prefix in plain.Split(',', StringSplitOptions.TrimEntries))
            {
                options.ModelPrefixes.Add(prefix);
            }
        }
    }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        // An empty prefix covers every model: almost certainly a mistake in a list meant to split them.
        if (ModelPrefixes.Any(string.IsNullOrWhiteSpace))
        {
            yield return new ValidationResult($"{SectionName}:{nameof(ModelPrefixes)} has an empty prefix, which would cover every model; remove it.", [nameof(ModelPrefixes)]);
        }
    }

    /// <summary>How often laptop mode runs the monitor for every model (the Functions app uses a timer trigger with the <c>MonitoringSchedule</c> app setting).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often laptop mode looks for datasets written straight to <c>datasets/{model}/</c> (Azure: an Event Grid blob trigger).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan DatasetPollInterval { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>Runs the drift monitor for every registered model, one after the other; one model's failure does not stop the others.</summary>
public sealed partial class MonitoringPass(ModelRegistry registry, DriftMonitor monitor, ScheduleTrigger schedule, IOptions<MonitoringOptions> options, ILogger<MonitoringPass> logger)
{
    public async Task<IReadOnlyList<MonitoringEntry>> RunAsync(IPipelineClient pipeline, CancellationToken cancellationToken)
    {
        var entries = new List<MonitoringEntry>();
        foreach (var spec in (await registry.ListSpecsAsync(cancellationToken)).Where(s => options.Value.Covers(s.Name)))
        {
            try
            {
                if (await schedule.CheckAsync(spec, pipeline, cancellationToken) is { } scheduled)
                {
                    LogScheduled(spec.Name, scheduled.Outcome, scheduled.RunId, scheduled.Reason);
                }

                if (await monitor.RunAsync(spec.Name, pipeline, cancellationToken) is { } entry)
                {
                    entries.Add(entry);
                    LogPass(spec.Name, entry.Status, entry.Decision.Action, entry.Decision.Reason);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogFailed(ex, spec.Name);
            }
        }

        return entries;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Monitoring {Model}: {Status}; {Action}: {Reason}")]
    private partial void LogPass(string model, string status, string action, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Monitoring {Model}: {Outcome} run {RunId} for the {Reason}")]
    private partial void LogScheduled(string model, string outcome, string runId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Monitoring {Model} failed; the next pass tries again.")]
    private partial void LogFailed(Exception exception, string model);
}

/// <summary>
/// Laptop mode's stand-in for the monitoring timer trigger. A pass that fails (storage away, or
/// anything else) is logged and the next one runs on time: nothing escapes to stop the host.
/// </summary>
public sealed partial class MonitoringScheduler(MonitoringPass pass, IPipelineClient pipeline, IOptions<MonitoringOptions> options, TimeProvider clock, ILogger<MonitoringScheduler> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (options.Value.Enabled && !stoppingToken.IsCancellationRequested)
        {
            await Task.Delay(options.Value.Interval, clock, stoppingToken);
            try
            {
                await pass.RunAsync(pipeline, stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                if (StorageFaults.IsTransientWithin(ex))
                {
                    Observability.Telemetry.StorageFailed(Observability.TelemetryNames.Components.Monitoring);
                }

                LogPassFailed(ex, StorageFaults.Describe(ex));
            }
        }
    }

    [LoggerMessage(EventId = 4103, Level = LogLevel.Warning, Message = "The monitoring pass failed ({Reason}); the next pass runs on schedule.")]
    private partial void LogPassFailed(Exception exception, string reason);
}
