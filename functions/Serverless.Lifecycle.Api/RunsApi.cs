using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Monitoring;
using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Training;

namespace Serverless.Lifecycle.Api;

/// <summary>Dataset uploads and training runs over HTTP.</summary>
public sealed class RunsApi(
    ModelRegistry registry, DatasetStore datasets, RunController runs, Storage.LifecycleStorage storage, TrainingJobStore jobs, ApprovalDecisions decisions, ModelArtifactStore artifacts)
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
            return RequestBodies.UnsupportedMediaType($"Content type '{request.ContentType}' is not supported; send the dataset as text/csv or application/vnd.apache.parquet.");
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

        var runId = (await runs.StartAsync(new RunRequest(spec, RunTriggers.Upload, $"dataset {dataset.Path} uploaded", dataset), pipeline, cancellationToken)).RunId;
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

        var runId = (await runs.StartAsync(new RunRequest(spec, RunTriggers.Manual, $"asked for on the runs route, on {dataset.Path}", dataset), pipeline, cancellationToken)).RunId;
        return Accepted(runId, new { dataset, runId, statusUrl = ApiRoutes.RunUrl(runId) });
    });

    /// <summary>
    /// POST /models/{name}/versions/{version}/reproduce: starts a run that trains the version again from
    /// what its card recorded (the dataset by path and SHA-256, the spec by its SHA-256, the algorithm,
    /// hyperparameters and seed, with the trainer the spec names) and ends <c>reproduced</c> when the new
    /// ONNX file has the version's SHA-256, or <c>notReproduced</c> naming what differs. It registers nothing.
    /// An optional body <c>{"reason": "..."}</c> is kept with who asked in the run's reason. 409 for a
    /// version with nothing recorded to retrain (an imported one) or whose card cannot be read.
    /// </summary>
    public Task<IResult> ReproduceAsync(HttpRequest request, string name, string version, IPipelineClient pipeline, CancellationToken cancellationToken) => ApiResults.HandleAsync(async () =>
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(pipeline);
        var (why, error) = await RequestBodies.ReadReasonAsync(request, "no reason given", cancellationToken);
        if (error is not null)
        {
            return error;
        }

        if (ApiResults.BadVersionReference(version) is { } badVersion)
        {
            return badVersion;
        }

        await registry.GetSpecAsync(name, cancellationToken);
        var entry = await registry.ResolveAsync(name, version, cancellationToken);
        if (entry.Status == ModelVersionStatus.Pending)
        {
            return ApiResults.NotFound($"Version {entry.Version} of '{name}' is still being registered.");
        }

        ModelCard card;
        try
        {
            card = await artifacts.ReadCardAsync(entry, cancellationToken);
        }
        catch (Exception ex) when (ModelArtifactStore.ArtifactFault(ex) is { } fault)
        {
            return ApiResults.Conflict($"Version {entry.Version} of '{name}' cannot be reproduced: {fault}, so what it recorded cannot be read.");
        }

        string runId;
        try
        {
            runId = (await runs.ReproduceAsync(card, $"asked by {Actor(request)}: {why}", pipeline, cancellationToken)).RunId;
        }
        catch (NotReproducibleException ex)
        {
            return ApiResults.Conflict(ex.Message);
        }

        return Accepted(runId, new { model = name, version = entry.Version, onnxSha256 = card.OnnxSha256, runId, statusUrl = ApiRoutes.RunUrl(runId) });
    });

    /// <summary>The most runs one page lists.</summary>
    public const int MaxRunsPerPage = 100;

    // Status reads at once for one page: each is one read of the run's orchestration state.
    private const int StatusReads = 8;

    /// <summary>
    /// GET /models/{name}/runs?limit=&amp;continuation=: the runs started for the model, newest first,
    /// <c>limit</c> a page (20; up to 100), each with its current status from the Durable engine.
    /// The list comes from the run controller's record of the requests (one partition per model), so
    /// it is exact for models whose names prefix each other; <c>continuation</c> pages on.
    /// </summary>
    public Task<IResult> ListRunsAsync(HttpRequest request, string name, IPipelineClient pipeline, CancellationToken cancellationToken) => ApiResults.HandleAsync(async () =>
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(pipeline);
        var (limit, limitError) = QueryParameters.Limit(request, 20, MaxRunsPerPage);
        if (limitError is not null)
        {
            return limitError;
        }

        string? continuation = null;
        if (request.Query.TryGetValue("continuation", out var token))
        {
            continuation = token.ToString();
            if (!RunController.IsContinuation(continuation))
            {
                return ApiResults.BadRequest("continuation", $"'{continuation}' is not a continuation; pass on the one the previous page answered.");
            }
        }

        await registry.GetSpecAsync(name, cancellationToken);
        var page = await runs.ListRunsAsync(name, limit, continuation, cancellationToken);
        var statuses = new RunStatus?[page.Runs.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, page.Runs.Count),
            new ParallelOptions { MaxDegreeOfParallelism = StatusReads, CancellationToken = cancellationToken },
            async (i, ct) => statuses[i] = await pipeline.GetRunAsync(page.Runs[i].RunId, ct));
        var items = page.Runs.Select((record, i) => statuses[i] is { } status
            ? new RunListItem(record.RunId, status.Status, record.Trigger, record.Reason, status.CreatedAt, status.LastUpdatedAt, status.Version, ApiRoutes.RunUrl(record.RunId), status.ETag)
            : new RunListItem(record.RunId, RunListItem.Unknown, record.Trigger, record.Reason, record.At, null, null, ApiRoutes.RunUrl(record.RunId), null));
        return ApiResults.Json(new { model = name, runs = items, page.Continuation });
    });

    /// <summary>
    /// One run in a model's list. <see cref="Status"/> is <c>unknown</c> when the run's orchestration is
    /// no longer in the task hub (purged); its <see cref="CreatedAt"/> is then when it was requested.
    /// <see cref="ETag"/> is the run's, as <c>GET /runs/{runId}</c> answers it, for <c>If-Match</c> on a decision.
    /// </summary>
    private sealed record RunListItem(
        string RunId, string Status, string Trigger, string Reason, DateTimeOffset CreatedAt, DateTimeOffset? LastUpdatedAt, int? Version, string StatusUrl, string? ETag)
    {
        public const string Unknown = "unknown";
    }

    /// <summary>GET /runs/{runId}: the run's steps with timing and outcome, and the training jobs' progress by epoch.</summary>
    public Task<IResult> GetRunAsync(string runId, IPipelineClient pipeline, CancellationToken cancellationToken) => ApiResults.HandleAsync(async () =>
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        var status = await pipeline.GetRunAsync(runId, cancellationToken);
        if (status is null)
        {
            return ApiResults.NotFound($"There is no run '{runId}'.");
        }

        var progress = await jobs.ReadProgressAsync(runId, cancellationToken);
        return ApiResults.WithHeader(ApiResults.Json(progress.Count == 0 ? status : status with { Training = progress }), "ETag", status.ETag);
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

    /// <summary>
    /// POST /runs/{runId}/jobs/{jobId}/complete: a trainer reports that its result is written. The
    /// body's run and job ids must match the route's; the pipeline then reads and checks the result
    /// blob itself, so the callback carries no data it has to trust. 202 when delivered, 404 for an
    /// unknown run or job, 409 when the job's wait is already over (a duplicate is ignored).
    /// </summary>
    public static Task<IResult> CompleteJobAsync(HttpRequest request, string runId, string jobId, IPipelineClient pipeline, CancellationToken cancellationToken) => ApiResults.HandleAsync(async () =>
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(pipeline);
        var (document, error) = await RequestBodies.ReadJsonAsync(request, cancellationToken);
        if (error is not null)
        {
            return error;
        }

        TrainingCompletedEvent? completion;
        using (document)
        {
            try
            {
                completion = document!.RootElement.Deserialize<TrainingCompletedEvent>(Specs.SpecJson.Options);
            }
            catch (JsonException ex)
            {
                return ApiResults.BadRequest(string.IsNullOrEmpty(ex.Path) ? "body" : ex.Path, $"Expected {{\"runId\", \"jobId\", \"state\"}}: {ex.Message}");
            }
        }

        if (completion is null || completion.RunId != runId)
        {
            return ApiResults.BadRequest("runId", $"The body's runId '{completion?.RunId}' is not the route's '{runId}'.");
        }

        if (completion.JobId != jobId)
        {
            return ApiResults.BadRequest("jobId", $"The body's jobId '{completion.JobId}' is not the route's '{jobId}'.");
        }

        return await pipeline.NotifyJobCompletedAsync(completion, cancellationToken) switch
        {
            RunSignalOutcome.UnknownRun => ApiResults.NotFound($"There is no run '{runId}'."),
            RunSignalOutcome.UnknownJob => ApiResults.NotFound($"Run '{runId}' has no job '{jobId}'."),
            RunSignalOutcome.Finished => ApiResults.Conflict($"Job '{jobId}' of run '{runId}' is no longer waiting for its completion (a duplicate or late report); ignored."),
            _ => ApiResults.Json(new { runId, jobId, status = "accepted" }, StatusCodes.Status202Accepted),
        };
    });

    /// <summary>
    /// POST /runs/{runId}/cancel with an optional {"reason": "..."}: stops the run between steps and
    /// stops its training jobs. 202 when asked, 404 for an unknown run, 409 when it has finished.
    /// </summary>
    public static Task<IResult> CancelRunAsync(HttpRequest request, string runId, IPipelineClient pipeline, CancellationToken cancellationToken) => ApiResults.HandleAsync(async () =>
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(pipeline);
        var (reason, error) = await RequestBodies.ReadReasonAsync(request, "no reason given", cancellationToken);
        if (error is not null)
        {
            return error;
        }

        return await pipeline.CancelRunAsync(runId, new CancelRequest(reason, Actor(request)), cancellationToken) switch
        {
            RunSignalOutcome.UnknownRun => ApiResults.NotFound($"There is no run '{runId}'."),
            RunSignalOutcome.Finished => ApiResults.Conflict($"Run '{runId}' has already finished; there is nothing to cancel."),
            _ => ApiResults.Json(new { runId, status = "cancelling", statusUrl = ApiRoutes.RunUrl(runId) }, StatusCodes.Status202Accepted),
        };
    });

    /// <summary>
    /// POST /runs/{runId}/approve or /reject with an optional {"reason": "..."}: the decision on a
    /// candidate that passed the gate, for a spec with evaluation.approval. With <c>If-Match</c> (the
    /// run's ETag from GET /runs/{runId} or the runs list) it is refused if the run changed since it
    /// was read. 202 when delivered, 404 for an unknown run, 409 when the run has finished, is not
    /// waiting for approval, was decided by someone else first (naming that decision), or changed.
    /// </summary>
    public Task<IResult> DecideAsync(HttpRequest request, string runId, bool approve, IPipelineClient pipeline, CancellationToken cancellationToken) => ApiResults.HandleAsync(async () =>
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(pipeline);
        var (reason, error) = await RequestBodies.ReadReasonAsync(request, "no reason given", cancellationToken);
        if (error is not null)
        {
            return error;
        }

        if (request.Headers.IfMatch.FirstOrDefault() is { } ifMatch)
        {
            var current = await pipeline.GetRunAsync(runId, cancellationToken);
            if (current is null)
            {
                return ApiResults.NotFound($"There is no run '{runId}'.");
            }

            if (ifMatch != current.ETag)
            {
                return ApiResults.Conflict(
                    $"Run '{runId}' changed since it was read (it is now {current.Status}, at step '{(current.Steps.Count > 0 ? current.Steps[^1].Name : "none")}'); reload it and decide again.",
                    new Dictionary<string, object?> { ["currentETag"] = current.ETag });
            }
        }

        var (outcome, recorded) = await decisions.DecideOnceAsync(pipeline, runId, new ApprovalDecision(approve, Actor(request), reason), cancellationToken);
        return outcome switch
        {
            RunSignalOutcome.UnknownRun => ApiResults.NotFound($"There is no run '{runId}'."),
            RunSignalOutcome.Finished => ApiResults.Conflict($"Run '{runId}' has already finished."),
            RunSignalOutcome.NotWaiting => ApiResults.Conflict($"Run '{runId}' is not waiting for approval (only a run whose spec asks for approval waits, after its gate passes)."),
            RunSignalOutcome.AlreadyDecided => ApiResults.Conflict(
                $"Run '{runId}' was already {recorded!.Verb} by {recorded.Actor} at {recorded.At:u}: {recorded.Reason}. Reload it to see where it is.",
                new Dictionary<string, object?> { ["decision"] = recorded }),
            _ => ApiResults.Json(new { runId, decision = approve ? "approved" : "rejected", reason, statusUrl = ApiRoutes.RunUrl(runId) }, StatusCodes.Status202Accepted),
        };
    });

    /// <summary>Who asked, as the audit trail records it.</summary>
    private static string Actor(HttpRequest request) => ApiAccess.Actor(request.HttpContext.User);

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
