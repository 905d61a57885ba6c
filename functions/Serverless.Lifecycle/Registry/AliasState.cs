namespace Serverless.Lifecycle.Registry;

/// <summary>Where an alias points, with the ETag a caller passes back to move it safely.</summary>
public sealed record AliasState(string Model, string Alias, int Version, string ETag, DateTimeOffset UpdatedAt);

/// <summary>Aliases users may not set: they are resolved from the version list.</summary>
public static class ReservedAliases
{
    public const string Champion = "champion";
    public const string Latest = "latest";

    /// <summary>'latest', and what model references read as a version number: <c>3</c> and <c>v3</c>.</summary>
    public static bool IsReserved(string alias) =>
        alias == Latest || ModelReference.IsVersion(alias);

    /// <summary>
    /// Letters, digits, '-', '_' and '.', 1 to 63 of them: a name that is safe in a route, after
    /// '@' in a model reference, and as part of a table key (which refuses '/', '\', '#', '?' and
    /// control characters).
    /// </summary>
    public static bool IsWellFormed(string alias) =>
        alias.Length is > 0 and <= 63 && alias.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    /// <summary>Why <paramref name="alias"/> cannot be set (reserved or not well formed), or null: one rule for the route and the registry.</summary>
    public static string? Problem(string alias) =>
        IsReserved(alias) ? $"'{alias}' is reserved ('latest', <digits> and v<digits> are resolved, not set)."
        : !IsWellFormed(alias) ? $"'{alias}' is not an alias name: use 1 to 63 letters, digits, '-', '_' or '.'."
        : null;
}
