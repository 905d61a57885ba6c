using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Laptop;
using Serverless.Lifecycle.Api;
using Serverless.Tests;

namespace Serverless.Hosts.Tests;

/// <summary>
/// The route table (<see cref="ApiRoutes.All"/>), the OpenAPI document both hosts serve and the
/// README's route table name the same (method, route) pairs, and the served document is the one
/// Microsoft.AspNetCore.OpenApi generates from laptop mode's endpoints today.
/// </summary>
public sealed partial class ApiDocumentationTests
{
    private static readonly IReadOnlySet<string> Expected =
        ApiRoutes.All.Select(r => $"{r.Method} /{ApiRoutes.Prefix}/{r.Route}").ToHashSet();

    private static readonly string CommittedPath = Path.Combine(RepoPaths.Root, "functions", "Serverless.Lifecycle.Api", ApiRoutes.OpenApi);

    private const string GeneratorRoute = "/generated/openapi.json";

    /// <summary>
    /// The document Microsoft.AspNetCore.OpenApi generates from laptop mode's endpoints (the generator's
    /// own handler, run in-process), with what it cannot know added: the function key the Functions
    /// app asks for on every route but <see cref="ApiRoutes.Anonymous"/>.
    /// </summary>
    private static async Task<JsonObject> GeneratedOpenApiDocumentAsync()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration["Storage:ConnectionString"] = "UseDevelopmentStorage=true";
        builder.AddLaptopMode();
        builder.Services.AddOpenApi(o => o.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Serverless ML lifecycle API";
            document.Info.Version = OpenInferenceApi.ServerVersion;
            document.Info.Description = "The same routes in laptop mode (loopback only, no key or sign-in) and in the Functions app, where each operation's security says what it needs: a function key (scoring and machines), an Entra app role (reading and administration), or nothing.";
            return Task.CompletedTask;
        }));
        await using var app = builder.Build();

        // A started host adds routing and endpoints itself, which hands the mapped endpoints to the
        // document's generator; a host that is not started needs the two calls.
        app.UseRouting();
        app.MapLifecycleApi();
        app.MapOpenApi(GeneratorRoute);
        app.UseEndpoints(_ => { });
        var endpoint = ((IEndpointRouteBuilder)app).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()
            .Single(e => e.RoutePattern.RawText == GeneratorRoute);

        var context = new DefaultHttpContext { RequestServices = app.Services };
        context.Request.Method = HttpMethods.Get;
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("127.0.0.1", 7071);
        context.Request.Path = GeneratorRoute;
        using var body = new MemoryStream();
        context.Response.Body = body;
        await endpoint.RequestDelegate!(context);
        Assert.Equal(StatusCodes.Status200OK, context.Response.StatusCode);

        var document = JsonNode.Parse(body.ToArray())!.AsObject();
        document.Remove("servers"); // the request's own address: each host is its own server
        var components = document["components"] as JsonObject ?? new JsonObject();
        document["components"] = components;
        components["securitySchemes"] = new JsonObject
        {
            ["scoringKey"] = new JsonObject
            {
                ["type"] = "apiKey", ["in"] = "header", ["name"] = ApiAccess.KeyHeader,
                ["description"] = "A scoring key the product issued (POST /api/scoring-keys; also accepted as ?code=): scoring routes only, for the models it names. Laptop mode needs none.",
            },
            ["functionKey"] = new JsonObject
            {
                ["type"] = "apiKey", ["in"] = "header", ["name"] = "x-functions-key",
                ["description"] = "A function key of the Functions app (also accepted as ?code=): the Event Grid webhook and this document. Laptop mode needs none.",
            },
            ["entra"] = new JsonObject
            {
                ["type"] = "http", ["scheme"] = "bearer", ["bearerFormat"] = "JWT",
                ["description"] = $"An Entra ID token for the API's app registration, or an App Service Authentication session, whose identity has the app role {ApiRoles.Scorer} (scoring), {ApiRoles.Reader} (reading) or {ApiRoles.Admin} (everything): reading and administration routes, where no key is enough, and scoring without a key. Laptop mode needs none.",
            },
        };
        // The generator tags an operation by the host's assembly or the handler's class; a reader
        // looks for the area instead: the path's first segment (models, runs, v2...).
        var areas = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            var area = path.Split('/', StringSplitOptions.RemoveEmptyEntries)[1];
            areas.Add(area);
            foreach (var (_, operation) in item!.AsObject().Where(op => OperationKeys.Contains(op.Key)))
            {
                operation!["tags"] = new JsonArray(area);
            }

            var route = path[(ApiRoutes.Prefix.Length + 2)..].Replace("ui/{file}", ApiRoutes.Dashboard, StringComparison.Ordinal);
            foreach (var (method, operation) in item!.AsObject().Where(op => OperationKeys.Contains(op.Key)))
            {
                operation!["security"] = ApiAccess.Of(method.ToUpperInvariant(), route) switch
                {
                    RouteAccess.Anonymous => new JsonArray(),
                    RouteAccess.Scoring => new JsonArray(new JsonObject { ["scoringKey"] = new JsonArray() }, new JsonObject { ["entra"] = new JsonArray(ApiRoles.Scorer) }),
                    RouteAccess.Key => new JsonArray(new JsonObject { ["functionKey"] = new JsonArray() }),
                    RouteAccess.Trainer => new JsonArray(new JsonObject { ["entra"] = new JsonArray("the trainer's managed identity") }),
                    var access => new JsonArray(new JsonObject { ["entra"] = new JsonArray(access == RouteAccess.Admin ? ApiRoles.Admin : ApiRoles.Reader) }),
                };
            }
        }

        document["tags"] = new JsonArray([.. areas.Select(area => new JsonObject { ["name"] = area })]);
        return document;
    }

    /// <summary>The document as the hosts serve it: <see cref="OpenApiDocumentApi.Get"/>'s bytes.</summary>
    private static async Task<JsonNode> ServedOpenApiDocumentAsync()
    {
        var context = new DefaultHttpContext { RequestServices = new ServiceCollection().AddLogging().BuildServiceProvider() };
        using var body = new MemoryStream();
        context.Response.Body = body;
        await OpenApiDocumentApi.Get().ExecuteAsync(context);
        Assert.StartsWith("application/json", context.Response.ContentType, StringComparison.Ordinal);
        return JsonNode.Parse(body.ToArray())!;
    }

    /// <summary><c>OPENAPI_WRITE=1 ./test.sh --filter ApiDocumentationTests</c> rewrites the committed document.</summary>
    [Fact]
    public async Task TheServedOpenApiDocument_IsTheOneTheEndpointsGenerate()
    {
        var generated = await GeneratedOpenApiDocumentAsync();
        if (Environment.GetEnvironmentVariable("OPENAPI_WRITE") == "1")
        {
            await File.WriteAllTextAsync(CommittedPath, generated.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n");
            return;
        }

        Assert.True(
            JsonNode.DeepEquals(generated, await ServedOpenApiDocumentAsync()),
            $"{CommittedPath} is not the document the endpoints generate; run OPENAPI_WRITE=1 ./test.sh --filter ApiDocumentationTests and rebuild.");
    }

    private static readonly string[] OperationKeys = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

    private static IReadOnlySet<string> OpenApiRoutes(JsonNode document) =>
        document["paths"]!.AsObject()
            // OpenAPI has no catch-all parameters: it writes the dashboard's {*file} as {file}.
            .SelectMany(path => path.Value!.AsObject().Where(op => OperationKeys.Contains(op.Key)).Select(op => $"{op.Key.ToUpperInvariant()} {path.Key.Replace("/ui/{file}", "/ui/{*file}", StringComparison.Ordinal)}"))
            .ToHashSet();

    [Fact]
    public async Task TheOpenApiDocument_ListsExactlyTheRouteTable_AndTheKeyEachNeeds()
    {
        var document = await ServedOpenApiDocumentAsync();
        var open = document["paths"]!.AsObject()
            .SelectMany(path => path.Value!.AsObject().Where(op => OperationKeys.Contains(op.Key) && op.Value!["security"] is JsonArray { Count: 0 }).Select(_ => path.Key))
            .Select(path => path[(ApiRoutes.Prefix.Length + 2)..].Replace("ui/{file}", ApiRoutes.Dashboard, StringComparison.Ordinal))
            .ToHashSet();
        Assert.Equal(ApiRoutes.Anonymous.Order(StringComparer.Ordinal), open.Order(StringComparer.Ordinal));
        Assert.Equal("x-functions-key", (string)document["components"]!["securitySchemes"]!["functionKey"]!["name"]!);

        // Rolling back needs the admin role, predicting a key: a scoring key opens no administration.
        Assert.Equal(ApiRoles.Admin, (string)document["paths"]!["/api/models/{name}/rollback"]!["post"]!["security"]![0]!["entra"]![0]!);
        Assert.NotNull(document["paths"]!["/api/models/{name}/predict"]!["post"]!["security"]![0]!["scoringKey"]);
        Assert.Equal(ApiRoles.Scorer, (string)document["paths"]!["/api/models/{name}/predict"]!["post"]!["security"]![1]!["entra"]![0]!);

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
