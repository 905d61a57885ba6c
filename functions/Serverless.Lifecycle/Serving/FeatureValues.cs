using System.Globalization;
using System.Text.Json;
using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Serving;

/// <summary>
/// Reads one JSON value of a feature into a <see cref="FeatureBatch"/> under the spec's serving
/// policies. Shared by the JSON route and the Open Inference Protocol route, so both accept and
/// refuse exactly the same values with the same words.
/// </summary>
public static class FeatureValues
{
    /// <summary>Sets the value, or returns why it cannot be scored (and sets nothing).</summary>
    public static string? Set(FeatureBatch batch, FeatureSpec feature, int row, JsonElement value, ServingSpec policy)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(feature);
        ArgumentNullException.ThrowIfNull(policy);
        if (feature.IsNumeric)
        {
            float number;
            switch (value.ValueKind)
            {
                case JsonValueKind.Null:
                    batch.SetNumeric(feature.Name, row, float.NaN);
                    return null;
                case JsonValueKind.Number:
                    number = value.TryGetDouble(out var parsed) ? (float)parsed : float.NaN;
                    break;
                case JsonValueKind.String when value.GetString() is "NaN" or "Infinity" or "-Infinity":
                    number = float.Parse(value.GetString()!, NumberStyles.Float, CultureInfo.InvariantCulture);
                    break;
                default:
                    return $"Expected a number, got {Describe(value.ValueKind)}.";
            }

            if (!float.IsFinite(number) && policy.NonFinite != InputPolicies.Pass)
            {
                var what = value.ValueKind == JsonValueKind.String ? $"'{value.GetString()}'" : "A number outside the range of a 32-bit float";
                return $"{what} is not a finite number, and serving.nonFinite is {policy.NonFinite}.";
            }

            batch.SetNumeric(feature.Name, row, number);
            return null;
        }

        string category;
        switch (value.ValueKind)
        {
            case JsonValueKind.Null:
                category = "";
                break;
            case JsonValueKind.String:
                category = value.GetString()!;
                break;
            default:
                return $"Expected a string category, got {Describe(value.ValueKind)}.";
        }

        if (category.Length > 0 && policy.UnseenCategories == InputPolicies.Reject && feature.Categories is { } categories && !categories.Contains(category, StringComparer.Ordinal))
        {
            return $"'{category}' is not one of the categories {string.Join(", ", categories)}, and serving.unseenCategories is reject.";
        }

        batch.SetCategorical(feature.Name, row, category);
        return null;
    }

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
