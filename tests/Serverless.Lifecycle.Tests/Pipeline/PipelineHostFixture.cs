using System.Text;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Hosting;
using Serverless.Lifecycle.Monitoring;
using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;
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

    /// <summary>Every request the host's own storage client sends (the activities' and the in-process trainer's).</summary>
    public StorageRequestLog HostRequests { get; } = new();

    public ModelRegistry Registry => new(Storage, TimeProvider.System);

    public DatasetStore Datasets => new(Storage, TimeProvider.System);

    public IPipelineClient Client => DurableTaskEngine.Client(host!.Client);

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
                    services.AddSingleton(sp => new LifecycleStorage(sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<StorageOptions>>(), HostRequests));
                    services.Configure<PredictionLogOptions>(o => o.FlushInterval = TimeSpan.FromMilliseconds(200));
                    services.Configure<ServingOptions>(o =>
                    {
                        // The tests share one Azurite: no host loads every model in it.
                        o.AliasCacheSeconds = 0;
                        o.Preload = false;
                    });
                    services.Configure<TrainingOptions>(o =>
                    {
                        o.Dispatcher = TrainingDispatchers.InProcess;
                        ConfigureTraining(o);
                    });
                    services.AddSingleton(Relay);
                    services.AddSingleton<Serverless.Lifecycle.Observability.ILifecycleEvents>(Events);
                    services.AddSingleton<ICompletionNotifier>(Relay);
                    services.AddSingleton<TrainingJobRunner>();
                    services.AddSingleton<InProcessTrainingDispatcher>();
                    ConfigureDispatcher(services);
                },
            });
        Relay.Client = Client;
    }

    /// <summary>The sample churn spec under a fresh model name.</summary>
    public static ModelSpec SampleSpec(string prefix) =>
        ModelSpecValidator.Parse(File.ReadAllText(RepoPaths.SampleSpec)).Spec! with { Name = Azurite.UniqueModelName(prefix) };

    /// <summary>Registers the spec, uploads the data and starts a run on it; returns the run's request.</summary>
    public async Task<TrainingRunRequest> StartRunAsync(ModelSpec spec, byte[] data, DatasetFormat format = DatasetFormat.Csv, string? runId = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        await Registry.PutSpecAsync(spec, "test", CancellationToken.None);
        var dataset = await Datasets.UploadAsync(spec.Name, new MemoryStream(data), CancellationToken.None, format);
        var request = new TrainingRunRequest(runId ?? $"{spec.Name}-run", spec, dataset, RunTriggers.Manual);
        Assert.True(await Client.StartRunAsync(request, CancellationToken.None));
        return request;
    }

    public Task<TrainingRunRequest> StartRunAsync(ModelSpec spec, string csv) => StartRunAsync(spec, Encoding.UTF8.GetBytes(csv));

    /// <summary>Waits for the run to end (a few minutes at most) and returns its status.</summary>
    public async Task<RunStatus> WaitAsync(string runId, int minutes = 3)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(minutes));
        await DurableClient.WaitForInstanceCompletionAsync(runId, getInputsAndOutputs: true, timeout.Token);
        return (await Client.GetRunAsync(runId, CancellationToken.None))!;
    }

    public async Task<RunStatus> RunAsync(ModelSpec spec, string csv) => await WaitAsync((await StartRunAsync(spec, csv)).RunId);

    /// <summary>Passes the in-process trainer's completions to the pipeline, as the callback route does.</summary>
    public CompletionRelay Relay { get; } = new();

    /// <summary>Every CloudEvent the lifecycle published, as an Event Grid topic would receive them.</summary>
    public RecordingEvents Events { get; } = new();

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

/// <summary>A host whose activities use dispatcher <typeparamref name="TDispatcher"/> and check job status every second.</summary>
public class FastCheckFixture<TDispatcher> : PipelineHostFixture
    where TDispatcher : class, ITrainingDispatcher
{
    public TDispatcher Dispatcher => Services.GetRequiredService<TDispatcher>();

    protected override void ConfigureTraining(TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.StatusCheckInterval = TimeSpan.FromSeconds(1);
    }

    protected override void ConfigureDispatcher(IServiceCollection services)
    {
        services.AddSingleton<TDispatcher>();
        services.AddSingleton<ITrainingDispatcher>(sp => sp.GetRequiredService<TDispatcher>());
    }
}

/// <summary>Keeps the CloudEvents the lifecycle publishes, in order.</summary>
public sealed class RecordingEvents : Serverless.Lifecycle.Observability.ILifecycleEvents
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<Azure.Messaging.CloudEvent> published = new();

    public IReadOnlyList<Azure.Messaging.CloudEvent> Published => [.. published];

    public Task PublishAsync(Azure.Messaging.CloudEvent cloudEvent, CancellationToken cancellationToken)
    {
        published.Enqueue(cloudEvent);
        return Task.CompletedTask;
    }
}
