using System.Text.Json;
using System.Text.Json.Serialization;

namespace Serverless.Lifecycle.Specs;

/// <summary>The one JSON shape of everything this product stores or serves: camelCase, web defaults.</summary>
public static class SpecJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            WriteIndented = false,

            // A trainer's NaN metric must reach the pipeline as a value it can reject with a reason,
            // not as a serialization error that loses the result.
            NumberHandling = JsonNumberHandling.AllowReadingFromString | JsonNumberHandling.AllowNamedFloatingPointLiterals,
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
