using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Serverless.Lifecycle.Api;

namespace Serverless.Functions;

/// <summary>What people read: the dashboard's files at <c>/api/ui/</c> and the API's OpenAPI document.</summary>
public static class DashboardFunctions
{
    /// <summary>For people signed in through App Service Authentication.</summary>
    [Function("Dashboard")]
    public static IResult Dashboard([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = ApiRoutes.Dashboard)] HttpRequest request, string? file) =>
        DashboardApi.Get((request ?? throw new ArgumentNullException(nameof(request))).HttpContext, file, requireSignIn: true);

    [Function("OpenApiDocument")]
    public static IResult OpenApiDocument([HttpTrigger(AuthorizationLevel.Function, "get", Route = ApiRoutes.OpenApi)] HttpRequest request) =>
        OpenApiDocumentApi.Get();
}
