using Microsoft.AspNetCore.Http;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Api;

/// <summary>Model specs, versions and aliases over HTTP.</summary>
public sealed class RegistryApi(ModelRegistry registry, ModelArtifactStore artifacts, Rollouts.RolloutStore rollouts)
{

    /// <summary>PUT /models/{name}: register or update a spec; 400 with every problem when it is invalid.</summary>
    public Task<IResult> PutModelAsync(HttpRequest request, string name, CancellationToken cancellationToken) => ApiResults.HandleAsync(async () =>
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!RequestBodies.IsJson(request))
        {
            return RequestBodies.UnsupportedMediaType("Send the spec as application/json.");
        }

        var json = await RequestBodies.ReadTextAsync(request, RequestBodies.MaxJsonBytes, cancellationToken);
        if (json is null)
        {
            return RequestBodies.TooLarge("The spec is larger than 4 MiB.");
        }

        var (spec, problems) = ModelSpecValidator.Parse(json);
        var all = problems.ToList();
        if (spec is not null && spec.Name != name)
        {
            all.Add(new SpecProblem("$.name", $"The spec's name '{spec.Name}' does not match the route's '{name}'."));
        }

        if (spec is null || all.Count > 0)
        {
            var errors = all.GroupBy(p => p.Path).ToDictionary(g => g.Key, g => g.Select(p => p.Message).ToArray());
            return ApiResults.BadRequest($"The model spec has {all.Count} problem(s).", errors);
        }

        var (created, etag) = await registry.PutSpecAsync(spec, ApiAccess.Actor(request.HttpContext.User), request.Headers.IfMatch.FirstOrDefault(), cancellationToken);
        request.HttpContext.Response.Headers.ETag = etag;
        return ApiResults.Json(spec, created ? StatusCodes.Status201Created : StatusCodes.Status200OK);
    });

    /// <summary>GET /models: every model with its aliases.</summary>
    public Task<IResult> ListModelsAsync(CancellationToken cancellationToken) => ApiResults.HandleAsync(async () =>
    {
        var specs = await registry.ListSpecsAsync(cancellationToken);
        var models = new List<object>();
        foreach (var spec in specs)
        {
            var aliases = await registry.ListAliasesAsync(spec.Name, cancellationToken);
            models.Add(new { name = spec.Name, task = spec.Task, aliases = aliases.ToDictionary(a => a.Alias, a => a.Version) });
        }

        return ApiResults.Json(new { models });
    });

    /// <summary>GET /models/{name}: the spec (its ETag in the header, for If-Match), the number of versions, and the aliases.</summary>
    public Task<IResult> GetModelAsync(HttpRequest request, string name, CancellationToken cancellationToken) => ApiResults.HandleAsync(async () =>
    {
        ArgumentNullException.ThrowIfNull(request);
        var (spec, etag) = await registry.GetSpecWithETagAsync(name, cancellationToken);
        request.HttpContext.Response.Headers.ETag = etag;
        var versions = await registry.ListVersionsAsync(name, cancellationToken);
        var aliases = await registry.ListAliasesAsync(name, cancellationToken);
        return ApiResults.Json(new
        {
            name,
            spec,
            versions = versions.Count(v => v.Status == ModelVersionStatus.Ready),
            aliases = aliases.ToDictionary(a => a.Alias, a => a.Version),
        });
    });

    /// <summary>GET /models/{name}/versions.</summary>
    public Task<IResult> ListVersionsAsync(string name, CancellationToken cancellationToken) => ApiResults.HandleAsync(async () =>
    {
        await registry.GetSpecAsync(name, cancellationToken);
        var versions = await registry.ListVersionsAsync(name, cancellationToken);
        var aliases = await registry.ListAliasesAsync(name, cancellationToken);
        return ApiResults.Json(new
        {
            name,
            // A reserved number whose registration has not completed is not a version yet.
            versions = versions.Where(v => v.Status != ModelVersionStatus.Pending).Select(v => new
            {
                v.Version,
                v.Status,
                v.RunId,
                v.CreatedAt,
                v.Sha256,
                v.Metrics,
                v.ServingProblem,
                aliases = aliases.Where(a => a.Version == v.Version).Select(a => a.Alias).ToArray(),
            }),

            // What a client sends as If-Match to move an alias only if nobody moved it since it looked.
            aliasETags = aliases.ToDictionary(a => a.Alias, a => a.ETag),
        });
    });

    /// <summary>GET /models/{name}/versions/{version}: the version with its card.</summary>
    public Task<IResult> GetVersionAsync(string name, string version, CancellationToken cancellationToken) => ApiResults.HandleAsync(async () =>
    {
        // A number, v<number>, latest, or an alias (champion, staging...).
        if (ApiResults.BadVersionReference(version) is { } badVersion)
        {
            return badVersion;
        }

        await registry.GetSpecAsync(name, cancellationToken);
        var entry = await registry.ResolveAsync(name, version, cancellationToken);
        var number = entry.Version;
        if (entry.Status == ModelVersionStatus.Pending)
        {
            return ApiResults.NotFound($"Version {number} of '{name}' is still being registered.");
        }

        ModelCard card;
        try
        {
            card = await artifacts.ReadCardAsync(entry, cancellationToken);
        }
        catch (Exception ex) when (ModelArtifactStore.ArtifactFault(ex) is { } fault)
        {
            return StoredFileProblem(
                entry,
                $"Version {number} of '{name}' cannot be shown: {fault}. Restore its card, or look at another version.",
                "The stored model card is not the registered one.");
        }

        var baseline = card.ProfilePath is { } profilePath ? await artifacts.ReadJsonAsync(profilePath, cancellationToken) : null;
        var aliases = await registry.ListAliasesAsync(name, cancellationToken);
        return ApiResults.Json(new
        {
            entry.Model,
            entry.Version,
            entry.Status,
            entry.RunId,
            entry.CreatedAt,
            entry.Sha256,
            entry.CardSha256,
            entry.Metrics,
            entry.ServingProblem,
            aliases = aliases.Where(a => a.Version == number).Select(a => a.Alias).ToArray(),
            card,
            baseline,
        });
    });

    /// <summary>
    /// GET /models/{name}/versions/{version}/model.onnx: the version's ONNX file, sent only after its bytes
    /// match the SHA-256 the registry recorded (the check every load makes). The digest goes with it as
    /// <c>Repr-Digest</c> (RFC 9530) and as the strong <c>ETag</c>, so If-None-Match answers 304.
    /// A file that fails the check or is missing is a 500 that says so, never other bytes.
    /// </summary>
    public Task<IResult> GetModelFileAsync(string name, string version, CancellationToken cancellationToken) => ApiResults.HandleAsync(async () =>
    {
        if (ApiResults.BadVersionReference(version) is { } badVersion)
        {
            return badVersion;
        }

        await registry.GetSpecAsync(name, cancellationToken);
        var entry = await registry.ResolveAsync(name, version, cancellationToken);
        switch (entry.Status)
        {
            case ModelVersionStatus.Pending:
                return ApiResults.NotFound($"Version {entry.Version} of '{name}' is still being registered.");
            case ModelVersionStatus.Deleted:
                return Results.Problem(detail: $"The ONNX file of version {entry.Version} of '{name}' was deleted; its card and history remain.", statusCode: StatusCodes.Status410Gone, title: "Gone.");
        }

        // An archived version keeps its files, so it can still be downloaded.
        byte[] bytes;
        try
        {
            bytes = await artifacts.ReadVerifiedAsync(BlobPath.Parse(entry.ModelPath), entry.Sha256!, cancellationToken);
        }
        catch (Exception ex) when (ModelArtifactStore.ArtifactFault(ex) is { } fault)
        {
            return StoredFileProblem(
                entry,
                $"Version {entry.Version} of '{name}' cannot be downloaded: {fault}. Restore its file, or download another version.",
                "The stored model file is not the registered one.");
        }

        var file = Results.File(
            bytes,
            "application/octet-stream",
            $"{name}-v{entry.Version}.onnx",
            entityTag: new Microsoft.Net.Http.Headers.EntityTagHeaderValue($"\"{entry.Sha256}\""));
        return ApiResults.WithHeader(file, "Repr-Digest", $"sha-256=:{Convert.ToBase64String(Convert.FromHexString(entry.Sha256!))}:");
    });

    /// <summary>PUT /models/{name}/aliases/{alias} with <c>{"version": N, "reason": "..."}</c>; honours If-Match.</summary>
    public Task<IResult> SetAliasAsync(HttpRequest request, string name, string alias, CancellationToken cancellationToken) => ApiResults.HandleAsync(async () =>
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
            if (root.ValueKind != System.Text.Json.JsonValueKind.Object
                || !root.TryGetProperty("version", out var versionElement)
                || versionElement.ValueKind != System.Text.Json.JsonValueKind.Number
                || !versionElement.TryGetInt32(out var version)
                || version < 1)
            {
                return ApiResults.BadRequest("version", "Required: the version number the alias should point at, for example {\"version\": 3}.");
            }

            if (ReservedAliases.Problem(alias) is { } aliasProblem)
            {
                return ApiResults.BadRequest("alias", aliasProblem);
            }

            var reason = root.TryGetProperty("reason", out var r) && r.ValueKind == System.Text.Json.JsonValueKind.String ? r.GetString() : null;
            var ifMatch = request.Headers.IfMatch.FirstOrDefault();
            await registry.GetSpecAsync(name, cancellationToken);
            var entry = await registry.GetVersionAsync(name, version, cancellationToken);
            if (entry.Status != ModelVersionStatus.Ready)
            {
                return ApiResults.Conflict($"Version {version} of '{name}' is still being registered.");
            }

            var state = await registry.SetAliasAsync(name, alias, version, ifMatch, ApiAccess.Actor(request.HttpContext.User), reason, cancellationToken);
            request.HttpContext.Response.Headers.ETag = state.ETag;
            return ApiResults.Json(state);
        }
    });

    /// <summary>DELETE /models/{name}/aliases/{alias}; honours If-Match.</summary>
    public Task<IResult> DeleteAliasAsync(HttpRequest request, string name, string alias, CancellationToken cancellationToken) => ApiResults.HandleAsync(async () =>
    {
        ArgumentNullException.ThrowIfNull(request);
        await registry.DeleteAliasAsync(name, alias, request.Headers.IfMatch.FirstOrDefault(), ApiAccess.Actor(request.HttpContext.User), cancellationToken);
        return Results.NoContent();
    });

    /// <summary>
    /// POST /models/{name}/rollback with an optional {"reason": "..."}: moves champion back to the
    /// previous champion (from the audit trail) and records why; serving follows within its alias
    /// cache time. 409 when there is nothing to roll back to or the alias moved meanwhile.
    /// </summary>
    public Task<IResult> RollbackAsync(HttpRequest request, string name, CancellationToken cancellationToken) => ApiResults.HandleAsync(async () =>
    {
        var (reason, error) = await RequestBodies.ReadReasonAsync(request, "rolled back through the API", cancellationToken);
        if (error is not null)
        {
            return error;
        }

        try
        {
            var (alias, from) = await registry.RollbackChampionAsync(name, ApiAccess.Actor(request.HttpContext.User), reason, cancellationToken, request.Headers.IfMatch.FirstOrDefault());
            return ApiResults.Json(new { alias.Model, alias.Alias, from, to = alias.Version, reason, alias.ETag });
        }
        catch (InvalidOperationException ex)
        {
            return ApiResults.Conflict(ex.Message);
        }
    });

    /// <summary>POST /models/{name}/versions/{version}/archive with an optional {"reason": "..."}; 409 while the version carries an alias.</summary>
    public Task<IResult> ArchiveVersionAsync(HttpRequest request, string name, string version, CancellationToken cancellationToken) =>
        RetireAsync(request, name, version, "archived", registry.ArchiveVersionAsync, cancellationToken);

    /// <summary>DELETE /models/{name}/versions/{version} with an optional {"reason": "..."}: deletes its ONNX file, keeps its card and history; 409 while it carries an alias.</summary>
    public Task<IResult> DeleteVersionAsync(HttpRequest request, string name, string version, CancellationToken cancellationToken) =>
        RetireAsync(request, name, version, "deleted", registry.DeleteVersionAsync, cancellationToken);

    private Task<IResult> RetireAsync(
        HttpRequest request, string name, string version, string verb, Func<string, int, string, string?, CancellationToken, Task<ModelVersion>> retire, CancellationToken cancellationToken) =>
        ApiResults.HandleAsync(async () =>
        {
            // 3 or v3, as the other version routes take it.
            if (!ModelReference.TryParseVersion(version, out var number))
            {
                return ApiResults.BadRequest("version", $"'{version}' is not a version number (1, 2, 3... or v1, v2, v3...).");
            }

            var (reason, error) = await RequestBodies.ReadReasonAsync(request, $"{verb} through the API", cancellationToken);
            if (error is not null)
            {
                return error;
            }

            await registry.GetSpecAsync(name, cancellationToken);
            try
            {
                return ApiResults.Json(await retire(name, number, ApiAccess.Actor(request.HttpContext.User), reason, cancellationToken));
            }
            catch (InvalidOperationException ex)
            {
                return ApiResults.Conflict(ex.Message);
            }
        });

    /// <summary>GET /models/{name}/rollout: the running or latest staged rollout with every check, and the earlier ones.</summary>
    public Task<IResult> GetRolloutAsync(string name, CancellationToken cancellationToken) => ApiResults.HandleAsync(async () =>
    {
        await registry.GetSpecAsync(name, cancellationToken);
        var history = await rollouts.ListAsync(name, cancellationToken);
        return ApiResults.Json(new { model = name, current = history.Count > 0 ? history[0] : null, history });
    });

    /// <summary>GET /models/{name}/audit: every registration, alias move, rollback and archive, newest first.</summary>
    public Task<IResult> GetAuditAsync(string name, CancellationToken cancellationToken) => ApiResults.HandleAsync(async () =>
    {
        await registry.GetSpecAsync(name, cancellationToken);
        return ApiResults.Json(new { model = name, events = await registry.ListAuditAsync(name, cancellationToken) });
    });

    /// <summary>A 500 for a version whose stored file fails its check or is missing: never other bytes than the registered ones.</summary>
    private static IResult StoredFileProblem(ModelVersion entry, string detail, string title) => Results.Problem(
        detail: detail,
        statusCode: StatusCodes.Status500InternalServerError,
        title: title,
        extensions: new Dictionary<string, object?> { ["model"] = entry.Model, ["version"] = entry.Version, ["sha256"] = entry.Sha256, ["cardSha256"] = entry.CardSha256 });
}
