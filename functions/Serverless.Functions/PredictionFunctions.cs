using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Serverless.Lifecycle.Api;

namespace Serverless.Functions;

/// <summary>Predictions, feedback and health: HTTP adapters over <see cref="PredictionApi"/> and <see cref="FeedbackApi"/>.</summary>
public sealed class PredictionFunctions(PredictionApi api, FeedbackApi feedback)
{
    [Function("Feedback")]
    public Task<IResult> Feedback([HttpTrigger(AuthorizationLevel.Function, "post", Route = ApiRoutes.Feedback)] HttpRequest request, string name) =>
        feedback.PostAsync(request, name, request.HttpContext.RequestAborted);

    [Function("Predict")]
    public Task<IResult> Predict([HttpTrigger(AuthorizationLevel.Function, "post", Route = ApiRoutes.Predict)] HttpRequest request, string name) =>
        api.PredictAsync(request, name, request.HttpContext.RequestAborted);

    [Function("PredictVersion")]
    public Task<IResult> PredictVersion([HttpTrigger(AuthorizationLevel.Function, "post", Route = ApiRoutes.PredictVersion)] HttpRequest request, string name, string version) =>
        api.PredictVersionAsync(request, name, version, request.HttpContext.RequestAborted);

    [Function("Health")]
    public static IResult Health([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = ApiRoutes.Health)] HttpRequest request) =>
        PredictionApi.Health();
}
