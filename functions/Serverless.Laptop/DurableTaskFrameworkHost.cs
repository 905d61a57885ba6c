using DurableTask.AzureStorage;
using DurableTask.Core;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Worker;
using Microsoft.DurableTask.Worker.Shims;
using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Storage;
using CoreTaskActivity = DurableTask.Core.TaskActivity;

namespace Serverless.Laptop;

/// <summary>
/// Runs the library's orchestrator and activity classes on the Durable Task Framework with the
/// Azure Storage provider, through the SDK's public shim factory. State lives in Azurite, so
/// unfinished runs resume after a restart.
/// </summary>
public sealed partial class DurableTaskFrameworkHost : IHostedService, IDisposable
{
    private readonly IServiceProvider services;
    private readonly ILogger<DurableTaskFrameworkHost> logger;
    private readonly ILoggerFactory loggerFactory;
    private readonly AzureStorageOrchestrationService orchestrationService;
    private readonly LaptopOptions options;
    private TaskHubWorker? worker;

    public DurableTaskFrameworkHost(IServiceProvider services, IOptions<StorageOptions> storage, IOptions<LaptopOptions> laptop, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(laptop);
        this.services = services;
        this.loggerFactory = loggerFactory;
        options = laptop.Value;
        logger = loggerFactory.CreateLogger<DurableTaskFrameworkHost>();
        var connection = storage.Value.ConnectionString is { } given && !string.IsNullOrWhiteSpace(given)
            ? given
            : throw new InvalidOperationException($"Laptop mode needs {StorageOptions.SectionName}:ConnectionString (Azurite).");
        orchestrationService = new AzureStorageOrchestrationService(new AzureStorageOrchestrationServiceSettings
        {
            StorageAccountClientProvider = new StorageAccountClientProvider(connection),
            TaskHubName = laptop.Value.TaskHubName,
            WorkerId = laptop.Value.WorkerId,
            MaxQueuePollingInterval = TimeSpan.FromSeconds(1),

            // A message taken by a host that then died stays invisible this long before another
            // (or the restarted) host sees it; the 5-minute default makes a laptop restart look
            // stuck. Running work items renew their lease, so long activities are not redelivered.
            ControlQueueVisibilityTimeout = TimeSpan.FromSeconds(20),
            WorkItemQueueVisibilityTimeout = TimeSpan.FromSeconds(20),
            LoggerFactory = loggerFactory,
        });
        Client = new TaskHubClient(orchestrationService, new SdkDataConverter(), loggerFactory);
    }

    /// <summary>The client side of the same task hub, for starting and querying runs.</summary>
    public TaskHubClient Client { get; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await WaitForStorageAsync(cancellationToken);
        var shims = new DurableTaskShimFactory(new DurableTaskWorkerOptions(), loggerFactory);
        worker = new TaskHubWorker(orchestrationService, loggerFactory) { ErrorPropagationMode = ErrorPropagationMode.UseFailureDetails };
        foreach (var type in PipelineTypes.Orchestrators)
        {
            worker.AddTaskOrchestrations(new ShimCreator<TaskOrchestration>(
                type.Name, () => shims.CreateOrchestration(type.Name, (ITaskOrchestrator)ActivatorUtilities.CreateInstance(services, type))));
        }

        foreach (var type in PipelineTypes.Activities)
        {
            worker.AddTaskActivities(new ShimCreator<CoreTaskActivity>(
                type.Name, () => shims.CreateActivity(type.Name, (ITaskActivity)ActivatorUtilities.CreateInstance(services, type))));
        }

        await worker.StartAsync();
        WorkerStarted(logger, options.TaskHubName, options.WorkerId);
    }

    /// <summary>
    /// Creates the task hub, waiting with backoff (1 s, doubling to 30 s) while storage is not up yet:
    /// laptop mode started before Azurite waits for it, saying so, and starts serving once it answers.
    /// </summary>
    private async Task WaitForStorageAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await orchestrationService.CreateIfNotExistsAsync().WaitAsync(cancellationToken);
                if (attempt > 0)
                {
                    StorageReady(logger, attempt);
                }

                return;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && Lifecycle.Storage.StorageFaults.IsTransientWithin(ex))
            {
                var wait = Lifecycle.Storage.StorageFaults.Backoff(attempt, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
                Lifecycle.Observability.Telemetry.StorageFailed(Lifecycle.Observability.TelemetryNames.Components.Startup);
                WaitingForStorage(logger, Lifecycle.Storage.StorageFaults.Describe(ex), wait.TotalSeconds);
                await Task.Delay(wait, cancellationToken);
            }
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (worker is not null)
        {
            // The framework keeps retrying storage while it stops; never hold the host's shutdown longer than it allows.
            try
            {
                await worker.StopAsync(isForced: true).WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                StopTimedOut(logger);
            }
        }
    }

    public void Dispose() => worker?.Dispose();

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "The Durable Task worker did not stop within the shutdown timeout; unfinished work resumes at the next start")]
    private static partial void StopTimedOut(ILogger logger);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Waiting for storage ({Reason}); laptop mode needs Azurite (./run.sh starts it, or npx azurite) at Storage:ConnectionString. Trying again in {Seconds:0} s.")]
    private static partial void WaitingForStorage(ILogger logger, string reason, double seconds);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Information, Message = "Storage answers after {Attempts} failed attempt(s); starting")]
    private static partial void StorageReady(ILogger logger, int attempts);

    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Durable Task worker started on task hub {TaskHub} as {WorkerId}")]
    private static partial void WorkerStarted(ILogger logger, string taskHub, string workerId);

    /// <summary>Creates a fresh shim per work item: the orchestration shim keeps per-execution state.</summary>
    private sealed class ShimCreator<T> : ObjectCreator<T>
    {
        private readonly Func<T> create;

        public ShimCreator(string name, Func<T> create)
        {
            this.create = create;
            Name = name;
            Version = string.Empty;
        }

        public override T Create() => create();
    }
}
