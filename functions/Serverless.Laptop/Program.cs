using Serverless.Laptop;

var builder = WebApplication.CreateBuilder(args);
builder.AddLaptopMode();

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseMiddleware<BrowserGuard>();
app.UseMiddleware<LocalCaller>();
app.MapLifecycleApi();

// A browser opening the host's address lands on the dashboard.
app.MapGet("/", () => Results.Redirect(Serverless.Lifecycle.Api.DashboardApi.Url));

// A trivial JSON echo, the baseline of the HTTP serving benchmark (benchmarks/serving.sh); off unless asked for.
if (app.Configuration.GetValue<bool>("Laptop:EchoRoute"))
{
    app.MapPost("/api/_echo", async (HttpRequest request) => Results.Json(await System.Text.Json.JsonDocument.ParseAsync(request.Body)));
}
app.Run();

/// <summary>The laptop-mode host; public so tests can start it.</summary>
public partial class Program;
