using System.Collections.Frozen;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;

namespace Serverless.Lifecycle.Api;

/// <summary>
/// The dashboard: static HTML, CSS and JavaScript modules embedded in this assembly (with uPlot from
/// npm), served by both hosts from memory. The pages call the JSON API from the browser; nothing is
/// fetched from elsewhere, so it works offline. Every answer carries a content security policy that
/// allows only this origin's scripts and no framing.
/// </summary>
public static class DashboardApi
{
    public const string IndexFile = "index.html";

    private const string Policy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    private static readonly FrozenDictionary<string, (byte[] Bytes, string ContentType, string ETag)> Files = Load();

    /// <summary>The file names the dashboard has, for tests.</summary>
    public static IReadOnlyCollection<string> Names => Files.Keys;

    /// <summary>The dashboard's page, as a host links to it.</summary>
    public const string Url = "/" + ApiRoutes.Prefix + "/ui/";

    /// <summary>App Service Authentication's sign-in with Microsoft Entra ID, coming back to the dashboard.</summary>
    public const string SignInUrl = "/.auth/login/aad?post_login_redirect_uri=" + Url;

    /// <summary>
    /// A dashboard file by name (<c>index.html</c>, <c>app.js</c>, <c>vendor/uPlot.esm.js</c>...); 404 for any
    /// other. The page is at <see cref="Url"/>, with the slash its files are relative to. With
    /// <paramref name="requireSignIn"/> (the Functions app), only a request App Service Authentication
    /// let through (it adds the signed-in person's <c>X-MS-CLIENT-PRINCIPAL-ID</c>) gets the files;
    /// any other gets a page that says how to turn sign-in on.
    /// </summary>
    public static IResult Get(HttpContext context, string? file, bool requireSignIn = false, bool signInAvailable = false)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (string.IsNullOrEmpty(file) && context.Request.Path.Value?.EndsWith('/') != true)
        {
            return Results.Redirect(Url);
        }

        if (requireSignIn && string.IsNullOrEmpty(context.Request.Headers["X-MS-CLIENT-PRINCIPAL-ID"]))
        {
            // With App Service Authentication on, a person without a session signs in and comes back here.
            if (signInAvailable)
            {
                return Results.Redirect(SignInUrl);
            }

            context.Response.Headers.ContentSecurityPolicy = Policy;
            return Results.Content(SignInNeeded, "text/html; charset=utf-8", System.Text.Encoding.UTF8, StatusCodes.Status401Unauthorized);
        }

        var name = string.IsNullOrEmpty(file) ? IndexFile : file;
        if (!Files.TryGetValue(name, out var found))
        {
            return ApiResults.NotFound($"The dashboard has no file '{name}'.");
        }

        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = Policy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "no-cache";
        headers.ETag = found.ETag;
        return context.Request.Headers.IfNoneMatch == found.ETag
            ? Results.StatusCode(StatusCodes.Status304NotModified)
            : Results.Bytes(found.Bytes, found.ContentType);
    }

    private const string SignInNeeded = """
        <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign-in needed</title></head><body>
        <main><h1>The dashboard needs sign-in</h1>
        <p>It shows every model, run and version, so in Azure it answers only to a person signed in with
        Microsoft Entra ID through App Service Authentication, whose app role (Lifecycle.Reader or
        Lifecycle.Admin) the app then checks. Register an app with the roles in infra/app-roles.json, then
        deploy with <code>azd env set DASHBOARD_SIGN_IN true</code>, <code>azd env set DASHBOARD_CLIENT_ID &lt;app id&gt;</code>
        and <code>azd up</code>. Scoring, the Event Grid webhook and the trainer's callback keep their keys.
        See the README, "Sign-in, app roles and the dashboard in Azure".</p></main></body></html>
        """;


    private static FrozenDictionary<string, (byte[], string, string)> Load()
    {
        var assembly = typeof(DashboardApi).Assembly;
        var files = new Dictionary<string, (byte[], string, string)>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith("dashboard/", StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var bytes = copy.ToArray();
            var type = Path.GetExtension(resource) switch
            {
                ".html" => "text/html; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                _ => "application/octet-stream",
            };
            files[resource["dashboard/".Length..]] = (bytes, type, $"\"{Convert.ToHexStringLower(SHA256.HashData(bytes))[..16]}\"");
        }

        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
