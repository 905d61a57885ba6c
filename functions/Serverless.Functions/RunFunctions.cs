using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Serverless.Lifecycle.Api;
using Serverless.Lifecycle.Pipeline;

namespace Serverless.Functions;

/// <summary>Dataset uploads and runs: HTTP adapters over <see cref="RunsApi"/> with the Durable client.</summary>
public sealed class RunFunctions(RunsApi api)
{
    [Function("UploadDataset")]
    public Task<IResult> UploadDataset(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.Datasets)] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string name) =>
        api.UploadDatasetAsync(request, name, DurableTaskEngine.Client(client), request.HttpContext.RequestAborted);

    [Function("StartRun")]
    public Task<IResult> StartRun(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.Runs)] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string name) =>
        api.StartRunAsync(name, DurableTaskEngine.Client(client), request.HttpContext.RequestAborted);

    [Function("ReproduceVersion")]
    public Task<IResult> ReproduceVersion(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.Reproduce)] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string name,
        string version) =>
        api.ReproduceAsync(request, name, version, DurableTaskEngine.Client(client), request.HttpContext.RequestAborted);

    [Function("ListRuns")]
    public Task<IResult> ListRuns(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = ApiRoutes.Runs)] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string name) =>
        api.ListRunsAsync(request, name, DurableTaskEngine.Client(client), request.HttpContext.RequestAborted);

    [Function("GetRunProfile")]
    public Task<IResult> GetRunProfile([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = ApiRoutes.RunProfile)] HttpRequest request, string runId) =>
        api.GetRunProfileAsync(runId, request.HttpContext.RequestAborted);

    [Function("GetRun")]
    public Task<IResult> GetRun(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = ApiRoutes.Run)] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string runId) =>
        api.GetRunAsync(runId, DurableTaskEngine.Client(client), request.HttpContext.RequestAborted);

    [Function("CancelRun")]
    public static Task<IResult> CancelRun(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.RunCancel)] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string runId) =>
        RunsApi.CancelRunAsync(request, runId, DurableTaskEngine.Client(client), request.HttpContext.RequestAborted);

    [Function("ApproveRun")]
    public Task<IResult> ApproveRun(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.RunApprove)] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string runId) =>
        api.DecideAsync(request, runId, approve: true, DurableTaskEngine.Client(client), request.HttpContext.RequestAborted);

    [Function("RejectRun")]
    public Task<IResult> RejectRun(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.RunReject)] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string runId) =>
        api.DecideAsync(request, runId, approve: false, DurableTaskEngine.Client(client), request.HttpContext.RequestAborted);

    /// <summary>The trainer's completion callback: anonymous at the host, and CallerMiddleware takes it only from the trainer identity's token.</summary>
    [Function("CompleteTrainingJob")]
    public static Task<IResult> CompleteTrainingJob(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.JobComplete)] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string runId,
        string jobId) =>
        RunsApi.CompleteJobAsync(request, runId, jobId, DurableTaskEngine.Client(client), request.HttpContext.RequestAborted);
}
