using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Serverless.Lifecycle.Api;
using Serverless.Lifecycle.Monitoring;
using Serverless.Lifecycle.Pipeline;

namespace Serverless.Functions;

/// <summary>The drift monitor on a timer, and its reports over HTTP.</summary>
public sealed class MonitoringFunctions(MonitoringPass pass, MonitoringApi api, NewDataTrigger newData, EventsApi events)
{
    /// <summary>The Event Grid webhook (Event Grid or CloudEvents schema); subscriptions call it with a function key.</summary>
    [Function("Events")]
    public Task<IResult> Events(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = ApiRoutes.Events)] HttpRequest request,
        [DurableClient] DurableTaskClient client) =>
        events.PostAsync(request, DurableTaskEngine.Client(client), request.HttpContext.RequestAborted);

    [Function("EventsHandshake")]
    public static IResult EventsHandshake([HttpTrigger(AuthorizationLevel.Function, "options", Route = ApiRoutes.Events)] HttpRequest request) =>
        EventsApi.Handshake(request);

    /// <summary>
    /// New data in <c>datasets/{model}/</c>, delivered by the storage account's Event Grid
    /// subscription. A duplicate delivery starts nothing new (the run id comes from path and ETag).
    /// </summary>
    [Function("OnNewDataset")]
    public Task OnNewDataset(
        [BlobTrigger(Serverless.Lifecycle.Storage.StorageNames.DatasetsContainer + "/{name}", Source = BlobTriggerSource.EventGrid, Connection = "AzureWebJobsStorage")] Azure.Storage.Blobs.BlobClient blob,
        [DurableClient] DurableTaskClient client,
        FunctionContext context) =>
        newData.OnBlobAsync(blob.Name, DurableTaskEngine.Client(client), context.CancellationToken);

    /// <summary>Every model, on the schedule in the <c>MonitoringSchedule</c> app setting (a six-field CRON, for example <c>0 */5 * * * *</c>).</summary>
    [Function("MonitorDrift")]
    public Task MonitorDrift([TimerTrigger("%MonitoringSchedule%")] TimerInfo timer, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        pass.RunAsync(DurableTaskEngine.Client(client), context.CancellationToken);

    [Function("GetMonitoring")]
    public Task<IResult> GetMonitoring([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = ApiRoutes.Monitoring)] HttpRequest request, string name) =>
        api.GetAsync(name, request.HttpContext.RequestAborted);

    [Function("ListMonitoringReports")]
    public Task<IResult> ListMonitoringReports([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = ApiRoutes.MonitoringReports)] HttpRequest request, string name) =>
        api.ListReportsAsync(request, name, request.HttpContext.RequestAborted);

    [Function("GetMonitoringReport")]
    public Task<IResult> GetMonitoringReport([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = ApiRoutes.MonitoringReport)] HttpRequest request, string name, string reportId) =>
        api.GetReportAsync(name, reportId, request.HttpContext.RequestAborted);
}
