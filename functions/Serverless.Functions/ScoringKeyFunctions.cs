using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Serverless.Lifecycle.Api;

namespace Serverless.Functions;

/// <summary>The product's scoring keys: HTTP adapters over <see cref="ScoringKeysApi"/> (an administrator's routes, so anonymous at the host; CallerMiddleware asks for the role).</summary>
public sealed class ScoringKeyFunctions(ScoringKeysApi api)
{
    [Function("CreateScoringKey")]
    public Task<IResult> CreateScoringKey([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.ScoringKeys)] HttpRequest request) =>
        api.CreateAsync(request, request.HttpContext.RequestAborted);

    [Function("ListScoringKeys")]
    public Task<IResult> ListScoringKeys([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = ApiRoutes.ScoringKeys)] HttpRequest request) =>
        api.ListAsync(request.HttpContext.RequestAborted);

    [Function("RevokeScoringKey")]
    public Task<IResult> RevokeScoringKey([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = ApiRoutes.ScoringKey)] HttpRequest request, string keyId) =>
        api.RevokeAsync(request, keyId, request.HttpContext.RequestAborted);
}
