using System.Buffers;
using Microsoft.AspNetCore.Http;

namespace Serverless.Lifecycle.Api;

/// <summary>
/// The id a prediction is logged under and feedback refers to: the caller's <c>X-Request-Id</c>
/// (or the OIP body's <c>id</c>) when it is a sane token, a new one otherwise.
/// </summary>
public static class RequestIds
{
    public const string Header = "X-Request-Id";
    public const int MaxLength = 128;

    private static readonly SearchValues<char> Allowed = SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:");

    public static string From(HttpRequest request, string? fromBody = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        var given = fromBody ?? request.Headers[Header].ToString();
        return IsValid(given) ? given : Guid.NewGuid().ToString("N");
    }

    /// <summary>1 to 128 characters of letters, digits and - _ . :</summary>
    public static bool IsValid(string? id) =>
        !string.IsNullOrEmpty(id) && id.Length <= MaxLength && !id.AsSpan().ContainsAnyExcept(Allowed);
}
