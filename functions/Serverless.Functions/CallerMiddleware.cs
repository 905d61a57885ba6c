using System.Security.Claims;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Serverless.Lifecycle.Api;

namespace Serverless.Functions;

/// <summary>
/// Who calls an HTTP function, and whether they may. The caller is the identity App Service
/// Authentication signed in, read from <c>X-MS-CLIENT-PRINCIPAL</c> only when that authentication is
/// on for this app (<c>WEBSITE_AUTH_ENABLED</c>): App Service then removes the header from what clients
/// send, so it cannot be forged; without it the header is anyone's and is ignored. Reading and
/// administration routes (anonymous at the Functions host, so a host key cannot open them) then need
/// the app roles <see cref="ApiAccess.Authorize"/> names, and scoring routes (anonymous at the host too)
/// the scorer role or a scoring key the product issued (<see cref="ApiAccess.AuthorizeScoringAsync"/>);
/// the machine routes stay on the host's function keys.
/// </summary>
public sealed partial class CallerMiddleware(IConfiguration configuration, ILogger<CallerMiddleware> logger) : IFunctionsWorkerMiddleware
{
    /// <summary>The setting App Service sets to True when App Service Authentication is on.</summary>
    public const string AuthEnabledSetting = "WEBSITE_AUTH_ENABLED";

    private static readonly ClaimsPrincipal Nobody = new(new ClaimsIdentity());

    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (context.GetHttpContext() is not { } http)
        {
            await next(context);
            return;
        }

        var trusted = string.Equals(configuration[AuthEnabledSetting], "true", StringComparison.OrdinalIgnoreCase);
        var header = http.Request.Headers[ApiAccess.PrincipalHeader].ToString();
        try
        {
            http.User = trusted ? ApiAccess.FromPrincipalHeader(header) ?? Nobody : Nobody;
            if (configuration["Training:TrainerPrincipalId"] is { Length: > 0 } trainer && ObjectId(http.User) == trainer && http.User.Identity is ClaimsIdentity identity)
            {
                identity.AddClaim(new Claim(ApiAccess.TrainerClaim, "true"));
            }
        }
        catch (FormatException ex)
        {
            // Only App Service writes the header when authentication is on: a bad one is a platform fault, not a caller's.
            LogBadPrincipal(logger, ex);
            http.User = Nobody;
        }

        if (await ApiAccess.CheckAsync(http))
        {
            await next(context);
        }
    }

    private static string? ObjectId(ClaimsPrincipal caller) =>
        caller.FindFirst("http://schemas.microsoft.com/identity/claims/objectidentifier")?.Value ?? caller.FindFirst("oid")?.Value;

    [LoggerMessage(Level = LogLevel.Warning, Message = "App Service Authentication passed a principal that could not be read; the request is treated as signed out")]
    private static partial void LogBadPrincipal(ILogger logger, Exception exception);
}
