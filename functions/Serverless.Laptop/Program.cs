using Serverless.Laptop;

// The commands: laptop mode's settings (appsettings.json beside the program, then the environment), no host.
static IConfiguration CommandConfiguration() => new ConfigurationBuilder()
    .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
    .AddEnvironmentVariables()
    .Build();

// `scoring-keys create|list|revoke`: issue keys straight into storage (a deployment without sign-in has no other way).
if (args is [ScoringKeyCommand.Name, .. var commandArgs])
{
    return await ScoringKeyCommand.RunAsync(commandArgs, CommandConfiguration(), Console.Out, Console.Error);
}

// `trainer-conformance [options] -- <command>`: the trainer conformance kit, on laptop mode's storage.
if (args is [TrainerConformanceCommand.Name, .. var kitArgs])
{
    return await TrainerConformanceCommand.RunAsync(kitArgs, CommandConfiguration(), Console.Out, Console.Error);
}

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
return 0;

/// <summary>The laptop-mode host; public so tests can start it.</summary>
public partial class Program;
