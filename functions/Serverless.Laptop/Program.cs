using Serverless.Laptop;

var builder = WebApplication.CreateBuilder(args);
builder.AddLaptopMode();

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.MapLifecycleApi();
app.Run();

/// <summary>The laptop-mode host; public so tests can start it.</summary>
public partial class Program;
