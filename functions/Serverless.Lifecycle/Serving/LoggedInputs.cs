using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Serverless.Lifecycle.Serving;

/// <summary>The feature names of logged records, in their order; records read one after another share one.</summary>
internal sealed class InputSchema
{
    public InputSchema(string[] names)
    {
        Names = names;
        Utf8 = [.. names.Select(Encoding.UTF8.GetBytes)];
        Index = new Dictionary<string, int>(names.Length, StringComparer.Ordinal);
        for (var i = 0; i < names.Length; i++)
        {
            Index[names[i]] = i;
        }
    }

    public string[] Names { get; }

    public byte[][] Utf8 { get; }

    public Dictionary<string, int> Index { get; }
}

/// <summary>
/// A logged record's inputs as read back: numbers unboxed in an array (NaN where the value is not
/// a number), anything else (strings, null) beside them, and the names in an
/// <see cref="InputSchema"/> shared with the records before it. Monitoring reads millions of
/// records; this keeps one small allocation per record instead of a dictionary and a box per value,
/// and lets the drift window find a feature by position instead of by name.
/// </summary>
internal sealed class LoggedInputs(InputSchema schema, double[] numbers, object?[]? others) : IReadOnlyDictionary<string, object?>
{
    public InputSchema Schema => schema;

    public int Count => schema.Names.Length;

    public IEnumerable<string> Keys => schema.Names;

    public IEnumerable<object?> Values => Enumerable.Range(0, Count).Select(ValueAt);

    public object? this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"No input named '{key}'.");

    /// <summary>The value at <paramref name="index"/> as a number: the number, a numeric string parsed, or null.</summary>
    public double? NumberAt(int index) => !double.IsNaN(numbers[index]) ? numbers[index] : AsNumber(others?[index]);

    /// <summary>An input value as a number: a number (as serving logs it, or as the log reads it back), a numeric string parsed, or null.</summary>
    public static double? AsNumber(object? value) => value switch
    {
        double d => d,
        float f => f,
        string text when double.TryParse(text, CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => null,
    };

    public object? ValueAt(int index) => !double.IsNaN(numbers[index]) ? numbers[index] : others?[index];

    public bool ContainsKey(string key) => schema.Index.ContainsKey(key);

    public bool TryGetValue(string key, out object? value)
    {
        if (schema.Index.TryGetValue(key, out var index))
        {
            value = ValueAt(index);
            return true;
        }

        value = null;
        return false;
    }

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() =>
        Enumerable.Range(0, Count).Select(i => KeyValuePair.Create(schema.Names[i], ValueAt(i))).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>
/// Reads a record's inputs as <see cref="LoggedInputs"/>: numbers as <see cref="double"/>, strings
/// as <see cref="string"/>, null as null (anything else stays a <see cref="JsonElement"/>). The
/// default for <c>object</c> would make every value a <see cref="JsonElement"/>, a parsed document
/// of its own. Writes as the default does.
/// </summary>
internal sealed class InputsConverter : JsonConverter<IReadOnlyDictionary<string, object?>>
{
    // The schema of the last record read on this thread, and scratch space for the one being read.
    [ThreadStatic]
    private static InputSchema? recent;

    [ThreadStatic]
    private static Scratch? scratch;

    public override IReadOnlyDictionary<string, object?> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException($"Inputs must be a JSON object, not {reader.TokenType}.");
        }

        var schema = recent;
        var row = scratch ??= new Scratch();
        row.Clear();
        var same = schema is not null;
        var hasOthers = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var index = row.Names.Count;
            if (same && index < schema!.Names.Length && reader.ValueTextEquals(schema.Utf8[index]))
            {
                row.Names.Add(schema.Names[index]);
            }
            else
            {
                same = false;
                row.Names.Add(reader.GetString()!);
            }

            reader.Read();
            var (number, other) = reader.TokenType switch
            {
                JsonTokenType.Number => (reader.GetDouble(), null),
                JsonTokenType.String => (double.NaN, reader.GetString()),
                JsonTokenType.Null => (double.NaN, (object?)null),
                _ => (double.NaN, JsonElement.ParseValue(ref reader)),
            };
            row.Numbers.Add(number);
            row.Others.Add(other);
            hasOthers |= other is not null;
        }

        if (!same || row.Names.Count != schema!.Names.Length)
        {
            schema = new InputSchema([.. row.Names]);
            if (schema.Index.Count != schema.Names.Length)
            {
                // A name repeated in one object: the last value wins, as in a dictionary.
                var inputs = new Dictionary<string, object?>(StringComparer.Ordinal);
                for (var i = 0; i < row.Names.Count; i++)
                {
                    inputs[row.Names[i]] = !double.IsNaN(row.Numbers[i]) ? row.Numbers[i] : row.Others[i];
                }

                return inputs;
            }

            recent = schema;
        }

        return new LoggedInputs(schema, [.. row.Numbers], hasOthers ? [.. row.Others] : null);
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyDictionary<string, object?> value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var (name, input) in value)
        {
            writer.WritePropertyName(name);
            JsonSerializer.Serialize(writer, input, options);
        }

        writer.WriteEndObject();
    }

    private sealed class Scratch
    {
        public List<string> Names { get; } = [];

        public List<double> Numbers { get; } = [];

        public List<object?> Others { get; } = [];

        public void Clear()
        {
            Names.Clear();
            Numbers.Clear();
            Others.Clear();
        }
    }
}
