using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Serverless.Lifecycle.Observability;
using Serverless.Lifecycle.Storage;
using Serverless.Tests;

namespace Serverless.Hosts.Tests.Infra;

/// <summary>
/// What the infrastructure and the workbooks name must exist in the code: storage containers and
/// tables, metric names and their dimensions, span names and tags, azd services and their hooks.
/// </summary>
public sealed partial class InfraConsistencyTests
{
    private static readonly string Infra = Path.Combine(RepoPaths.Root, "infra");

    private static IEnumerable<string> Constants(Type type, string suffix) =>
        type.GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral && f.Name.EndsWith(suffix, StringComparison.Ordinal)).Select(f => (string)f.GetValue(null)!);

    private static List<string> BicepArray(string text, string variable) =>
        [.. Regex.Match(text, $@"var {variable} = \[(?<items>[^\]]*)\]").Groups["items"].Value.Split(',').Select(i => i.Trim().Trim('\'')).Where(i => i.Length > 0)];

    [Fact]
    public void StorageModule_CreatesExactlyTheContainersAndTablesTheCodeUses()
    {
        var storage = File.ReadAllText(Path.Combine(Infra, "app", "storage.bicep"));

        Assert.Equal(Constants(typeof(StorageNames), "Container").Order(), BicepArray(storage, "containers").Order());
        Assert.Equal(Constants(typeof(StorageNames), "Table").Order(), BicepArray(storage, "tables").Order());
    }

    private static List<string> WorkbookFiles() => [.. Directory.GetFiles(Path.Combine(Infra, "workbooks"), "*.workbook.json").Select(f => Path.GetFileName(f))];

    public static TheoryData<string> Workbooks() => [.. WorkbookFiles()];

    /// <summary>Every KQL query in a workbook, groups included.</summary>
    private static List<string> Queries(JsonElement element)
    {
        var queries = new List<string>();
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                if (property.Name == "query" && property.Value.ValueKind == JsonValueKind.String)
                {
                    queries.Add(property.Value.GetString()!);
                }
                else
                {
                    queries.AddRange(Queries(property.Value));
                }
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                queries.AddRange(Queries(item));
            }
        }

        return queries;
    }

    [Theory]
    [MemberData(nameof(Workbooks))]
    public void Workbook_QueriesOnlyTheMetricsAndDimensionsTheCodeEmits(string file)
    {
        using var workbook = JsonDocument.Parse(File.ReadAllText(Path.Combine(Infra, "workbooks", file)));
        Assert.Equal("Notebook/1.0", workbook.RootElement.GetProperty("version").GetString());
        var queries = Queries(workbook.RootElement);
        Assert.NotEmpty(queries);

        foreach (var query in queries)
        {
            var metrics = MetricName().Matches(query).Select(m => m.Groups["name"].Value).Distinct().ToList();
            var spans = query.TrimStart().StartsWith("dependencies", StringComparison.Ordinal)
                ? SpanName().Matches(query).Select(m => m.Groups["name"].Value).Distinct().ToList()
                : [];
            Assert.True(metrics.Count + spans.Count > 0, $"{file}: a query names no metric and no span:\n{query}");
            Assert.All(metrics, m => Assert.True(TelemetryNames.Dimensions.ContainsKey(m), $"{file}: '{m}' is not a metric the code emits"));
            Assert.All(spans, s => Assert.True(TelemetryNames.SpanTags.ContainsKey(s), $"{file}: '{s}' is not a span the code emits"));

            // A dimension must be emitted by every metric (or span) the query reads.
            var allowed = metrics.Select(m => TelemetryNames.Dimensions[m]).Concat(spans.Select(s => TelemetryNames.SpanTags[s]))
                .Aggregate((IEnumerable<string>?)null, (all, tags) => all is null ? tags : all.Intersect(tags))!.ToHashSet(StringComparer.Ordinal);
            foreach (var dimension in Dimension().Matches(query).Select(m => m.Groups["name"].Value).Distinct())
            {
                Assert.True(allowed.Contains(dimension), $"{file}: customDimensions.{dimension} is not emitted by {string.Join(", ", metrics.Concat(spans))}");
            }
        }
    }

    [Fact]
    public void Workbooks_TogetherShowEveryMetric()
    {
        var queried = WorkbookFiles().SelectMany(file => Queries(JsonDocument.Parse(File.ReadAllText(Path.Combine(Infra, "workbooks", file))).RootElement))
            .SelectMany(q => MetricName().Matches(q).Select(m => m.Groups["name"].Value)).ToHashSet(StringComparer.Ordinal);

        Assert.Equal([], TelemetryNames.Dimensions.Keys.Where(m => !queried.Contains(m)).ToList());
    }

    [Fact]
    public void MonitoringModule_DeploysEveryWorkbookFile()
    {
        var monitoring = File.ReadAllText(Path.Combine(Infra, "app", "monitoring.bicep"));
        var loaded = Regex.Matches(monitoring, @"loadTextContent\('\.\./workbooks/(?<file>[^']+)'\)").Select(m => m.Groups["file"].Value);

        Assert.Equal(WorkbookFiles().Order(), loaded.Order());
    }

    [Fact]
    public void AzureYaml_ServicesExistAndAreTaggedInTheInfrastructure_AndItsHooksExist()
    {
        var yaml = File.ReadAllLines(Path.Combine(RepoPaths.Root, "azure.yaml"));
        var bicep = string.Concat(Directory.GetFiles(Infra, "*.bicep", SearchOption.AllDirectories).Select(File.ReadAllText));
        var services = new List<(string Name, string Project, string Language)>();
        var inServices = false;
        for (var i = 0; i < yaml.Length; i++)
        {
            inServices = yaml[i] switch { "services:" => true, var l when l.Length > 0 && !char.IsWhiteSpace(l[0]) => false, _ => inServices };
            if (inServices && Regex.Match(yaml[i], @"^  (?<name>[a-z][\w-]*):\s*$") is { Success: true } service)
            {
                var body = yaml.Skip(i + 1).TakeWhile(l => l.StartsWith("    ", StringComparison.Ordinal) || l.Trim().Length == 0 || l.TrimStart().StartsWith('#')).ToList();
                string Field(string key) => body.Select(l => Regex.Match(l, $@"^    {key}:\s*(?<value>\S+)")).First(m => m.Success).Groups["value"].Value;
                services.Add((service.Groups["name"].Value, Field("project"), Field("language")));
            }
        }

        Assert.Equal(["api", "trainer"], services.Select(s => s.Name));
        foreach (var (name, project, language) in services)
        {
            var folder = Path.GetFullPath(Path.Combine(RepoPaths.Root, project));
            Assert.True(Directory.Exists(folder), $"service {name}: {project} does not exist");
            Assert.True(language != "dotnet" || Directory.GetFiles(folder, "*.csproj").Length == 1, $"service {name}: no project file in {project}");
            Assert.True(language != "docker" || File.Exists(Path.Combine(folder, "Dockerfile")), $"service {name}: no Dockerfile in {project}");
            Assert.Contains($"'azd-service-name': '{name}'", bicep, StringComparison.Ordinal);
        }

        foreach (var hook in yaml.Select(l => Regex.Match(l, @"run:\s*\./(?<path>\S+)")).Where(m => m.Success))
        {
            Assert.True(File.Exists(Path.Combine(RepoPaths.Root, hook.Groups["path"].Value)), $"hook {hook.Groups["path"].Value} does not exist");
        }
    }

    [Fact]
    public void ParametersFile_SetsOnlyParametersMainBicepDeclares()
    {
        var main = File.ReadAllText(Path.Combine(Infra, "main.bicep"));
        using var parameters = JsonDocument.Parse(File.ReadAllText(Path.Combine(Infra, "main.parameters.json")));

        foreach (var parameter in parameters.RootElement.GetProperty("parameters").EnumerateObject())
        {
            Assert.Matches($@"(?m)^param {parameter.Name} ", main);
        }
    }

    [GeneratedRegex(@"""(?<name>lifecycle\.[a-z_.]+)""")]
    private static partial Regex MetricName();

    [GeneratedRegex(@"name\s*==\s*""(?<name>[^""]+)""")]
    private static partial Regex SpanName();

    [GeneratedRegex(@"customDimensions\.(?<name>\w+)")]
    private static partial Regex Dimension();
}
