namespace Serverless.Lifecycle.Registry;

/// <summary>Where an alias points, with the ETag a caller passes back to move it safely.</summary>
public sealed record AliasState(string Model, string Alias, int Version, string ETag, DateTimeOffset UpdatedAt);

/// <summary>Aliases users may not set: they are resolved from the version list.</summary>
public static class ReservedAliases
{
    public const string Champion = "champion";
    public const string Latest = "latest";

    public static bool IsReserved(string alias) =>
        alias == Latest || (alias.Length > 1 && alias[0] == 'v' && alias[1..].All(char.IsAsciiDigit));
}
