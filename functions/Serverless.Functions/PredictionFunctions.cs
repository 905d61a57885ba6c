using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Serverless.Lifecycle.Api;

namespace Serverless.Functions;

/// <summary>Predictions, feedback and health: HTTP adapters over <see cref="PredictionApi"/> and <see cref="FeedbackApi"/>.</summary>
public sealed class PredictionFunctions(PredictionApi api, FeedbackApi feedback, OpenInferenceApi oip, StatusApi status)
{
    [Function("OipInfer")]
    public Task<IResult> OipInfer([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.OipInfer)] HttpRequest request, string name) =>
        oip.InferAsync(request, name, null, request.HttpContext.RequestAborted);

    [Function("OipInferVersion")]
    public Task<IResult> OipInferVersion([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.OipInferVersion)] HttpRequest request, string name, string version) =>
        oip.InferAsync(request, name, version, request.HttpContext.RequestAborted);

    [Function("OipModel")]
    public Task<IResult> OipModel([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = ApiRoutes.OipModel)] HttpRequest request, string name) =>
        oip.MetadataAsync(name, null, request.HttpContext.RequestAborted);

    [Function("OipModelVersion")]
    public Task<IResult> OipModelVersion([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = ApiRoutes.OipModelVersion)] HttpRequest request, string name, string version) =>
        oip.MetadataAsync(name, version, request.HttpContext.RequestAborted);

    [Function("OipModelReady")]
    public Task<IResult> OipModelReady([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = ApiRoutes.OipModelReady)] HttpRequest request, string name) =>
        oip.ReadyAsync(name, null, request.HttpContext.RequestAborted);

    [Function("OipModelVersionReady")]
    public Task<IResult> OipModelVersionReady([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = ApiRoutes.OipModelVersionReady)] HttpRequest request, string name, string version) =>
        oip.ReadyAsync(name, version, request.HttpContext.RequestAborted);

    /// <summary>Server metadata: keyed like the model routes; only the health routes are anonymous, for probes.</summary>
    [Function("OipServerMetadata")]
    public static IResult OipServerMetadata([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = ApiRoutes.OipServer)] HttpRequest request) =>
        OpenInferenceApi.ServerMetadata();

    /// <summary>Liveness and readiness are anonymous, as load balancers and probes call them without keys.</summary>
    [Function("OipLive")]
    public static IResult OipLive([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = ApiRoutes.OipLive)] HttpRequest request) =>
        OpenInferenceApi.Live();

    [Function("OipReady")]
    public Task<IResult> OipReady([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = ApiRoutes.OipReady)] HttpRequest request) =>
        oip.ServerReadyAsync(request.HttpContext.RequestAborted);

    [Function("Feedback")]
    public Task<IResult> Feedback([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.Feedback)] HttpRequest request, string name) =>
        feedback.PostAsync(request, name, request.HttpContext.RequestAborted);

    [Function("Predict")]
    public Task<IResult> Predict([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.Predict)] HttpRequest request, string name) =>
        api.PredictAsync(request, name, request.HttpContext.RequestAborted);

    [Function("PredictVersion")]
    public Task<IResult> PredictVersion([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.PredictVersion)] HttpRequest request, string name, string version) =>
        api.PredictVersionAsync(request, name, version, request.HttpContext.RequestAborted);

    [Function("Status")]
    public Task<IResult> Status([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = ApiRoutes.Status)] HttpRequest request) =>
        status.GetAsync(request.HttpContext.RequestAborted);

    [Function("Health")]
    public static IResult Health([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = ApiRoutes.Health)] HttpRequest request) =>
        PredictionApi.Health();
}
