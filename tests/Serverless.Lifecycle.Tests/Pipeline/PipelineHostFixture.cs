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
                    services.Configure<TrainingOptions>(o =>
                    {
                        o.Dispatcher = TrainingDispatchers.InProcess;
                        ConfigureTraining(o);
                    });
                    services.AddSingleton(Relay);
                    services.AddSingleton<ICompletionNotifier>(Relay);
                    services.AddSingleton<TrainingJobRunner>();
                    services.AddSingleton<InProcessTrainingDispatcher>();
                    ConfigureDispatcher(services);
                },
            });
        Relay.Client = Client;
    }

    /// <summary>Passes the in-process trainer's completions to the pipeline, as the callback route does.</summary>
    public CompletionRelay Relay { get; } = new();

    /// <summary>
    /// Training settings of this host. By default the status check waits 10 minutes, so a run only
    /// finishes promptly when its completion callback arrives: the tests see the callback path work.
    /// </summary>
    protected virtual void ConfigureTraining(TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.StatusCheckInterval = TimeSpan.FromMinutes(10);
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

/// <summary>Delivers completions through <see cref="IPipelineClient.NotifyJobCompletedAsync"/>, and records the outcomes.</summary>
public sealed class CompletionRelay : ICompletionNotifier
{
    private readonly List<(string JobId, RunSignalOutcome Outcome)> outcomes = [];

    public IPipelineClient? Client { get; set; }

    /// <summary>Models whose completions are delivered twice (a duplicate delivery).</summary>
    public HashSet<string> DeliverTwice { get; } = [];

    public IReadOnlyList<(string JobId, RunSignalOutcome Outcome)> Outcomes
    {
        get
        {
            lock (outcomes)
            {
                return outcomes.ToList();
            }
        }
    }

    public async Task NotifyAsync(TrainingJobSpec job, TrainingJobResult result, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(result);
        if (Client is null)
        {
            return;
        }

        var deliveries = DeliverTwice.Contains(job.Model.Name) ? 2 : 1;
        for (var i = 0; i < deliveries; i++)
        {
            var outcome = await Client.NotifyJobCompletedAsync(new TrainingCompletedEvent(job.RunId, job.JobId, result.State), cancellationToken);
            lock (outcomes)
            {
                outcomes.Add((job.JobId, outcome));
            }
        }
    }
}
