using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Serverless.Laptop;
using Serverless.Lifecycle.Hosting;
using Serverless.Lifecycle.Monitoring;
using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Storage;
using Serverless.Lifecycle.Training;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Laptop;

/// <summary>Laptop mode's monitoring timer while storage refuses connections.</summary>
public sealed class MonitoringSchedulerOutageTests
{
    [Fact]
    public async Task StorageRefused_TheSchedulerLogsTheFailedPassAndKeepsRunning()
    {
        await using var azurite = new FaultyAzurite();
        var logger = new RecordingLogger<MonitoringScheduler>();
        var services = new ServiceCollection()
            .AddLogging(b => b.SetMinimumLevel(LogLevel.Warning))
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().Build())
            .AddServerlessLifecycle()
            .Configure<StorageOptions>(o => o.ConnectionString = azurite.ConnectionString)
            .Configure<MonitoringOptions>(o => o.Interval = TimeSpan.FromSeconds(1))
            .AddSingleton<IPipelineClient, NoPipeline>();
        await using var provider = services.BuildServiceProvider();
        var scheduler = ActivatorUtilities.CreateInstance<MonitoringScheduler>(provider, logger);
        azurite.Set(FaultMode.Refuse);
        await scheduler.StartAsync(CancellationToken.None);

        // A pass spends the SDK's retries, then must survive what they throw.
        var warnings = await Eventually.WaitAsync(
            () => Task.FromResult(logger.Entries.Count(e => e.Level == LogLevel.Warning)), n => n > 0 || scheduler.ExecuteTask!.IsCompleted);
        Assert.False(scheduler.ExecuteTask!.IsCompleted, "The scheduler stopped: " + scheduler.ExecuteTask.Exception);
        Assert.True(warnings > 0);
        await scheduler.StopAsync(CancellationToken.None);
    }

    /// <summary>No pass gets far enough to start a run while storage is away.</summary>
    private sealed class NoPipeline : IPipelineClient
    {
        public Task<bool> StartRunAsync(TrainingRunRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<RunStatus?> GetRunAsync(string runId, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<RunSignalOutcome> NotifyJobCompletedAsync(TrainingCompletedEvent completion, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<RunSignalOutcome> CancelRunAsync(string runId, CancelRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<RunSignalOutcome> DecideRunAsync(string runId, ApprovalDecision decision, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
