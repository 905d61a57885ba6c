using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Monitoring;
using Serverless.Lifecycle.Observability;
using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Storage;

namespace Serverless.Laptop;

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
                    Telemetry.StorageFailed(TelemetryNames.Components.Monitoring);
                }

                LogPassFailed(ex, StorageFaults.Describe(ex));
            }
        }
    }

    [LoggerMessage(EventId = 4103, Level = LogLevel.Warning, Message = "The monitoring pass failed ({Reason}); the next pass runs on schedule.")]
    private partial void LogPassFailed(Exception exception, string reason);
}
