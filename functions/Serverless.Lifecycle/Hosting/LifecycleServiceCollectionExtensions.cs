using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Monitoring;
using Serverless.Lifecycle.Observability;
using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Pipeline.Activities;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Rollouts;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Storage;
using Serverless.Lifecycle.Training;

namespace Serverless.Lifecycle.Hosting;

public static class LifecycleServiceCollectionExtensions
{
    /// <summary>
    /// Registers the lifecycle: options (validated at start), storage, registry, serving,
    /// monitoring, the run controller, and the orchestrator and activity classes (the HTTP API adds
    /// itself on top: <c>AddLifecycleApi</c> in Serverless.Lifecycle.Api). The host adds its
    /// <see cref="ITrainingDispatcher"/> and its Durable engine.
    /// </summary>
    public static IServiceCollection AddServerlessLifecycle(this IServiceCollection services)
    {
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<TrainingOptions>().BindConfiguration(TrainingOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ServingOptions>().BindConfiguration(ServingOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<MonitoringOptions>().BindConfiguration(MonitoringOptions.SectionName)
            .Configure<Microsoft.Extensions.Configuration.IConfiguration>(MonitoringOptions.AddPlainPrefixes).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<BatchScoringOptions>().BindConfiguration(BatchScoringOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<PredictionLogOptions>().BindConfiguration(PredictionLogOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<LifecycleStorage>();
        services.AddSingleton<DatasetStore>();
        services.AddSingleton<TrainingJobStore>();
        services.AddSingleton<ModelRegistry>();
        services.AddSingleton<ModelArtifactStore>();
        services.AddSingleton<ModelServer>();
        services.AddSingleton<PredictionLog>();
        services.AddSingleton<PredictionLogReader>();
        services.AddSingleton<RolloutStore>();
        services.AddSingleton<ITrafficSplits>(sp => sp.GetRequiredService<RolloutStore>());
        services.AddSingleton<RolloutEvaluator>();
        services.AddSingleton<PredictionService>();
        services.AddHostedService(sp => sp.GetRequiredService<PredictionLog>());
        services.AddHostedService<ServingPreloader>();

        services.AddSingleton<FeedbackStore>();
        services.AddSingleton<BatchScorer>();
        services.AddSingleton<RunController>();
        services.AddSingleton<ApprovalDecisions>();
        services.AddSingleton<Access.ScoringKeyStore>();
        services.AddOptions<EventsOptions>().BindConfiguration(EventsOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<ILifecycleEvents>(sp => sp.GetRequiredService<IOptions<EventsOptions>>().Value.TopicEndpoint is null
            ? new NoLifecycleEvents()
            : ActivatorUtilities.CreateInstance<EventGridLifecycleEvents>(sp));
        services.AddSingleton<DriftMonitor>();
        services.AddSingleton<NewDataTrigger>();
        services.AddSingleton<ScheduleTrigger>();
        services.AddSingleton<TrainingDataPolicy>();
        services.AddSingleton<MonitoringPass>();

        foreach (var type in PipelineTypes.Activities)
        {
            services.AddTransient(type);
        }

        foreach (var type in PipelineTypes.Orchestrators)
        {
            services.AddTransient(type);
        }

        return services;
    }

    /// <summary>
    /// Registers the trainer dispatcher that <see cref="TrainingOptions.Dispatcher"/> names:
    /// local-process (laptop mode, <c>func start</c>) or container-apps-job (Azure).
    /// </summary>
    public static IServiceCollection AddTrainingDispatcher(this IServiceCollection services)
    {
        // in-process is for test hosts that register their own dispatcher: refused at start here, not at the first run.
        services.AddOptions<TrainingOptions>().Validate(
            o => o.Dispatcher != TrainingDispatchers.InProcess,
            $"{TrainingOptions.SectionName}:{nameof(TrainingOptions.Dispatcher)} '{TrainingDispatchers.InProcess}' is for test hosts; use {TrainingDispatchers.LocalProcess} or {TrainingDispatchers.ContainerAppsJob}.");
        services.AddSingleton<LocalProcessTrainingDispatcher>();
        services.AddSingleton<ContainerAppsJobDispatcher>();
        services.AddSingleton<ITrainingDispatcher>(sp => sp.GetRequiredService<IOptions<TrainingOptions>>().Value.Dispatcher switch
        {
            TrainingDispatchers.ContainerAppsJob => sp.GetRequiredService<ContainerAppsJobDispatcher>(),
            TrainingDispatchers.LocalProcess => sp.GetRequiredService<LocalProcessTrainingDispatcher>(),
            var other => throw new InvalidOperationException(
                $"{TrainingOptions.SectionName}:{nameof(TrainingOptions.Dispatcher)} '{other}' needs the host to register its own {nameof(ITrainingDispatcher)}."),
        });
        return services;
    }
}
