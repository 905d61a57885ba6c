using System.Buffers;

namespace Serverless.Lifecycle.Serving;

/// <summary>
/// The id a prediction is logged under and feedback refers to: the caller's <c>X-Request-Id</c>
/// (or the OIP body's <c>id</c>) when it is a sane token, a new one otherwise.
/// </summary>
public static class RequestIds
{
    public const string Header = "X-Request-Id";
    public const int MaxLength = 128;

    private static readonly SearchValues<char> Allowed = SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:");

    /// <summary>The caller's id when it is valid, else a new one.</summary>
    public static string FromCaller(string? given) => IsValid(given) ? given! : Guid.NewGuid().ToString("N");

    /// <summary>1 to 128 characters of letters, digits and - _ . :</summary>
    public static bool IsValid(string? id) =>
        !string.IsNullOrEmpty(id) && id.Length <= MaxLength && !id.AsSpan().ContainsAnyExcept(Allowed);
}
