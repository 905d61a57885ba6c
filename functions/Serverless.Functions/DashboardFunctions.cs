using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Serverless.Lifecycle.Api;

namespace Serverless.Functions;

/// <summary>What people read: the dashboard's files at <c>/api/ui/</c> and the API's OpenAPI document.</summary>
public sealed class DashboardFunctions(Microsoft.Extensions.Configuration.IConfiguration configuration)
{
    /// <summary>For people signed in through App Service Authentication; one without a session is sent to sign in when it is on.</summary>
    [Function("Dashboard")]
    public IResult Dashboard([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = ApiRoutes.Dashboard)] HttpRequest request, string? file) =>
        DashboardApi.Get(
            (request ?? throw new ArgumentNullException(nameof(request))).HttpContext,
            file,
            requireSignIn: true,
            signInAvailable: string.Equals(configuration[CallerMiddleware.AuthEnabledSetting], "true", StringComparison.OrdinalIgnoreCase));

    [Function("OpenApiDocument")]
    public static IResult OpenApiDocument([HttpTrigger(AuthorizationLevel.Function, "get", Route = ApiRoutes.OpenApi)] HttpRequest request) =>
        OpenApiDocumentApi.Get();
}
