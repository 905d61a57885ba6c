using Microsoft.AspNetCore.Http;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Api;

/// <summary>Responses shared by every endpoint: JSON in the product's shape, RFC 9457 problem details for errors.</summary>
public static class ApiResults
{
    public static IResult Json(object value, int statusCode = StatusCodes.Status200OK) =>
        Results.Json(value, SpecJson.Options, statusCode: statusCode);

    public static IResult BadRequest(string title, IDictionary<string, string[]> errors) =>
        Results.ValidationProblem(errors, title: title, statusCode: StatusCodes.Status400BadRequest);

    public static IResult BadRequest(string field, string message) =>
        BadRequest("The request is not valid.", new Dictionary<string, string[]> { [field] = [message] });

    /// <summary>
    /// 400 for a <c>{version}</c> route value that can never name a version (empty, <c>0</c>, <c>v0</c>, too
    /// large); null for a number, <c>v&lt;number&gt;</c>, <c>latest</c> or an alias, which the registry resolves.
    /// </summary>
    public static IResult? BadVersionReference(string version) =>
        string.IsNullOrWhiteSpace(version) || (ModelReference.IsVersion(version) && !ModelReference.TryParseVersion(version, out _))
            ? BadRequest("version", $"'{version}' is not a version number (1, 2, 3...), v<number>, latest or an alias.")
            : null;

    public static IResult NotFound(string detail) =>
        Results.Problem(detail: detail, statusCode: StatusCodes.Status404NotFound, title: "Not found.");

    public static IResult Conflict(string detail, IDictionary<string, object?>? extensions = null) =>
        Results.Problem(detail: detail, statusCode: StatusCodes.Status409Conflict, title: "Conflict.", extensions: extensions);

    /// <summary>
    /// 503 with <c>Retry-After</c>: the product is healthy but cannot answer this now (storage is
    /// unreachable, or the version's files cannot be served).
    /// </summary>
    public static IResult Unavailable(string detail, int retryAfterSeconds, IDictionary<string, object?>? extensions = null) =>
        WithRetryAfter(Results.Problem(detail: detail, statusCode: StatusCodes.Status503ServiceUnavailable, title: "Service unavailable.", extensions: extensions), retryAfterSeconds);

    /// <summary>A result with a <c>Retry-After</c> header in seconds.</summary>
    public static IResult WithRetryAfter(IResult result, int seconds) =>
        WithHeader(result, "Retry-After", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>A result with one response header added.</summary>
    public static IResult WithHeader(IResult result, string name, string value) => new HeaderResult(result, name, value);

    /// <summary>Seconds a client should wait before trying again when storage is unreachable.</summary>
    public const int StorageRetryAfterSeconds = 5;

    /// <summary>
    /// The 503 for a failure of the product's own state rather than of the request: storage
    /// unreachable (also when the SDK's retries are spent, which surfaces as <see cref="AggregateException"/>)
    /// or a version that cannot be served. Null for any other exception. Shared by every API's handler.
    /// </summary>
    public static (int RetryAfterSeconds, string Detail, IDictionary<string, object?>? Extensions)? Unavailability(Exception exception) => exception switch
    {
        ModelVersionUnservableException ex => (ex.RetryAfterSeconds, ex.Message, new Dictionary<string, object?> { ["model"] = ex.Model, ["version"] = ex.Version, ["reason"] = ex.Reason }),
        StorageUnavailableException ex => (StorageRetryAfterSeconds, ex.Message, null),
        not OperationCanceledException when StorageFaults.IsTransientWithin(exception) =>
            (StorageRetryAfterSeconds, $"Storage is unreachable ({StorageFaults.Describe(exception)}); nothing was changed by this request unless it says otherwise. Try again shortly.", null),
        _ => null,
    };

    /// <summary>Runs an endpoint and turns the registry's domain exceptions into problem details.</summary>
    public static async Task<IResult> HandleAsync(Func<Task<IResult>> endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        try
        {
            return await endpoint();
        }
        catch (ModelNotFoundException ex)
        {
            return NotFound(ex.Message);
        }
        catch (ModelVersionNotFoundException ex)
        {
            return NotFound(ex.Message);
        }
        catch (AliasNotFoundException ex)
        {
            return NotFound(ex.Message);
        }
        catch (SpecConflictException ex)
        {
            return Conflict(ex.Message, new Dictionary<string, object?> { ["currentETag"] = ex.CurrentETag });
        }
        catch (AliasConflictException ex)
        {
            return Conflict(ex.Message, new Dictionary<string, object?> { ["currentVersion"] = ex.CurrentVersion, ["currentETag"] = ex.CurrentETag });
        }
        catch (Exception ex) when (Unavailability(ex) is { } unavailable)
        {
            return Unavailable(unavailable.Detail, unavailable.RetryAfterSeconds, unavailable.Extensions);
        }
    }

    private sealed class HeaderResult(IResult inner, string name, string value) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            ArgumentNullException.ThrowIfNull(httpContext);
            httpContext.Response.Headers[name] = value;
            return inner.ExecuteAsync(httpContext);
        }
    }
}
