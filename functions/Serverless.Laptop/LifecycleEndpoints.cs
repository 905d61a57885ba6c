using Serverless.Lifecycle.Api;
using Serverless.Lifecycle.Pipeline;

namespace Serverless.Laptop;

/// <summary>The same routes as the Functions app (<see cref="ApiRoutes"/>), on ASP.NET Core minimal APIs.</summary>
public static class LifecycleEndpoints
{
    public static IEndpointRouteBuilder MapLifecycleApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/" + ApiRoutes.Prefix);
        api.MapGet(ApiRoutes.Dashboard, (HttpContext context, string? file) => DashboardApi.Get(context, file));
        api.MapGet(ApiRoutes.OpenApi, OpenApiDocumentApi.Get);
        api.MapPut(ApiRoutes.Model, (HttpRequest request, string name, RegistryApi registry, CancellationToken ct) => registry.PutModelAsync(request, name, ct));
        api.MapGet(ApiRoutes.Models, (RegistryApi registry, CancellationToken ct) => registry.ListModelsAsync(ct));
        api.MapGet(ApiRoutes.Model, (HttpRequest request, string name, RegistryApi registry, CancellationToken ct) => registry.GetModelAsync(request, name, ct));
        api.MapPost(ApiRoutes.Datasets, (HttpRequest request, string name, RunsApi runs, IPipelineClient pipeline, CancellationToken ct) => runs.UploadDatasetAsync(request, name, pipeline, ct));
        api.MapPost(ApiRoutes.Runs, (string name, RunsApi runs, IPipelineClient pipeline, CancellationToken ct) => runs.StartRunAsync(name, pipeline, ct));
        api.MapGet(ApiRoutes.Runs, (HttpRequest request, string name, RunsApi runs, IPipelineClient pipeline, CancellationToken ct) => runs.ListRunsAsync(request, name, pipeline, ct));
        api.MapPost(ApiRoutes.Reproduce, (HttpRequest request, string name, string version, RunsApi runs, IPipelineClient pipeline, CancellationToken ct) => runs.ReproduceAsync(request, name, version, pipeline, ct));
        api.MapGet(ApiRoutes.Run, (string runId, RunsApi runs, IPipelineClient pipeline, CancellationToken ct) => runs.GetRunAsync(runId, pipeline, ct));
        api.MapPost(ApiRoutes.RunCancel, (HttpRequest request, string runId, IPipelineClient pipeline, CancellationToken ct) => RunsApi.CancelRunAsync(request, runId, pipeline, ct));
        api.MapPost(ApiRoutes.RunApprove, (HttpRequest request, string runId, RunsApi runs, IPipelineClient pipeline, CancellationToken ct) => runs.DecideAsync(request, runId, approve: true, pipeline, ct));
        api.MapPost(ApiRoutes.RunReject, (HttpRequest request, string runId, RunsApi runs, IPipelineClient pipeline, CancellationToken ct) => runs.DecideAsync(request, runId, approve: false, pipeline, ct));
        api.MapPost(ApiRoutes.JobComplete, (HttpRequest request, string runId, string jobId, IPipelineClient pipeline, CancellationToken ct) => RunsApi.CompleteJobAsync(request, runId, jobId, pipeline, ct));
        api.MapGet(ApiRoutes.RunProfile, (string runId, RunsApi runs, CancellationToken ct) => runs.GetRunProfileAsync(runId, ct));
        api.MapGet(ApiRoutes.Versions, (string name, RegistryApi registry, CancellationToken ct) => registry.ListVersionsAsync(name, ct));
        api.MapPost(ApiRoutes.Versions, (HttpRequest request, string name, ModelImportApi import, IPipelineClient pipeline, CancellationToken ct) => import.ImportAsync(request, name, pipeline, ct)).DisableAntiforgery();
        api.MapGet(ApiRoutes.Version, (string name, string version, RegistryApi registry, CancellationToken ct) => registry.GetVersionAsync(name, version, ct));
        api.MapGet(ApiRoutes.ModelFile, (string name, string version, RegistryApi registry, CancellationToken ct) => registry.GetModelFileAsync(name, version, ct));
        api.MapPut(ApiRoutes.Alias, (HttpRequest request, string name, string alias, RegistryApi registry, CancellationToken ct) => registry.SetAliasAsync(request, name, alias, ct));
        api.MapDelete(ApiRoutes.Alias, (HttpRequest request, string name, string alias, RegistryApi registry, CancellationToken ct) => registry.DeleteAliasAsync(request, name, alias, ct));
        api.MapPost(ApiRoutes.Rollback, (HttpRequest request, string name, RegistryApi registry, CancellationToken ct) => registry.RollbackAsync(request, name, ct));
        api.MapDelete(ApiRoutes.Version, (HttpRequest request, string name, string version, RegistryApi registry, CancellationToken ct) => registry.DeleteVersionAsync(request, name, version, ct));
        api.MapPost(ApiRoutes.Archive, (HttpRequest request, string name, string version, RegistryApi registry, CancellationToken ct) => registry.ArchiveVersionAsync(request, name, version, ct));
        api.MapGet(ApiRoutes.Rollout, (string name, RegistryApi registry, CancellationToken ct) => registry.GetRolloutAsync(name, ct));
        api.MapGet(ApiRoutes.Monitoring, (string name, MonitoringApi monitoring, CancellationToken ct) => monitoring.GetAsync(name, ct));
        api.MapGet(ApiRoutes.MonitoringReports, (HttpRequest request, string name, MonitoringApi monitoring, CancellationToken ct) => monitoring.ListReportsAsync(request, name, ct));
        api.MapGet(ApiRoutes.MonitoringReport, (string name, string reportId, MonitoringApi monitoring, CancellationToken ct) => monitoring.GetReportAsync(name, reportId, ct));
        api.MapPost(ApiRoutes.Events, (HttpRequest request, EventsApi events, IPipelineClient pipeline, CancellationToken ct) => events.PostAsync(request, pipeline, ct));
        api.MapMethods(ApiRoutes.Events, ["OPTIONS"], (HttpRequest request) => EventsApi.Handshake(request));
        api.MapGet(ApiRoutes.Audit, (string name, RegistryApi registry, CancellationToken ct) => registry.GetAuditAsync(name, ct));
        api.MapPost(ApiRoutes.Predict, (HttpRequest request, string name, PredictionApi predictions, CancellationToken ct) => predictions.PredictAsync(request, name, ct));
        api.MapPost(ApiRoutes.PredictVersion, (HttpRequest request, string name, string version, PredictionApi predictions, CancellationToken ct) => predictions.PredictVersionAsync(request, name, version, ct));
        api.MapPost(ApiRoutes.Feedback, (HttpRequest request, string name, FeedbackApi feedback, CancellationToken ct) => feedback.PostAsync(request, name, ct));
        api.MapPost(ApiRoutes.ScoringKeys, (HttpRequest request, ScoringKeysApi keys, CancellationToken ct) => keys.CreateAsync(request, ct));
        api.MapGet(ApiRoutes.ScoringKeys, (ScoringKeysApi keys, CancellationToken ct) => keys.ListAsync(ct));
        api.MapDelete(ApiRoutes.ScoringKey, (HttpRequest request, string keyId, ScoringKeysApi keys, CancellationToken ct) => keys.RevokeAsync(request, keyId, ct));
        api.MapGet(ApiRoutes.Health, PredictionApi.Health);
        api.MapGet(ApiRoutes.Status, (StatusApi status, CancellationToken ct) => status.GetAsync(ct));
        api.MapPost(ApiRoutes.OipInfer, (HttpRequest request, string name, OpenInferenceApi oip, CancellationToken ct) => oip.InferAsync(request, name, null, ct));
        api.MapPost(ApiRoutes.OipInferVersion, (HttpRequest request, string name, string version, OpenInferenceApi oip, CancellationToken ct) => oip.InferAsync(request, name, version, ct));
        api.MapGet(ApiRoutes.OipModel, (string name, OpenInferenceApi oip, CancellationToken ct) => oip.MetadataAsync(name, null, ct));
        api.MapGet(ApiRoutes.OipModelVersion, (string name, string version, OpenInferenceApi oip, CancellationToken ct) => oip.MetadataAsync(name, version, ct));
        api.MapGet(ApiRoutes.OipModelReady, (string name, OpenInferenceApi oip, CancellationToken ct) => oip.ReadyAsync(name, null, ct));
        api.MapGet(ApiRoutes.OipModelVersionReady, (string name, string version, OpenInferenceApi oip, CancellationToken ct) => oip.ReadyAsync(name, version, ct));
        api.MapGet(ApiRoutes.OipServer, OpenInferenceApi.ServerMetadata);
        api.MapGet(ApiRoutes.OipLive, OpenInferenceApi.Live);
        api.MapGet(ApiRoutes.OipReady, (OpenInferenceApi oip, CancellationToken ct) => oip.ServerReadyAsync(ct));
        return app;
    }
}
