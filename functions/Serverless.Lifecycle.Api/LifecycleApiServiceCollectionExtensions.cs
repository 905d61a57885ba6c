using Microsoft.Extensions.DependencyInjection;
using Serverless.Lifecycle.Hosting;

namespace Serverless.Lifecycle.Api;

public static class LifecycleApiServiceCollectionExtensions
{
    /// <summary>The lifecycle (<see cref="LifecycleServiceCollectionExtensions.AddServerlessLifecycle"/>) and its HTTP API on top, with its exception handler, as both hosts serve it.</summary>
    public static IServiceCollection AddLifecycleApi(this IServiceCollection services)
    {
        services.AddServerlessLifecycle();
        services.AddSingleton<RegistryApi>();
        services.AddSingleton<RunsApi>();
        services.AddSingleton<PredictionApi>();
        services.AddSingleton<FeedbackApi>();
        services.AddSingleton<OpenInferenceApi>();
        services.AddSingleton<StatusApi>();
        services.AddSingleton<EventsApi>();
        services.AddSingleton<MonitoringApi>();
        services.AddSingleton<ScoringKeysApi>();
        services.AddSingleton<ModelImportApi>();

        // One answer to an unhandled exception in both hosts (UseExceptionHandler in laptop mode, worker middleware in Functions).
        services.AddProblemDetails();
        services.AddExceptionHandler<ApiExceptionHandler>();
        return services;
    }
}
