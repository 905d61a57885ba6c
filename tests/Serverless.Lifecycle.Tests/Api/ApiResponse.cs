using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Serverless.Lifecycle.Tests.Api;

/// <summary>What an endpoint's <see cref="IResult"/> writes, executed as a host would execute it.</summary>
internal sealed record ApiResponse(int Status, IHeaderDictionary Headers, byte[] Body)
{
    private static readonly IServiceProvider Services = new ServiceCollection().AddLogging().BuildServiceProvider();

    public JsonNode Json => JsonNode.Parse(Body) ?? throw new InvalidOperationException("The body is JSON null.");

    public static HttpRequest Request(string? query = null)
    {
        var context = new DefaultHttpContext { RequestServices = Services };
        context.Request.Method = HttpMethods.Get;
        context.Request.QueryString = new QueryString(query);
        return context.Request;
    }

    public static async Task<ApiResponse> ExecuteAsync(IResult result, HttpRequest? request = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        var context = request?.HttpContext ?? Request().HttpContext;
        using var body = new MemoryStream();
        context.Response.Body = body;
        await result.ExecuteAsync(context);
        return new ApiResponse(context.Response.StatusCode, context.Response.Headers, body.ToArray());
    }

    public override string ToString() => $"{Status} {System.Text.Encoding.UTF8.GetString(Body)}";
}
