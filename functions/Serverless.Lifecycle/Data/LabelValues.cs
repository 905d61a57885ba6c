using Serverless.Lifecycle.Data.Profiling;
using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Data;

/// <summary>
/// How a label is written in a dataset, by task: binary 1/0 or true/false (any case), multiclass
/// any non-empty text (the class's name, trimmed), regression a finite number.
/// </summary>
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

    /// <summary>A regression target: a finite number.</summary>
    public static bool TryParseValue(ReadOnlySpan<char> text, out double value) =>
        DecimalParser.TryParse(text.Trim(), out value) && double.IsFinite(value);

    /// <summary>What a label of <paramref name="task"/> must look like, for error messages.</summary>
    public static string Expected(string task) => task switch
    {
        ModelTasks.Multiclass => "a class name",
        ModelTasks.Regression => "a finite number",
        _ => "0/1 or true/false",
    };
}
