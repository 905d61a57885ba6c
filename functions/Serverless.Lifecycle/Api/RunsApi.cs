using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Registry;

namespace Serverless.Lifecycle.Api;

/// <summary>Dataset uploads and training runs over HTTP.</summary>
public sealed class RunsApi(ModelRegistry registry, DatasetStore datasets, Storage.LifecycleStorage storage)
{
    /// <summary>
    /// POST /models/{name}/datasets: stores the CSV or Parquet body as a new dataset version and, unless
    /// <c>?train=false</c>, starts a run whose id derives from the blob's path and ETag.
    /// </summary>
    public Task<IResult> UploadDatasetAsync(HttpRequest request, string name, IPipelineClient pipeline, CancellationToken cancellationToken) => ApiResults.HandleAsync(async () =>
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(pipeline);
        if (DatasetFormats.FromContentType(request.ContentType) is not { } format)
        {
            return Results.Problem(
                detail: $"Content type '{request.ContentType}' is not supported; send the dataset as text/csv or application/vnd.apache.parquet.",
                statusCode: StatusCodes.Status415UnsupportedMediaType,
                title: "Unsupported media type.");
        }

        if (request.ContentLength == 0)
        {
            return ApiResults.BadRequest("body", "The dataset is empty; send a CSV file with a header row.");
        }

        var train = true;
        if (request.Query.TryGetValue("train", out var trainValue) && !bool.TryParse(trainValue, out train))
        {
            return ApiResults.BadRequest("train", $"'{trainValue}' is not true or false.");
        }

        var spec = await registry.GetSpecAsync(name, cancellationToken);
        DatasetVersion dataset;
        try
        {
            dataset = await datasets.UploadAsync(name, request.Body, cancellationToken, format);
        }
        catch (EmptyDatasetException ex)
        {
            return ApiResults.BadRequest("body", ex.Message);
        }

        if (!train)
        {
            return ApiResults.Json(new { dataset }, StatusCodes.Status201Created);
        }

        var runId = UploadRunId(dataset);
        await pipeline.StartRunAsync(new TrainingRunRequest(runId, spec, dataset, RunTriggers.Upload), cancellationToken);
        return Accepted(runId, new { dataset, runId, statusUrl = ApiRoutes.RunUrl(runId) });
    });

    /// <summary>POST /models/{name}/runs: trains now on the latest dataset.</summary>
    public Task<IResult> StartRunAsync(string name, IPipelineClient pipeline, CancellationToken cancellationToken) => ApiResults.HandleAsync(async () =>
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        var spec = await registry.GetSpecAsync(name, cancellationToken);
        var dataset = await datasets.GetLatestAsync(name, cancellationToken);
        if (dataset is null)
        {
            return ApiResults.Conflict($"Model '{name}' has no dataset yet; upload one to POST /api/models/{name}/datasets first.");
        }

        var runId = $"{name}-{Guid.NewGuid():N}";
        await pipeline.StartRunAsync(new TrainingRunRequest(runId, spec, dataset, RunTriggers.Manual), cancellationToken);
        return Accepted(runId, new { dataset, runId, statusUrl = ApiRoutes.RunUrl(runId) });
    });

    /// <summary>GET /runs/{runId}: the run's steps with timing and outcome.</summary>
    public static Task<IResult> GetRunAsync(string runId, IPipelineClient pipeline, CancellationToken cancellationToken) => ApiResults.HandleAsync(async () =>
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        var status = await pipeline.GetRunAsync(runId, cancellationToken);
        return status is null ? ApiResults.NotFound($"There is no run '{runId}'.") : ApiResults.Json(status);
    });

    /// <summary>GET /runs/{runId}/profile: the dataset profile the run produced (the version's drift baseline).</summary>
    public Task<IResult> GetRunProfileAsync(string runId, CancellationToken cancellationToken) => ApiResults.HandleAsync(async () =>
    {
        var blob = storage.Blob(RunPaths.Profile(runId));
        try
        {
            var content = await blob.DownloadContentAsync(cancellationToken);
            return Results.Text(content.Value.Content.ToString(), "application/json", System.Text.Encoding.UTF8);
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 404)
        {
            return ApiResults.NotFound($"Run '{runId}' has no profile (it does not exist, has not validated its data yet, or its file could not be read).");
        }
    });

    /// <summary>The same upload event (path and ETag) always maps to the same run, so a duplicate starts nothing.</summary>
    public static string UploadRunId(DatasetVersion dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{dataset.Path}|{dataset.ETag}"));
        return $"{dataset.Model}-{Convert.ToHexStringLower(hash)[..24]}";
    }

    private static AcceptedWithLocation Accepted(string runId, object body) =>
        new AcceptedWithLocation(ApiRoutes.RunUrl(runId), ApiResults.Json(body, StatusCodes.Status202Accepted));

    /// <summary>A 202 that also carries the run's status URL in the Location header.</summary>
    private sealed class AcceptedWithLocation(string location, IResult inner) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            ArgumentNullException.ThrowIfNull(httpContext);
            httpContext.Response.Headers.Location = location;
            return inner.ExecuteAsync(httpContext);
        }
    }
}
