using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.Hosting;
using Serverless.Functions;
using Serverless.Lifecycle.Api;
using Serverless.Lifecycle.Hosting;
using Serverless.Lifecycle.Observability;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.UseMiddleware<ExceptionHandlingMiddleware>();

// Who calls, and whether they may: reading and administration need an Entra app role (docs/security.md).
builder.UseMiddleware<CallerMiddleware>();
builder.Services.AddLifecycleApi().AddTrainingDispatcher();

// host.json sets telemetryMode to OpenTelemetry: the worker's spans carry each invocation's trace.
builder.Services.AddLifecycleTelemetry(builder.Configuration, "serverless-lifecycle-functions", otel => otel.UseFunctionsWorkerDefaults());
builder.Build().Run();
