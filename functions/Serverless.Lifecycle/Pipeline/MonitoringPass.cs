using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Monitoring;
using Serverless.Lifecycle.Registry;

namespace Serverless.Lifecycle.Pipeline;

/// <summary>Runs the schedule and the drift monitor for every covered model, one after the other; one model's failure does not stop the others.</summary>
public sealed partial class MonitoringPass(ModelRegistry registry, DriftMonitor monitor, ScheduleTrigger schedule, RunController runs, IOptions<MonitoringOptions> options, ILogger<MonitoringPass> logger)
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

                if (await monitor.RunAsync(spec.Name, runs.For(pipeline), cancellationToken) is { } entry)
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
