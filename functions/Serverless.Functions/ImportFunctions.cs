using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Serverless.Lifecycle.Api;
using Serverless.Lifecycle.Pipeline;

namespace Serverless.Functions;

/// <summary>Importing a model trained elsewhere: the HTTP adapter over <see cref="ModelImportApi"/> with the Durable client.</summary>
public sealed class ImportFunctions(ModelImportApi api)
{
    [Function("ImportModel")]
    public Task<IResult> ImportModel(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.Versions)] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string name) =>
        api.ImportAsync(request, name, DurableTaskEngine.Client(client), request.HttpContext.RequestAborted);
}
