using System.Globalization;
using System.Text.Json;
using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Scoring;

/// <summary>
/// Reads one value of a feature into a <see cref="FeatureBatch"/> under the spec's serving
/// policies. Shared by the JSON route, the Open Inference Protocol route (JSON values) and batch
/// scoring (CSV fields), so all of them accept and refuse the same values with the same words.
/// </summary>
public static class FeatureValues
{
    /// <summary>Sets a JSON value, or returns why it cannot be scored (and sets nothing).</summary>
    public static string? Set(FeatureBatch batch, FeatureSpec feature, int row, JsonElement value, ServingSpec policy)
    {
        ArgumentNullException.ThrowIfNull(feature);
        if (feature.IsNumeric)
        {
            return value.ValueKind switch
            {
                JsonValueKind.Null => SetNumber(batch, feature, row, float.NaN, null, policy),
                JsonValueKind.Number => SetNumber(batch, feature, row, value.TryGetDouble(out var parsed) ? (float)parsed : float.NaN, null, policy),
                JsonValueKind.String when value.GetString() is "NaN" or "Infinity" or "-Infinity" => SetNumber(batch, feature, row, Literal(value.GetString()!), value.GetString(), policy),
                _ => $"Expected a number, got {Describe(value.ValueKind)}.",
            };
        }

        return value.ValueKind switch
        {
            JsonValueKind.Null => SetCategory(batch, feature, row, "", policy),
            JsonValueKind.String => SetCategory(batch, feature, row, value.GetString()!, policy),
            _ => $"Expected a string category, got {Describe(value.ValueKind)}.",
        };
    }

    /// <summary>
    /// Sets a CSV field (batch scoring): empty is missing; numbers in invariant culture, with
    /// "NaN", "Infinity" and "-Infinity" under the non-finite policy.
    /// </summary>
    public static string? SetText(FeatureBatch batch, FeatureSpec feature, int row, string text, ServingSpec policy)
    {
        ArgumentNullException.ThrowIfNull(text);
        return SetText(batch, feature, row, text.AsSpan(), policy, category => category.ToString());
    }

    /// <summary>
    /// The same from the field's characters, as batch scoring reads them: a number is parsed where it
    /// lies, and a category becomes a string through <paramref name="category"/> (which may reuse one
    /// string per distinct value).
    /// </summary>
    public static string? SetText(FeatureBatch batch, FeatureSpec feature, int row, ReadOnlySpan<char> text, ServingSpec policy, Func<ReadOnlySpan<char>, string> category)
    {
        ArgumentNullException.ThrowIfNull(feature);
        ArgumentNullException.ThrowIfNull(category);
        var trimmed = text.Trim();
        if (!feature.IsNumeric)
        {
            return SetCategory(batch, feature, row, category(trimmed), policy);
        }

        if (trimmed.Length == 0)
        {
            return SetNumber(batch, feature, row, float.NaN, null, policy);
        }

        if (trimmed is "NaN" or "Infinity" or "-Infinity")
        {
            var literal = trimmed.ToString();
            return SetNumber(batch, feature, row, Literal(literal), literal, policy);
        }

        return double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
            ? SetNumber(batch, feature, row, (float)number, null, policy)
            : $"Expected a number, got '{trimmed}'.";
    }

    /// <summary>A missing number is NaN (written null or empty); <paramref name="literal"/> is set when the value was spelled NaN or Infinity.</summary>
    private static string? SetNumber(FeatureBatch batch, FeatureSpec feature, int row, float number, string? literal, ServingSpec policy)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(policy);
        var missing = float.IsNaN(number) && literal is null;
        if (!missing && !float.IsFinite(number) && policy.NonFinite != InputPolicies.Pass)
        {
            var what = literal is null ? "A number outside the range of a 32-bit float" : $"'{literal}'";
            return $"{what} is not a finite number, and serving.nonFinite is {policy.NonFinite}.";
        }

        batch.SetNumeric(feature.Name, row, number);
        return null;
    }

    /// <summary>
    /// The longest category value served: far beyond any real category, short enough that one request
    /// cannot put megabytes into the prediction log (every input is logged).
    /// </summary>
    public const int MaxCategoryLength = 1024;

    private static string? SetCategory(FeatureBatch batch, FeatureSpec feature, int row, string category, ServingSpec policy)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(policy);
        if (category.Length > MaxCategoryLength)
        {
            return $"The category is {category.Length} characters long; at most {MaxCategoryLength} are accepted.";
        }
        if (category.Length > 0 && policy.UnseenCategories == InputPolicies.Reject && feature.Categories is { } categories && !categories.Contains(category, StringComparer.Ordinal))
        {
            return $"'{category}' is not one of the categories {string.Join(", ", categories)}, and serving.unseenCategories is reject.";
        }

        batch.SetCategorical(feature.Name, row, category);
        return null;
    }

    private static float Literal(string text) => float.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);

    public static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "null",
    };
}
