using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Serverless.Laptop;
using Serverless.Lifecycle.Api;
using Serverless.Tests;

namespace Serverless.Hosts.Tests;

/// <summary>
/// The route table (<see cref="ApiRoutes.All"/>), the OpenAPI document laptop mode serves and the
/// README's route table name the same (method, route) pairs.
/// </summary>
public sealed partial class ApiDocumentationTests
{
    private static readonly IReadOnlySet<string> Expected =
        ApiRoutes.All.Select(r => $"{r.Method} /{ApiRoutes.Prefix}/{r.Route}").ToHashSet();

    /// <summary>The document as laptop mode serves it on <see cref="LifecycleEndpoints.OpenApiRoute"/>: the endpoint's own handler, run in-process.</summary>
    private static async Task<JsonNode> ServedOpenApiDocumentAsync()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration["Storage:ConnectionString"] = "UseDevelopmentStorage=true";
        builder.AddLaptopMode();
        await using var app = builder.Build();

        // A started host adds routing and endpoints itself, which hands the mapped endpoints to the
        // document's generator; a host that is not started needs the two calls.
        app.UseRouting();
        app.MapLifecycleApi();
        app.MapOpenApiDocument();
        app.UseEndpoints(_ => { });
        var endpoint = ((IEndpointRouteBuilder)app).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()
            .Single(e => e.RoutePattern.RawText == LifecycleEndpoints.OpenApiRoute);

        var context = new DefaultHttpContext { RequestServices = app.Services };
        context.Request.Method = HttpMethods.Get;
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("127.0.0.1", 7071);
        context.Request.Path = LifecycleEndpoints.OpenApiRoute;
        using var body = new MemoryStream();
        context.Response.Body = body;
        await endpoint.RequestDelegate!(context);

        Assert.Equal(StatusCodes.Status200OK, context.Response.StatusCode);
        Assert.StartsWith("application/json", context.Response.ContentType, StringComparison.Ordinal);
        return JsonNode.Parse(body.ToArray())!;
    }

    private static readonly string[] OperationKeys = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

    private static IReadOnlySet<string> OpenApiRoutes(JsonNode document) =>
        document["paths"]!.AsObject()
            // OpenAPI has no catch-all parameters: it writes the dashboard's {*file} as {file}.
            .SelectMany(path => path.Value!.AsObject().Where(op => OperationKeys.Contains(op.Key)).Select(op => $"{op.Key.ToUpperInvariant()} {path.Key.Replace("/ui/{file}", "/ui/{*file}", StringComparison.Ordinal)}"))
            .ToHashSet();

    [Fact]
    public async Task TheOpenApiDocument_ListsExactlyTheRouteTable()
    {
        var document = await ServedOpenApiDocumentAsync();

        Assert.StartsWith("3.1", (string)document["openapi"]!, StringComparison.Ordinal);
        Assert.Equal(("Serverless ML lifecycle API", OpenInferenceApi.ServerVersion), ((string)document["info"]!["title"]!, (string)document["info"]!["version"]!));
        AssertSame("the OpenAPI document", OpenApiRoutes(document));
    }

    [Fact]
    public void TheReadme_ListsExactlyTheRouteTable()
    {
        AssertSame("README.md's API table", ReadmeRoutes(File.ReadAllText(Path.Combine(RepoPaths.Root, "README.md"))));
    }

    private static void AssertSame(string source, IReadOnlySet<string> actual)
    {
        var missing = Expected.Except(actual).Order().ToList();
        var extra = actual.Except(Expected).Order().ToList();
        Assert.True(
            missing.Count == 0 && extra.Count == 0,
            $"{source} and ApiRoutes.All disagree.\nIn ApiRoutes.All only: {string.Join(", ", missing)}\nIn {source} only: {string.Join(", ", extra)}");
    }

    /// <summary>
    /// The (method, route) pairs of the route table in README.md's "The API" section: every backticked
    /// <c>METHOD /path</c> in a row's first cell, prefixed with /api; a bracketed part of a path is
    /// optional (both forms are routes); a backticked method alone, as in <c>`POST /events` (and
    /// `OPTIONS`)</c>, is the cell's previous path with that method. Other tables' cells name no methods.
    /// </summary>
    internal static IReadOnlySet<string> ReadmeRoutes(string readme)
    {
        var section = ApiSection().Match(readme);
        Assert.True(section.Success, "README.md has no '## The API' section.");
        var routes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in section.Groups["body"].Value.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith('|')))
        {
            var cell = line.Split('|', StringSplitOptions.TrimEntries)[1];
            string? path = null;
            foreach (Match code in Code().Matches(cell))
            {
                var parts = code.Groups[1].Value.Split(' ', 2, StringSplitOptions.TrimEntries);
                if (!HttpMethodName().IsMatch(parts[0]))
                {
                    continue;
                }

                path = parts.Length == 2 ? parts[1] : path ?? throw new InvalidOperationException($"README.md: '{cell}' names a method before any path.");
                foreach (var expanded in Expand(path))
                {
                    routes.Add($"{parts[0]} /{ApiRoutes.Prefix}{expanded}");
                }
            }
        }

        return routes;
    }

    /// <summary>A path with optional <c>[...]</c> parts, as every path it stands for.</summary>
    private static IEnumerable<string> Expand(string path)
    {
        var open = path.IndexOf('[', StringComparison.Ordinal);
        if (open < 0)
        {
            return [path];
        }

        var close = path.IndexOf(']', open);
        var (before, inner, after) = (path[..open], path[(open + 1)..close], path[(close + 1)..]);
        return Expand(before + after).Concat(Expand(before + inner + after));
    }

    [Fact]
    public void ReadmeRoutes_ReadsEveryFormTheTableUses_AndNothingElse()
    {
        const string Readme = """
            # Title
            ## The API
            | Method and route | What it does |
            |---|---|
            | `PUT /models/{name}` | A `GET` in prose is not a route. |
            | `POST /runs/{runId}/approve`, `POST /runs/{runId}/reject` | Two. |
            | `POST /events` (and `OPTIONS`) | Another method on the same path. |
            | `GET /v2/models/{name}[/versions/{version}]` | Optional part. |

            | Status | Meaning |
            | --- | --- |
            | `pending`, `running` | Not routes. |
            ## Serving
            | `GET /not/in/the/section` | |
            """;

        Assert.Equal(
            [
                "GET /api/v2/models/{name}", "GET /api/v2/models/{name}/versions/{version}", "OPTIONS /api/events", "POST /api/events",
                "POST /api/runs/{runId}/approve", "POST /api/runs/{runId}/reject", "PUT /api/models/{name}",
            ],
            ReadmeRoutes(Readme).Order(StringComparer.Ordinal));
    }

    [GeneratedRegex(@"^## The API\s*$(?<body>.*?)(?=^## |\z)", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex ApiSection();

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex Code();

    [GeneratedRegex("^(GET|PUT|POST|DELETE|PATCH|OPTIONS|HEAD)$")]
    private static partial Regex HttpMethodName();
}
