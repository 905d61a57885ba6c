using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Serverless.Lifecycle.Access;
using Serverless.Lifecycle.Registry;

namespace Serverless.Lifecycle.Api;

/// <summary>The product's scoring keys over HTTP: an administrator issues and revokes them, a reader lists them.</summary>
public sealed class ScoringKeysApi(ScoringKeyStore keys, ModelRegistry registry)
{
    private const int MaxModels = 50;

    /// <summary>
    /// POST /scoring-keys with <c>{"name": "checkout-service", "models": ["churn"]}</c> (models optional:
    /// all when left out): 201 with the key, shown this once. 400 naming each problem, such as a model
    /// that is not registered.
    /// </summary>
    public Task<IResult> CreateAsync(HttpRequest request, CancellationToken cancellationToken) => ApiResults.HandleAsync(async () =>
    {
        ArgumentNullException.ThrowIfNull(request);
        var (document, error) = await RequestBodies.ReadJsonAsync(request, cancellationToken);
        if (error is not null)
        {
            return error;
        }

        using (document)
        {
            var root = document!.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return ApiResults.BadRequest("$", "Send an object: {\"name\": \"checkout-service\", \"models\": [\"churn\"]}.");
            }

            var problems = new Dictionary<string, string[]>();
            var name = root.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
            if (ScoringKeyStore.NameProblem(name) is { } nameProblem)
            {
                problems["name"] = [nameProblem];
            }

            var models = new List<string>();
            if (root.TryGetProperty("models", out var m) && m.ValueKind != JsonValueKind.Null)
            {
                if (m.ValueKind != JsonValueKind.Array || m.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String) || m.GetArrayLength() > MaxModels)
                {
                    problems["models"] = [$"An array of up to {MaxModels} model names the key may score; leave it out for every model."];
                }
                else
                {
                    models = [.. m.EnumerateArray().Select(e => e.GetString()!).Distinct(StringComparer.Ordinal)];
                    var registered = (await registry.ListSpecsAsync(cancellationToken)).Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
                    foreach (var (model, index) in models.Select((model, index) => (model, index)).Where(x => !registered.Contains(x.model)))
                    {
                        problems[$"models[{index}]"] = [$"No model '{model}' is registered."];
                    }
                }
            }

            if (problems.Count > 0)
            {
                return ApiResults.BadRequest($"The scoring key request has {problems.Count} problem(s).", problems);
            }

            var (key, secret) = await keys.CreateAsync(name!, models, ApiAccess.Actor(request.HttpContext.User), cancellationToken);
            request.HttpContext.Response.Headers.CacheControl = "no-store";
            request.HttpContext.Response.Headers.Location = $"/{ApiRoutes.Prefix}/scoring-keys/{key.Id}";
            return ApiResults.Json(
                new
                {
                    key.Id, key.Name, key.Models, key.CreatedBy, key.CreatedAt, key = secret,
                    use = "Send it as the x-functions-key header (or ?code=) of scoring requests; it is shown this once.",
                },
                StatusCodes.Status201Created);
        }
    });

    /// <summary>GET /scoring-keys: every key issued, revoked ones included; never a secret.</summary>
    public Task<IResult> ListAsync(CancellationToken cancellationToken) => ApiResults.HandleAsync(async () =>
        ApiResults.Json(new { keys = await keys.ListAsync(cancellationToken) }));

    /// <summary>DELETE /scoring-keys/{keyId}: revokes the key (again: no change); 404 when there is no such key.</summary>
    public Task<IResult> RevokeAsync(HttpRequest request, string keyId, CancellationToken cancellationToken) => ApiResults.HandleAsync(async () =>
    {
        ArgumentNullException.ThrowIfNull(request);
        var key = await keys.RevokeAsync(keyId, ApiAccess.Actor(request.HttpContext.User), cancellationToken);
        return key is null ? ApiResults.NotFound($"No scoring key '{keyId}' was issued.") : ApiResults.Json(key);
    });
}
