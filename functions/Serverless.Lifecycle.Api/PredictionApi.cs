using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Scoring;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Api;

/// <summary>POST /models/{name}/predict: scores instances with the champion.</summary>
public sealed class PredictionApi(PredictionService predictions, ModelRegistry registry, IOptions<ServingOptions> options, TimeProvider clock)
{
    /// <summary>The route name prediction-log records of the JSON API carry.</summary>
    public const string Route = "predict";

    public Task<IResult> PredictAsync(HttpRequest request, string name, CancellationToken cancellationToken)
    {
        // "churn" serves the champion; "churn@staging", "churn@v3" and "churn@3" pin an alias or a version.
        var (modelName, reference) = ModelReference.Parse(name);
        return ScoreAsync(request, modelName, reference, cancellationToken);
    }

    /// <summary>POST /models/{name}/versions/{version}/predict: scores with a pinned version (3, v3) or alias.</summary>
    public Task<IResult> PredictVersionAsync(HttpRequest request, string name, string version, CancellationToken cancellationToken) =>
        string.IsNullOrWhiteSpace(version) || version.Contains('@', StringComparison.Ordinal)
            ? Task.FromResult(ApiResults.BadRequest("version", $"'{version}' is not a version number (1, v1), latest or an alias."))
            : ScoreAsync(request, name, version, cancellationToken);

    private Task<IResult> ScoreAsync(HttpRequest request, string modelName, string reference, CancellationToken cancellationToken) => ApiResults.HandleAsync(async () =>
    {
        ArgumentNullException.ThrowIfNull(request);
        if (ModelReference.IsVersion(reference) && !ModelReference.TryParseVersion(reference, out _))
        {
            return ApiResults.BadRequest("version", $"'{reference}' is not a version number; versions are numbered from 1.");
        }

        var started = clock.GetTimestamp();
        var (document, error) = await RequestBodies.ReadJsonAsync(request, cancellationToken);
        if (error is not null)
        {
            return error;
        }

        using (document)
        {
            var requestId = RequestIds.FromCaller(request.Headers[RequestIds.Header].ToString());
            // A clone outlives the request's document: a shadow challenger may parse it after the response.
            var root = document!.RootElement.Clone();
            (ScoredRequest? Scored, IResult? Error) outcome;
            try
            {
                outcome = await predictions.ScoreAsync(modelName, reference, requestId, Route, started, spec =>
                {
                    var parsed = PredictionRequestParser.Parse(root, spec, options.Value.MaxBatchRows);
                    return parsed.IsValid
                        ? (parsed.Batch, (IResult?)null)
                        : (null, ApiResults.BadRequest("The instances do not match the model's schema.", new Dictionary<string, string[]>(parsed.Errors)));
                }, cancellationToken);
            }
            catch (AliasNotFoundException)
            {
                await registry.GetSpecAsync(modelName, cancellationToken);
                return ApiResults.NotFound(reference == ReservedAliases.Champion
                    ? $"Model '{modelName}' has no champion yet: no version has passed the gate."
                    : $"Model '{modelName}' has no alias '{reference}'.");
            }
            catch (InvalidOperationException ex)
            {
                return ApiResults.Conflict(ex.Message);
            }

            if (outcome.Scored is not { } scored)
            {
                return outcome.Error!;
            }

            return ApiResults.Json(new
            {
                model = modelName,
                version = scored.Model.Version.Version,
                alias = scored.Alias,
                requestId,
                predictions = scored.Predictions.Select(p => Shape(scored.Model.Spec.Task, p, scored.Model.Onnx.Classes)),
            });
        }
    });

    /// <summary>
    /// One prediction as the API returns it: binary <c>{label, probability, score}</c>, multiclass
    /// <c>{label, probability, probabilities: {class: p}}</c>, regression <c>{value}</c>.
    /// </summary>
    public static object Shape(string task, ModelPrediction prediction, IReadOnlyList<string> classes)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(classes);
        return task switch
        {
            ModelTasks.Multiclass => new
            {
                label = prediction.Class,
                probability = prediction.Probability,
                probabilities = classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => prediction.Probabilities![p.i], StringComparer.Ordinal),
            },
            ModelTasks.Regression => new { value = prediction.Score },
            _ => (object)new { label = prediction.Label, probability = prediction.Probability, score = prediction.Score },
        };
    }

    /// <summary>GET /health: the process is up.</summary>
    public static IResult Health() => ApiResults.Json(new { status = "healthy" });
}
