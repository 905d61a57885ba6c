using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Serverless.Lifecycle.Api;

namespace Serverless.Functions;

/// <summary>The dashboard's files at <c>/api/ui/</c>, for people signed in through App Service Authentication.</summary>
public static class DashboardFunctions
{
    [Function("Dashboard")]
    public static IResult Dashboard([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = ApiRoutes.Dashboard)] HttpRequest request, string? file) =>
        DashboardApi.Get((request ?? throw new ArgumentNullException(nameof(request))).HttpContext, file, requireSignIn: true);
}
