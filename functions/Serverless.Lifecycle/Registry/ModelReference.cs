namespace Serverless.Lifecycle.Registry;

/// <summary>
/// A model reference as the API takes it: <c>name</c> (its champion), <c>name@alias</c>, or
/// <c>name@v3</c> / <c>name@3</c> for a version; the registry resolves the part after the @.
/// </summary>
public static class ModelReference
{
    public static (string Model, string Reference) Parse(string reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var at = reference.IndexOf('@', StringComparison.Ordinal);
        return at < 0 || at == reference.Length - 1
            ? (reference.TrimEnd('@'), ReservedAliases.Champion)
            : (reference[..at], reference[(at + 1)..]);
    }

    /// <summary>The number of a version reference (<c>3</c> or <c>v3</c>) that can exist: 1 or more, within an int.</summary>
    public static bool TryParseVersion(string reference, out int number)
    {
        number = 0;
        return IsVersion(reference)
            && int.TryParse(reference.TrimStart('v'), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out number)
            && number >= 1;
    }

    /// <summary>True for a version number (<c>3</c>) or <c>v3</c>; false for an alias or <c>latest</c>.</summary>
    public static bool IsVersion(string reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var digits = reference.StartsWith('v') ? reference[1..] : reference;
        return digits.Length > 0 && digits.All(char.IsAsciiDigit);
    }
}
