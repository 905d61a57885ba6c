using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Serverless.Lifecycle.Api;

/// <summary>Reading request bodies with a size cap, so an oversized body is refused before it is buffered whole.</summary>
public static class RequestBodies
{
    public const int MaxJsonBytes = 4 * 1024 * 1024;

    public static bool IsJson(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var type = request.ContentType;
        return string.IsNullOrEmpty(type)
            || type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase)
            || type.Contains("+json", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Reads the body as text; null when it is larger than <paramref name="maxBytes"/>.</summary>
    public static async Task<string?> ReadTextAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ContentLength > maxBytes)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>Parses a JSON body; the error names what is wrong and where.</summary>
    public static async Task<(JsonDocument? Document, IResult? Error)> ReadJsonAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!IsJson(request))
        {
            return (null, Results.Problem(
                detail: $"Content type '{request.ContentType}' is not supported; send application/json.",
                statusCode: StatusCodes.Status415UnsupportedMediaType,
                title: "Unsupported media type."));
        }

        var text = await ReadTextAsync(request, MaxJsonBytes, cancellationToken);
        if (text is null)
        {
            return (null, Results.Problem(
                detail: $"The body is larger than {MaxJsonBytes} bytes.",
                statusCode: StatusCodes.Status413PayloadTooLarge,
                title: "Payload too large."));
        }

        try
        {
            return (JsonDocument.Parse(text), null);
        }
        catch (JsonException ex)
        {
            return (null, ApiResults.BadRequest(
                "The body is not valid JSON.",
                new Dictionary<string, string[]> { [ex.Path ?? "$"] = [$"Malformed JSON at line {ex.LineNumber + 1}, position {ex.BytePositionInLine + 1}."] }));
        }
    }

    /// <summary>
    /// An optional body <c>{"reason": "..."}</c> (cancel, rollback, archive): the reason, or
    /// <paramref name="fallback"/> when there is no body; an error when the body is there but wrong.
    /// </summary>
    public static async Task<(string Reason, IResult? Error)> ReadReasonAsync(HttpRequest request, string fallback, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ContentLength is null or 0 && request.Headers.TransferEncoding.Count == 0)
        {
            return (fallback, null);
        }

        var (document, error) = await ReadJsonAsync(request, cancellationToken);
        if (error is not null)
        {
            return (fallback, error);
        }

        using (document)
        {
            var root = document!.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (fallback, ApiResults.BadRequest("body", "Expected a JSON object such as {\"reason\": \"...\"}."));
            }

            if (!root.TryGetProperty("reason", out var reason))
            {
                return (fallback, null);
            }

            return reason.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(reason.GetString())
                ? (reason.GetString()!, null)
                : (fallback, ApiResults.BadRequest("reason", "Must be a non-empty string."));
        }
    }
}
