using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Contracts;

/// <summary>Which side of an operation a body is on: a request may not carry what the specification marks readOnly.</summary>
public enum BodyDirection
{
    Request,
    Response,
}

/// <summary>
/// Azure REST API specifications (Swagger 2.0, as in Azure/azure-rest-api-specs) vendored under
/// <c>Contracts/azure-rest-api-specs/specification/</c>, read as JSON Schema 2020-12 and evaluated with
/// JsonSchema.Net. The files stay verbatim; what Swagger means and JSON Schema does not say is added
/// when they are read:
/// <list type="bullet">
/// <item>objects are closed: a property the definition (with its <c>allOf</c> bases) does not declare is
/// an error, as AutoRest's models would drop it (<c>unevaluatedProperties: false</c>, except on a
/// definition used as an <c>allOf</c> base, which its derived definitions close);</item>
/// <item>in a request, a property marked <c>readOnly</c> is an error (the service sets it): its schema
/// becomes the false schema;</item>
/// <item><c>definitions</c> become <c>$defs</c>, <c>$ref</c>s (relative file paths included) resolve within the
/// vendored tree, and <c>format</c> is checked for <c>date-time</c> (the others are integer and number widths
/// that <c>type</c> already covers); <c>x-ms-*</c> extensions are dropped.</item>
/// </list>
/// </summary>
public sealed partial class SwaggerContract
{
    private static readonly Uri Base = new("https://azure-rest-api-specs.contracts.invalid/specification/");

    private readonly Dictionary<string, JsonObject> documents = new(StringComparer.Ordinal);
    private readonly Dictionary<BodyDirection, BuildOptions> builds = [];
    private readonly Dictionary<(BodyDirection, string, string), JsonSchema> roots = [];
    private readonly Lock gate = new();

    /// <summary>The vendored files, relative to <c>specification/</c>, those others refer to first.</summary>
    public SwaggerContract(params string[] files)
    {
        foreach (var file in files)
        {
            documents[file] = JsonNode.Parse(File.ReadAllText(Path.Combine(SpecificationFolder, file)))!.AsObject();
        }

        var bases = AllOfBases();
        foreach (var direction in Enum.GetValues<BodyDirection>())
        {
            var options = new BuildOptions { Dialect = Dialect.Draft202012, SchemaRegistry = new SchemaRegistry() };
            foreach (var file in files)
            {
                if (documents[file]["definitions"] is not JsonObject definitions)
                {
                    continue;
                }

                var defs = new JsonObject();
                foreach (var (name, definition) in definitions)
                {
                    defs[name] = Translate(definition!, direction, close: !bases.Contains(Key(file, name)));
                }

                var schema = new JsonObject
                {
                    ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
                    ["$id"] = DocumentUri(direction, file).ToString(),
                    ["$defs"] = defs,
                };
                JsonSchema.Build(JsonSerializer.SerializeToElement(schema), options);
            }

            builds[direction] = options;
        }
    }

    public static string Folder { get; } = Path.Combine(RepoPaths.Root, "tests", "Serverless.Lifecycle.Tests", "Contracts");

    public static string SpecificationFolder { get; } = Path.Combine(Folder, "azure-rest-api-specs", "specification");

    /// <summary>A vendored document as it is on disk (paths, parameters, definitions).</summary>
    public JsonObject Document(string file) => documents[file];

    /// <summary>A vendored file as JSON (an example, say), relative to <c>Contracts/</c>.</summary>
    public static JsonNode Load(string pathUnderContracts) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, pathUnderContracts)))!;

    /// <summary>
    /// What is wrong with <paramref name="body"/> as <paramref name="definition"/> of <paramref name="file"/>:
    /// one line per error, with the instance location; empty when it conforms.
    /// </summary>
    public IReadOnlyList<string> Validate(string file, string definition, JsonNode? body, BodyDirection direction)
    {
        EvaluationResults results;
        lock (gate)
        {
            results = Root(direction, file, definition).Evaluate(JsonSerializer.SerializeToElement(body), new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
        }

        if (results.IsValid)
        {
            return [];
        }

        // The leaves of the failure: the nodes with messages, or else (a failing "not") the invalid nodes with no invalid node below them.
        var details = results.Details ?? [];
        var errors = details.Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{Location(d)}: {e.Value} ({e.Key} at {d.EvaluationPath})"))
            .ToList();
        return errors.Count > 0
            ? errors
            : [.. details.Where(d => !d.IsValid && !details.Any(o => !o.IsValid && o != d && o.EvaluationPath.ToString().StartsWith(d.EvaluationPath.ToString(), StringComparison.Ordinal)))
                .Select(d => $"{Location(d)}: invalid at {d.EvaluationPath}")];

        static string Location(EvaluationResults d) => d.InstanceLocation.ToString() is { Length: > 0 } at ? at : "/";
    }

    /// <summary>A schema that is the definition, built once (building registers it, so it is not done twice).</summary>
    private JsonSchema Root(BodyDirection direction, string file, string definition)
    {
        if (!roots.TryGetValue((direction, file, definition), out var schema))
        {
            var root = new JsonObject
            {
                ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
                ["$ref"] = new Uri(DocumentUri(direction, file), "#/$defs/" + definition).ToString(),
            };
            schema = JsonSchema.Build(JsonSerializer.SerializeToElement(root), builds[direction], new Uri(Base, $"{direction}/root/{file}/{definition}"));
            roots[(direction, file, definition)] = schema;
        }

        return schema;
    }

    /// <summary>
    /// The operation of <paramref name="file"/> that <paramref name="method"/> on <paramref name="pathAndQuery"/>
    /// is, with its path parameters checked against their declarations (pattern, length) and its
    /// <c>api-version</c> against the document's; throws, saying why, when none matches.
    /// </summary>
    public SwaggerOperation Operation(string file, string method, string pathAndQuery)
    {
        var document = documents[file];
        var parts = pathAndQuery.Split('?', 2);
        var query = System.Web.HttpUtility.ParseQueryString(parts.Length > 1 ? parts[1] : string.Empty);
        var path = parts[0];
        foreach (var (template, item) in document["paths"]!.AsObject())
        {
            var names = new List<string>();
            var pattern = "^" + TemplateParameter().Replace(Regex.Escape(template).Replace("\\{", "{", StringComparison.Ordinal), m =>
            {
                names.Add(m.Groups[1].Value);
                return "([^/]+)";
            }) + "$";
            var match = Regex.Match(path, pattern);
            if (!match.Success)
            {
                continue;
            }

            var operation = item!.AsObject().FirstOrDefault(o => string.Equals(o.Key, method, StringComparison.OrdinalIgnoreCase)).Value?.AsObject()
                ?? throw new InvalidOperationException($"{template} has no {method} operation in {file}.");
            var values = names.Select((n, i) => (n, Uri.UnescapeDataString(match.Groups[i + 1].Value))).ToDictionary(p => p.n, p => p.Item2);
            var problems = new List<string>();
            foreach (var parameter in operation["parameters"]!.AsArray().Select(p => Resolve(file, p!.AsObject())))
            {
                var name = parameter["name"]!.GetValue<string>();
                var location = parameter["in"]!.GetValue<string>();
                if (location is not ("path" or "query"))
                {
                    continue;
                }

                var value = location == "path" ? values.GetValueOrDefault(name) : query[name];

                if (value is null)
                {
                    if (parameter["required"]?.GetValue<bool>() == true)
                    {
                        problems.Add($"required {location} parameter {name} is missing");
                    }

                    continue;
                }

                if (parameter["pattern"]?.GetValue<string>() is { } regex && !Regex.IsMatch(value, regex))
                {
                    problems.Add($"{name} '{value}' does not match {regex}");
                }

                if (parameter["minLength"]?.GetValue<int>() is { } min && value.Length < min)
                {
                    problems.Add($"{name} '{value}' is shorter than {min}");
                }

                if (parameter["maxLength"]?.GetValue<int>() is { } max && value.Length > max)
                {
                    problems.Add($"{name} '{value}' is longer than {max}");
                }

                if (name == "api-version" && value != document["info"]!["version"]!.GetValue<string>())
                {
                    problems.Add($"api-version {value} is not this document's {document["info"]!["version"]}");
                }
            }

            return problems.Count == 0
                ? new SwaggerOperation(template, operation["operationId"]!.GetValue<string>(), operation)
                : throw new InvalidOperationException($"{method} {pathAndQuery} is {operation["operationId"]} of {file}, but: {string.Join("; ", problems)}.");
        }

        throw new InvalidOperationException($"{method} {pathAndQuery} is no operation of {file}.");
    }

    /// <summary>The definition a response status of an operation declares (its <c>schema.$ref</c>'s name), or null when it declares no body.</summary>
    public static string? ResponseDefinition(SwaggerOperation operation, int status) =>
        operation.Operation["responses"]?[status.ToString(System.Globalization.CultureInfo.InvariantCulture)] is { } response
            ? response["schema"]?["$ref"]?.GetValue<string>().Split("/definitions/")[1]
            : throw new InvalidOperationException($"{operation.OperationId} declares no {status} response.");

    /// <summary>The definition of the operation's body parameter, or null when it takes none.</summary>
    public static string? BodyDefinition(SwaggerOperation operation) =>
        operation.Operation["parameters"]!.AsArray().OfType<JsonObject>()
            .FirstOrDefault(p => p["in"]?.GetValue<string>() == "body")?["schema"]?["$ref"]?.GetValue<string>().Split("/definitions/")[1];

    private JsonObject Resolve(string file, JsonObject parameter)
    {
        if (parameter["$ref"]?.GetValue<string>() is not { } reference)
        {
            return parameter;
        }

        var (target, pointer) = Target(file, reference);
        var node = documents.TryGetValue(target, out var document)
            ? pointer.Split('/', StringSplitOptions.RemoveEmptyEntries).Aggregate((JsonNode?)document, (n, s) => n?[s])
            : null;
        return node as JsonObject ?? throw new InvalidOperationException($"{reference} in {file} is not vendored.");
    }

    /// <summary>The vendored file (relative to specification/) and JSON pointer a reference from <paramref name="file"/> names.</summary>
    private static (string File, string Pointer) Target(string file, string reference)
    {
        var hash = reference.IndexOf('#', StringComparison.Ordinal);
        var (path, pointer) = hash < 0 ? (reference, "") : (reference[..hash], reference[(hash + 1)..]);
        if (path.Length == 0)
        {
            return (file, pointer);
        }

        var resolved = new Uri(new Uri(Base, file), path);
        return (Base.MakeRelativeUri(resolved).ToString(), pointer);
    }

    private static string Key(string file, string definition) => file + "#" + definition;

    private static Uri DocumentUri(BodyDirection direction, string file) => new(Base, $"{direction}/{file}");

    /// <summary>The definitions some definition names as an <c>allOf</c> base: left open, as their derived ones close them.</summary>
    private HashSet<string> AllOfBases()
    {
        var bases = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (file, document) in documents)
        {
            foreach (var reference in Descendants(document["definitions"]).OfType<JsonObject>()
                .SelectMany(o => o["allOf"] is JsonArray all ? all.OfType<JsonObject>() : [])
                .Select(o => o["$ref"]?.GetValue<string>()).OfType<string>())
            {
                var (target, pointer) = Target(file, reference);
                bases.Add(Key(target, pointer.Split('/')[^1]));
            }
        }

        return bases;
    }

    private static IEnumerable<JsonNode> Descendants(JsonNode? node)
    {
        if (node is null)
        {
            yield break;
        }

        yield return node;
        var children = node switch
        {
            JsonObject o => o.Select(p => p.Value),
            JsonArray a => a.AsEnumerable(),
            _ => [],
        };
        foreach (var child in children)
        {
            foreach (var descendant in Descendants(child))
            {
                yield return descendant;
            }
        }
    }

    /// <summary>A Swagger schema object as JSON Schema 2020-12 (see the class's remarks).</summary>
    private static JsonNode Translate(JsonNode schema, BodyDirection direction, bool close)
    {
        if (schema is not JsonObject source)
        {
            return schema.DeepClone();
        }

        var target = new JsonObject();
        foreach (var (keyword, value) in source)
        {
            switch (keyword)
            {
                case var extension when extension.StartsWith("x-", StringComparison.Ordinal):
                    break;
                case "format":
                    if (value?.GetValue<string>() == "date-time")
                    {
                        target[keyword] = "date-time";
                    }

                    break;
                case "$ref":
                    target[keyword] = value!.GetValue<string>().Replace("#/definitions/", "#/$defs/", StringComparison.Ordinal);
                    break;
                case "properties":
                    var properties = new JsonObject();
                    foreach (var (name, property) in value!.AsObject())
                    {
                        properties[name] = direction == BodyDirection.Request && property?["readOnly"]?.GetValue<bool>() == true
                            ? JsonValue.Create(false)
                            : Translate(property!, direction, close: true);
                    }

                    target[keyword] = properties;
                    break;
                case "items" or "additionalProperties" when value is JsonObject:
                    target[keyword] = Translate(value, direction, close: true);
                    break;
                case "allOf":
                    target[keyword] = new JsonArray([.. value!.AsArray().Select(s => Translate(s!, direction, close: false))]);
                    break;
                default:
                    target[keyword] = value?.DeepClone();
                    break;
            }
        }

        if (close && (source.ContainsKey("properties") || source.ContainsKey("allOf")) && !source.ContainsKey("additionalProperties"))
        {
            target["unevaluatedProperties"] = false;
        }

        return target;
    }

    [GeneratedRegex(@"\{([^}/]+)\}")]
    private static partial Regex TemplateParameter();
}

/// <summary>One operation of a vendored specification: its path template, operationId and declaration.</summary>
public sealed record SwaggerOperation(string PathTemplate, string OperationId, JsonObject Operation);
