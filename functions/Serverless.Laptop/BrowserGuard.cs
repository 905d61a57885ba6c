using System.Net;

namespace Serverless.Laptop;

/// <summary>
/// Keeps other web pages out of laptop mode, which has no keys. Listening on loopback keeps other
/// machines out, but a page from any site open in the user's browser can still send requests to
/// 127.0.0.1: through a host name that resolves to it (DNS rebinding), or as a cross-site form post.
/// So every request must name a loopback host, and a request a browser sends that changes state
/// (POST, PUT, DELETE, PATCH; a browser marks it with <c>Origin</c> or <c>Sec-Fetch-Site</c>) must come
/// from this host's own origin and carry a JSON body type, which a cross-site page cannot send
/// without a CORS preflight that laptop mode never grants. Clients that are not browsers (curl, the
/// SDKs, the trainer's callback) send neither header and are unaffected.
/// </summary>
public sealed class BrowserGuard(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request;
        if (!IsLoopbackName(request.Host.Host))
        {
            return Refuse(context, StatusCodes.Status421MisdirectedRequest, "Misdirected request.",
                $"Laptop mode answers only to a loopback host name (localhost, 127.0.0.1, [::1]); this request named '{request.Host.Host}'.");
        }

        if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method))
        {
            return next(context);
        }

        var origin = request.Headers.Origin.ToString();
        var site = request.Headers["Sec-Fetch-Site"].ToString();
        if (origin.Length == 0 && site.Length == 0)
        {
            return next(context);
        }

        if (site is "cross-site" or "same-site" || (origin.Length > 0 && !SameOrigin(origin, request)))
        {
            return Refuse(context, StatusCodes.Status403Forbidden, "Forbidden.",
                $"Laptop mode takes changes from a browser only from its own pages ({request.Scheme}://{request.Host}); this request came from '{(origin.Length > 0 ? origin : site)}'.");
        }

        var type = request.ContentType ?? "";
        var json = type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase)
            || type.Split(';')[0].Trim().EndsWith("+json", StringComparison.OrdinalIgnoreCase);
        return json
            ? next(context)
            : Refuse(context, StatusCodes.Status415UnsupportedMediaType, "Unsupported media type.",
                $"A change sent from a browser must carry a JSON body (Content-Type: application/json); this one had '{type}'.");
    }

    /// <summary>localhost, a name under .localhost, or a loopback address.</summary>
    public static bool IsLoopbackName(string host)
    {
        ArgumentNullException.ThrowIfNull(host);
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
    }

    private static bool SameOrigin(string origin, HttpRequest request) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri)
        && string.Equals(uri.Scheme, request.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);

    private static Task Refuse(HttpContext context, int status, string title, string detail) =>
        Results.Problem(detail: detail, statusCode: status, title: title).ExecuteAsync(context);
}
