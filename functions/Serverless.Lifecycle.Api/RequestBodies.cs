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
    public static async Task<string?> ReadTextAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken) =>
        await ReadBytesAsync(request, maxBytes, cancellationToken) is { } bytes ? Encoding.UTF8.GetString(bytes.Span) : null;

    /// <summary>
    /// Reads the body's bytes, after a UTF-8 BOM if there is one (the bodies are JSON or text); null
    /// when it is larger than <paramref name="maxBytes"/> (known from Content-Length before anything
    /// is read, or while reading when the length is not given).
    /// </summary>
    public static async Task<ReadOnlyMemory<byte>?> ReadBytesAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ContentLength > maxBytes)
        {
            return null;
        }

        // Sized from Content-Length when given (one allocation, the body's size), grown otherwise.
        var buffer = new byte[request.ContentLength is { } length ? (int)length : 4096];
        var filled = 0;
        while (true)
        {
            if (filled == buffer.Length)
            {
                if (buffer.Length >= maxBytes)
                {
                    // Full at the limit: anything more makes the body too large.
                    var probe = new byte[1];
                    // Typed: with a bare null the conditional is a Memory<byte>, and "too large" would read as an empty body.
                    return await request.Body.ReadAsync(probe, cancellationToken) == 0 ? WithoutBom(buffer.AsMemory(0, filled)) : (ReadOnlyMemory<byte>?)null;
                }

                Array.Resize(ref buffer, (int)Math.Min(Math.Max(buffer.Length * 2L, 4096), maxBytes));
            }

            var read = await request.Body.ReadAsync(buffer.AsMemory(filled), cancellationToken);
            if (read == 0)
            {
                return WithoutBom(buffer.AsMemory(0, filled));
            }

            filled += read;
        }
    }

    private static ReadOnlyMemory<byte> WithoutBom(ReadOnlyMemory<byte> body) =>
        body.Span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? body[3..] : body;

    /// <summary>The 415 a route answers for a content type it does not take; <paramref name="detail"/> says what to send.</summary>
    public static IResult UnsupportedMediaType(string detail) =>
        Results.Problem(detail: detail, statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type.");

    /// <summary>The 413 a route answers for a body over its limit.</summary>
    public static IResult TooLarge(string detail) =>
        Results.Problem(detail: detail, statusCode: StatusCodes.Status413PayloadTooLarge, title: "Payload too large.");

    /// <summary>Parses a JSON body; the error names what is wrong and where.</summary>
    public static async Task<(JsonDocument? Document, IResult? Error)> ReadJsonAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!IsJson(request))
        {
            return (null, UnsupportedMediaType($"Content type '{request.ContentType}' is not supported; send application/json."));
        }

        var body = await ReadBytesAsync(request, MaxJsonBytes, cancellationToken);
        if (body is not { } text)
        {
            return (null, TooLarge($"The body is larger than {MaxJsonBytes} bytes."));
        }

        try
        {
            // The document reads the body's bytes in place (no copy as a string).
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
