using Microsoft.AspNetCore.Http;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Specs;

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

    public static IResult NotFound(string detail) =>
        Results.Problem(detail: detail, statusCode: StatusCodes.Status404NotFound, title: "Not found.");

    public static IResult Conflict(string detail, IDictionary<string, object?>? extensions = null) =>
        Results.Problem(detail: detail, statusCode: StatusCodes.Status409Conflict, title: "Conflict.", extensions: extensions);

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
    }
}
