using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Template;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Lifecycle.Access;

namespace Serverless.Lifecycle.Api;

/// <summary>Who may call a route.</summary>
public enum RouteAccess
{
    /// <summary>Anyone: health probes, and the dashboard's static files.</summary>
    Anonymous,

    /// <summary>
    /// Scoring clients: predictions, the Open Inference Protocol, feedback. In Azure a scoring key the
    /// product issued (<see cref="Lifecycle.Access.ScoringKeyStore"/>) or the <see cref="ApiRoles.Scorer"/> app role.
    /// </summary>
    Scoring,

    /// <summary>Machines with a function key: the Event Grid webhook, the OpenAPI document.</summary>
    Key,

    /// <summary>The trainer's completion callback: the trainer identity's managed-identity token (<see cref="ApiAccess.TrainerClaim"/>).</summary>
    Trainer,

    /// <summary>Reading the registry, runs and monitoring: the <see cref="ApiRoles.Reader"/> or <see cref="ApiRoles.Admin"/> app role.</summary>
    Reader,

    /// <summary>Changing anything: the <see cref="ApiRoles.Admin"/> app role. A scoring key is never enough.</summary>
    Admin,
}

/// <summary>The app roles of the API's Entra app registration (docs/security.md says how to define and assign them).</summary>
public static class ApiRoles
{
    public const string Admin = "Lifecycle.Admin";
    public const string Reader = "Lifecycle.Reader";

    /// <summary>Scoring without a key: for services that call with their managed identity's token.</summary>
    public const string Scorer = "Lifecycle.Scorer";
}

/// <summary>
/// Which routes need what, and the check both hosts run before an endpoint: in Azure the caller is the
/// Entra identity App Service Authentication signed in (its <c>X-MS-CLIENT-PRINCIPAL</c>, trusted only
/// when that authentication is on, since only then can no client set it); in laptop mode, the person
/// at the machine. Scoring routes take the <see cref="ApiRoles.Scorer"/> role or a scoring key the product
/// issued; the machine routes (Event Grid, the OpenAPI document) are left to the Functions host's keys.
/// </summary>
public static class ApiAccess
{
    private static readonly HashSet<string> ScoringRoutes = new(StringComparer.Ordinal)
    {
        ApiRoutes.Predict, ApiRoutes.PredictVersion, ApiRoutes.Feedback, ApiRoutes.OipServer, ApiRoutes.OipInfer, ApiRoutes.OipInferVersion,
        ApiRoutes.OipModel, ApiRoutes.OipModelVersion, ApiRoutes.OipModelReady, ApiRoutes.OipModelVersionReady,
    };

    private static readonly HashSet<string> KeyRoutes = new(StringComparer.Ordinal) { ApiRoutes.Events, ApiRoutes.OpenApi };

    /// <summary>
    /// The claim the Functions app adds to a caller whose object ID is the trainer identity's
    /// (<c>Training:TrainerPrincipalId</c>): not an app role anyone can be given, so only that identity
    /// reports a job's completion.
    /// </summary>
    public const string TrainerClaim = "serverless-lifecycle/trainer";

    private static readonly (string Method, string Route, TemplateMatcher Matcher)[] Matchers =
        [.. ApiRoutes.All.Select(r => (r.Method, r.Route, new TemplateMatcher(TemplateParser.Parse(r.Route), new RouteValueDictionary())))];

    /// <summary>The header App Service Authentication passes the signed-in identity in (base64 JSON).</summary>
    public const string PrincipalHeader = "X-MS-CLIENT-PRINCIPAL";

    /// <summary>Who may call a (method, route) pair of <see cref="ApiRoutes.All"/>.</summary>
    public static RouteAccess Of(string method, string route) =>
        ApiRoutes.Anonymous.Contains(route) ? RouteAccess.Anonymous
        : ScoringRoutes.Contains(route) ? RouteAccess.Scoring
        : KeyRoutes.Contains(route) ? RouteAccess.Key
        : route == ApiRoutes.JobComplete ? RouteAccess.Trainer
        : HttpMethods.IsGet(method) ? RouteAccess.Reader
        : RouteAccess.Admin;

    /// <summary>The route a request is for, or null for a path that is none of the API's; its values (such as the model's name) in <paramref name="values"/> when given.</summary>
    public static string? RouteOf(string method, PathString path, RouteValueDictionary? values = null)
    {
        if (!path.StartsWithSegments("/" + ApiRoutes.Prefix, out var rest))
        {
            return null;
        }

        foreach (var (routeMethod, route, matcher) in Matchers)
        {
            var matched = new RouteValueDictionary();
            if (string.Equals(routeMethod, method, StringComparison.OrdinalIgnoreCase) && matcher.TryMatch(rest, matched))
            {
                foreach (var (key, value) in matched)
                {
                    values?[key] = value;
                }

                return route;
            }
        }

        return null;
    }

    /// <summary>
    /// Null when <paramref name="caller"/> may call a route of <paramref name="access"/>; otherwise the
    /// 401 (no identity) or 403 (an identity without the role) that says what is needed.
    /// </summary>
    public static IResult? Authorize(ClaimsPrincipal caller, RouteAccess access)
    {
        ArgumentNullException.ThrowIfNull(caller);
        // Scoring is AuthorizeScoringAsync's (it may need to read a key); machine routes are the Functions host's.
        if (access is RouteAccess.Anonymous or RouteAccess.Scoring or RouteAccess.Key)
        {
            return null;
        }

        // The trainer's callback: its identity (the claim CallerMiddleware adds for its object ID), or an administrator.
        if (access == RouteAccess.Trainer)
        {
            return caller.HasClaim(TrainerClaim, "true") || caller.IsInRole(ApiRoles.Admin)
                ? null
                : Results.Problem(
                    title: "Not the trainer.",
                    detail: "Only the trainer's identity reports a job's completion, with a token of its managed identity for the app registration; the pipeline also checks the job's status itself.",
                    statusCode: caller.Identity?.IsAuthenticated == true ? StatusCodes.Status403Forbidden : StatusCodes.Status401Unauthorized);
        }

        var needed = access == RouteAccess.Admin ? ApiRoles.Admin : $"{ApiRoles.Reader} or {ApiRoles.Admin}";
        if (caller.Identity?.IsAuthenticated != true)
        {
            return Results.Problem(
                title: "Sign-in needed.",
                detail: $"This route needs an Entra identity with the app role {needed}, signed in through App Service Authentication (a browser session, or a bearer token for the API's app registration). A function key is not enough: keys are for scoring. See docs/security.md.",
                statusCode: StatusCodes.Status401Unauthorized);
        }

        var allowed = access == RouteAccess.Admin ? caller.IsInRole(ApiRoles.Admin) : caller.IsInRole(ApiRoles.Admin) || caller.IsInRole(ApiRoles.Reader);
        return allowed
            ? null
            : Results.Problem(
                title: "Forbidden.",
                detail: $"{Actor(caller)} does not have the app role {needed} this route needs; an administrator of the app registration can assign it.",
                statusCode: StatusCodes.Status403Forbidden);
    }

    /// <summary>
    /// The identity App Service Authentication passed, or null when the header is absent. A header that
    /// is not the platform's base64 JSON throws <see cref="FormatException"/>.
    /// </summary>
    public static ClaimsPrincipal? FromPrincipalHeader(string? header)
    {
        if (string.IsNullOrEmpty(header))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(Convert.FromBase64String(header));
            var root = document.RootElement;
            var nameType = root.TryGetProperty("name_typ", out var n) && n.GetString() is { Length: > 0 } nt ? nt : ClaimTypes.Name;
            var roleType = root.TryGetProperty("role_typ", out var r) && r.GetString() is { Length: > 0 } rt ? rt : ClaimTypes.Role;
            var claims = root.GetProperty("claims").EnumerateArray()
                .Select(c => new Claim(c.GetProperty("typ").GetString()!, c.GetProperty("val").GetString()!))
                .ToList();
            var authType = root.TryGetProperty("auth_typ", out var a) && a.GetString() is { Length: > 0 } at ? at : "aad";
            return new ClaimsPrincipal(new ClaimsIdentity(claims, authType, nameType, roleType));
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or KeyNotFoundException or ArgumentNullException)
        {
            throw new FormatException($"{PrincipalHeader} is not App Service Authentication's principal: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// The caller as the audit trail records it: the name and the Entra object ID of a signed-in
    /// identity (<c>alice@contoso.com (oid 00000000-…)</c>), the person at the machine in laptop mode.
    /// </summary>
    public static string Actor(ClaimsPrincipal caller)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var name = caller.Identity?.Name is { Length: > 0 } n ? n : caller.FindFirst("preferred_username")?.Value ?? caller.FindFirst("name")?.Value;
        var objectId = caller.FindFirst("http://schemas.microsoft.com/identity/claims/objectidentifier")?.Value ?? caller.FindFirst("oid")?.Value;
        return (name, objectId) switch
        {
            ({ } both, { } id) => $"{both} (oid {id})",
            (null, { } id) => $"oid {id}",
            ({ } only, null) => only,
            _ => "api",
        };
    }

    /// <summary>The person at the machine, as laptop mode's caller: every role, since laptop mode listens on loopback only.</summary>
    public static ClaimsPrincipal LocalUser() =>
        new(new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, $"{Environment.UserName} (laptop)"), new Claim(ClaimTypes.Role, ApiRoles.Admin)],
            "laptop"));

    /// <summary>The header a scoring key is sent in, where a function key would go (also accepted as <c>?code=</c>).</summary>
    public const string KeyHeader = "x-functions-key";

    /// <summary>
    /// Runs <see cref="Authorize"/> for a request, and for a scoring route <see cref="AuthorizeScoringAsync"/>;
    /// writes the refusal and returns false when it refuses.
    /// </summary>
    public static async Task<bool> CheckAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var values = new RouteValueDictionary();
        var route = RouteOf(context.Request.Method, context.Request.Path, values);
        var access = route is null ? RouteAccess.Key : Of(context.Request.Method, route);
        var refusal = access == RouteAccess.Scoring
            ? await AuthorizeScoringAsync(context, values.TryGetValue("name", out var name) && name is string model ? model.Split('@')[0] : null)
            : Authorize(context.User, access);
        if (refusal is null)
        {
            return true;
        }

        await refusal.ExecuteAsync(context);
        return false;
    }

    /// <summary>
    /// Null when the caller may score <paramref name="model"/> (its name without a pinned <c>@alias</c>
    /// or <c>@v3</c>; null: a route that names none): the
    /// <see cref="ApiRoles.Scorer"/> or <see cref="ApiRoles.Admin"/> role, or a scoring key the product
    /// issued that covers the model. Otherwise a 401 (no key, or not one of ours, or revoked) or a 403
    /// (a key for other models; an identity without the role) that says what is needed.
    /// </summary>
    public static async Task<IResult?> AuthorizeScoringAsync(HttpContext context, string? model)
    {
        ArgumentNullException.ThrowIfNull(context);
        var caller = context.User;
        if (caller.IsInRole(ApiRoles.Scorer) || caller.IsInRole(ApiRoles.Admin))
        {
            return null;
        }

        var presented = context.Request.Headers[KeyHeader].ToString() is { Length: > 0 } header ? header : context.Request.Query["code"].ToString();
        const string Needed = $"Scoring needs a scoring key the product issued (POST /api/scoring-keys, by an administrator), sent as the {KeyHeader} header or ?code=, or an Entra identity with the app role {ApiRoles.Scorer}.";
        if (presented.Length == 0)
        {
            return caller.Identity?.IsAuthenticated == true
                ? Results.Problem(title: "Forbidden.", detail: $"{Actor(caller)} does not have the app role {ApiRoles.Scorer}. {Needed}", statusCode: StatusCodes.Status403Forbidden)
                : Results.Problem(title: "A scoring key or sign-in is needed.", detail: Needed, statusCode: StatusCodes.Status401Unauthorized);
        }

        var check = await context.RequestServices.GetRequiredService<ScoringKeyStore>().CheckAsync(presented, model, context.RequestAborted);
        return check.Verdict switch
        {
            ScoringKeyVerdict.Valid => null,
            ScoringKeyVerdict.NotForModel => Results.Problem(
                title: "Forbidden.",
                detail: $"The scoring key '{check.Key!.Name}' ({check.Key.Id}) may score only {string.Join(", ", check.Key.Models.Select(m => $"'{m}'"))}, not '{model}'.",
                statusCode: StatusCodes.Status403Forbidden),
            ScoringKeyVerdict.Revoked => Results.Problem(
                title: "The scoring key was revoked.",
                detail: $"The scoring key '{check.Key!.Name}' ({check.Key.Id}) was revoked at {check.Key.RevokedAt:O}. {Needed}",
                statusCode: StatusCodes.Status401Unauthorized),
            _ => Results.Problem(
                title: "Not a scoring key.",
                detail: $"The key sent is not a scoring key this app issued (the Functions host's own keys do not open scoring routes). {Needed}",
                statusCode: StatusCodes.Status401Unauthorized),
        };
    }

}
