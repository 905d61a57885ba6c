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
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
