using System.Diagnostics;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Serverless.Lifecycle.Api;

/// <summary>
/// The answer to an exception no endpoint handled, the same in both hosts: laptop mode runs it from
/// <c>UseExceptionHandler()</c>, the Functions app from its worker middleware. Storage unreachable
/// (or a version that cannot be served) is the 503 with <c>Retry-After</c> that
/// <see cref="ApiResults.Unavailability"/> gives every endpoint; anything else is a 500 problem
/// details with the trace id and nothing of the exception, which goes to the log.
/// </summary>
public sealed partial class ApiExceptionHandler(ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    public const string UnexpectedTitle = "An unexpected error occurred.";

    public const string UnexpectedDetail = "The server could not complete the request. Report the traceId with the time of the request; the server's log has the cause.";

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        ArgumentNullException.ThrowIfNull(exception);
        if (httpContext.Response.HasStarted)
        {
            // Too late for another status: the exception stays unhandled and the host ends the response.
            return false;
        }

        var traceId = Activity.Current?.Id ?? httpContext.TraceIdentifier;
        if (exception is OperationCanceledException or IOException && httpContext.RequestAborted.IsCancellationRequested)
        {
            // The caller went away: nobody reads an answer, and it is no fault of the server.
            httpContext.Response.StatusCode = StatusCodes.Status499ClientClosedRequest;
            return true;
        }

        IResult result;
        if (ApiResults.Unavailability(exception) is { } unavailable)
        {
            LogUnavailable(exception, httpContext.Request.Method, httpContext.Request.Path.Value ?? "/", traceId);
            var extensions = new Dictionary<string, object?>(unavailable.Extensions ?? new Dictionary<string, object?>()) { ["traceId"] = traceId };
            result = ApiResults.Unavailable(unavailable.Detail, unavailable.RetryAfterSeconds, extensions);
        }
        else
        {
            LogUnhandled(exception, httpContext.Request.Method, httpContext.Request.Path.Value ?? "/", traceId);
            result = Results.Problem(
                detail: UnexpectedDetail,
                statusCode: StatusCodes.Status500InternalServerError,
                title: UnexpectedTitle,
                extensions: new Dictionary<string, object?> { ["traceId"] = traceId });
        }

        httpContext.Response.Clear();
        await result.ExecuteAsync(httpContext);
        return true;
    }

    [LoggerMessage(EventId = 5000, Level = LogLevel.Error, Message = "{Method} {Path} failed with an unhandled exception; answered 500 (trace {TraceId}).")]
    private partial void LogUnhandled(Exception exception, string method, string path, string traceId);

    [LoggerMessage(EventId = 5001, Level = LogLevel.Warning, Message = "{Method} {Path} could not be answered: storage or the version's files are unavailable; answered 503 (trace {TraceId}).")]
    private partial void LogUnavailable(Exception exception, string method, string path, string traceId);
}
