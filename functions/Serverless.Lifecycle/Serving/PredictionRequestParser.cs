using System.Text.Json;
using Serverless.Lifecycle.Scoring;
using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Serving;

/// <summary>
/// Turns a <c>{"instances":[{...}]}</c> body into a <see cref="FeatureBatch"/>, checking every
/// instance against the model's schema and naming each offending field
/// (<c>instances[3].tenure_months</c>), so a bad request gets a precise 400.
/// </summary>
public static class PredictionRequestParser
{
    public sealed record Result(FeatureBatch? Batch, IReadOnlyDictionary<string, string[]> Errors)
    {
        public bool IsValid => Batch is not null && Errors.Count == 0;
    }

    public static Result Parse(JsonElement body, ModelSpec spec, int maxRows)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var errors = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        void Add(string field, string message)
        {
            if (!errors.TryGetValue(field, out var list))
            {
                errors[field] = list = [];
            }

            list.Add(message);
        }

        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("instances", out var instances) || instances.ValueKind != JsonValueKind.Array)
        {
            Add("instances", "Required: an array of instances, each an object of feature values.");
            return Done(null);
        }

        var count = instances.GetArrayLength();
        if (count == 0)
        {
            Add("instances", "The array is empty; send at least one instance.");
            return Done(null);
        }

        if (count > maxRows)
        {
            Add("instances", $"{count} instances exceed the limit of {maxRows} per request.");
            return Done(null);
        }

        var batch = new FeatureBatch(spec, count);
        var row = 0;
        foreach (var instance in instances.EnumerateArray())
        {
            var path = $"instances[{row}]";
            if (instance.ValueKind != JsonValueKind.Object)
            {
                Add(path, $"Expected an object of feature values, got {FeatureValues.Describe(instance.ValueKind)}.");
                row++;
                continue;
            }

            foreach (var feature in spec.Features)
            {
                var field = $"{path}.{feature.Name}";
                if (!instance.TryGetProperty(feature.Name, out var value))
                {
                    Add(field, $"Required {feature.Type} feature is missing.");
                }
                else if (FeatureValues.Set(batch, feature, row, value, spec.Serving) is { } problem)
                {
                    Add(field, problem);
                }
            }

            if (spec.Serving.UnknownFeatures == InputPolicies.Reject)
            {
                foreach (var property in instance.EnumerateObject().Where(p => !spec.Features.Any(f => f.Name == p.Name)))
                {
                    Add($"{path}.{property.Name}", "Not a feature of this model, and serving.unknownFeatures is reject.");
                }
            }

            row++;
        }

        return Done(batch);

        Result Done(FeatureBatch? parsed) =>
            new(errors.Count == 0 ? parsed : null, errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal));
    }
}
