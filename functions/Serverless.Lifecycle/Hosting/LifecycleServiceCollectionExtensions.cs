using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Serverless.Lifecycle.Api;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Pipeline.Activities;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Storage;
using Serverless.Lifecycle.Training;

namespace Serverless.Lifecycle.Hosting;

public static class LifecycleServiceCollectionExtensions
{
    /// <summary>
    /// Registers the lifecycle: options (validated at start), storage, registry, serving, the
    /// HTTP endpoint logic, and the orchestrator and activity classes. The host adds its
    /// <see cref="ITrainingDispatcher"/> and its Durable engine.
    /// </summary>
    public static IServiceCollection AddServerlessLifecycle(this IServiceCollection services)
    {
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<TrainingOptions>().BindConfiguration(TrainingOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ServingOptions>().BindConfiguration(ServingOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<LifecycleStorage>();
        services.AddSingleton<DatasetStore>();
        services.AddSingleton<TrainingJobStore>();
        services.AddSingleton<ModelRegistry>();
        services.AddSingleton<ModelArtifactStore>();
        services.AddSingleton<ModelServer>();

        services.AddSingleton<RegistryApi>();
        services.AddSingleton<RunsApi>();
        services.AddSingleton<PredictionApi>();

        foreach (var type in PipelineTypes.Activities)
        {
            services.AddTransient(type);
        }

        services.AddTransient<TrainingPipelineOrchestrator>();
        return services;
    }

    /// <summary>Registers the local-process trainer dispatcher (laptop mode, <c>func start</c>).</summary>
    public static IServiceCollection AddLocalProcessTrainer(this IServiceCollection services)
    {
        services.AddSingleton<ITrainingDispatcher, LocalProcessTrainingDispatcher>();
        return services;
    }
}
