using Microsoft.DurableTask;
using Microsoft.DurableTask.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Hosting;
using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Storage;
using Serverless.Lifecycle.Training;
using Serverless.Tests;
using Serverless.Trainer;

namespace Serverless.Lifecycle.Tests.Pipeline;

/// <summary>
/// The real orchestrator and activities on the Durable Task in-process test host, with storage
/// on Azurite and the trainer running in-process behind the dispatcher interface.
/// </summary>
public class PipelineHostFixture : IAsyncLifetime
{
    private readonly ILoggerFactory loggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning));
    private DurableTaskTestHost? host;

    public LifecycleStorage Storage { get; } = Azurite.CreateStorage();

    public ModelRegistry Registry => new(Storage, TimeProvider.System);

    public DatasetStore Datasets => new(Storage, TimeProvider.System);

    public IPipelineClient Client => new DurableTaskPipelineClient(host!.Client);

    public Microsoft.DurableTask.Client.DurableTaskClient DurableClient => host!.Client;

    /// <summary>The worker host's services: the same singletons the activities use.</summary>
    public IServiceProvider Services => host!.Services;

    public async Task InitializeAsync()
    {
        // The test host's gRPC sidecar logs every call at Information unless told otherwise.
        Environment.SetEnvironmentVariable("Logging__LogLevel__Default", "Warning");
        host = await DurableTaskTestHost.StartAsync(
            tasks =>
            {
                foreach (var type in PipelineTypes.Orchestrators)
                {
                    tasks.AddOrchestrator(type.Name, () => (ITaskOrchestrator)Activator.CreateInstance(type)!);
                }

                foreach (var type in PipelineTypes.Activities)
                {
                    tasks.AddActivity(type.Name, sp => (ITaskActivity)ActivatorUtilities.CreateInstance(sp, type));
                }
            },
            new DurableTaskTestHostOptions
            {
                LoggerFactory = loggerFactory,
                ConfigureServices = services =>
                {
                    services.AddServerlessLifecycle();
                    services.Configure<StorageOptions>(o => o.ConnectionString = Azurite.ConnectionString);
                    services.AddSingleton<TrainingJobRunner>();
                    services.AddSingleton<InProcessTrainingDispatcher>();
                    ConfigureDispatcher(services);
                },
            });
    }

    /// <summary>The dispatcher the activities use; the in-process trainer unless a test needs another.</summary>
    protected virtual void ConfigureDispatcher(IServiceCollection services) =>
        services.AddSingleton<ITrainingDispatcher>(sp => sp.GetRequiredService<InProcessTrainingDispatcher>());

    public async Task DisposeAsync()
    {
        if (host is not null)
        {
            await host.DisposeAsync();
        }

        loggerFactory.Dispose();
    }
}
