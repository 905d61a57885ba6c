using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Serverless.Lifecycle.Api;

namespace Serverless.Functions;

/// <summary>Model specs, versions and aliases: HTTP adapters over <see cref="RegistryApi"/>.</summary>
public sealed class RegistryFunctions(RegistryApi api)
{
    [Function("PutModel")]
    public Task<IResult> PutModel([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = ApiRoutes.Model)] HttpRequest request, string name) =>
        api.PutModelAsync(request, name, request.HttpContext.RequestAborted);

    [Function("ListModels")]
    public Task<IResult> ListModels([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = ApiRoutes.Models)] HttpRequest request) =>
        api.ListModelsAsync(request.HttpContext.RequestAborted);

    [Function("GetModel")]
    public Task<IResult> GetModel([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = ApiRoutes.Model)] HttpRequest request, string name) =>
        api.GetModelAsync(request, name, request.HttpContext.RequestAborted);

    [Function("ListVersions")]
    public Task<IResult> ListVersions([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = ApiRoutes.Versions)] HttpRequest request, string name) =>
        api.ListVersionsAsync(name, request.HttpContext.RequestAborted);

    [Function("GetVersion")]
    public Task<IResult> GetVersion([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = ApiRoutes.Version)] HttpRequest request, string name, string version) =>
        api.GetVersionAsync(name, version, request.HttpContext.RequestAborted);

    [Function("GetModelFile")]
    public Task<IResult> GetModelFile([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = ApiRoutes.ModelFile)] HttpRequest request, string name, string version) =>
        api.GetModelFileAsync(name, version, request.HttpContext.RequestAborted);

    [Function("SetAlias")]
    public Task<IResult> SetAlias([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = ApiRoutes.Alias)] HttpRequest request, string name, string alias) =>
        api.SetAliasAsync(request, name, alias, request.HttpContext.RequestAborted);

    [Function("DeleteAlias")]
    public Task<IResult> DeleteAlias([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = ApiRoutes.Alias)] HttpRequest request, string name, string alias) =>
        api.DeleteAliasAsync(request, name, alias, request.HttpContext.RequestAborted);

    [Function("RollbackChampion")]
    public Task<IResult> RollbackChampion([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.Rollback)] HttpRequest request, string name) =>
        api.RollbackAsync(request, name, request.HttpContext.RequestAborted);

    [Function("ArchiveVersion")]
    public Task<IResult> ArchiveVersion([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.Archive)] HttpRequest request, string name, string version) =>
        api.ArchiveVersionAsync(request, name, version, request.HttpContext.RequestAborted);

    [Function("DeleteVersion")]
    public Task<IResult> DeleteVersion([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = ApiRoutes.Version)] HttpRequest request, string name, string version) =>
        api.DeleteVersionAsync(request, name, version, request.HttpContext.RequestAborted);

    [Function("GetRollout")]
    public Task<IResult> GetRollout([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = ApiRoutes.Rollout)] HttpRequest request, string name) =>
        api.GetRolloutAsync(name, request.HttpContext.RequestAborted);

    [Function("GetAudit")]
    public Task<IResult> GetAudit([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = ApiRoutes.Audit)] HttpRequest request, string name) =>
        api.GetAuditAsync(name, request.HttpContext.RequestAborted);
}
