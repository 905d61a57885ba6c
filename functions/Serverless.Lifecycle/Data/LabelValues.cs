namespace Serverless.Lifecycle.Data;

/// <summary>How a binary label is written in a dataset: 1/0 or true/false, any case.</summary>
public static class LabelValues
{
    public static bool TryParseBinary(ReadOnlySpan<char> text, out bool value)
    {
        var trimmed = text.Trim();
        if (trimmed is "1" || trimmed.Equals("true", StringComparison.OrdinalIgnoreCase))
        {
            value = true;
            return true;
        }

        if (trimmed is "0" || trimmed.Equals("false", StringComparison.OrdinalIgnoreCase))
        {
            value = false;
            return true;
        }

        value = false;
        return false;
    }
}
