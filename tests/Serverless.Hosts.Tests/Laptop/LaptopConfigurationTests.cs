using System.Diagnostics;
using Serverless.Tests;

namespace Serverless.Hosts.Tests.Laptop;

/// <summary>Bad configuration stops the laptop host at start with a message that names the setting.</summary>
public sealed class LaptopConfigurationTests
{
    [Theory]
    [InlineData("Training__Dispatcher", "kubernetes", "Training:Dispatcher is 'kubernetes'")]
    [InlineData("Training__StatusCheckInterval", "00:00:00", "StatusCheckInterval")]
    [InlineData("Training__CallbackBaseUrl", "http://example.com", "Training:CallbackBaseUrl must be an absolute https URL")]
    [InlineData("Kestrel__Endpoints__Http__Url", "http://0.0.0.0:7393", "'http://0.0.0.0:7393' in Kestrel:Endpoints:Http:Url is not a loopback address")]
    [InlineData("Storage__ConnectionString", "garbage", "Storage:ConnectionString is not a storage connection string")]
    [InlineData("Training__Dispatcher", "in-process", "'in-process' is for test hosts")]
    [InlineData("Training__TrainerPath", "/nonexistent/trainer.dll", "'/nonexistent/trainer.dll' does not exist")]
    [InlineData("Monitoring__ModelPrefixes", "churn-,", "Monitoring:ModelPrefixes has an empty prefix")]
    [InlineData("Events__TopicEndpoint", "notaurl", "Events:TopicEndpoint must be an absolute https URL")]
    [InlineData("Events__TopicEndpoint", "http://example.com/api/events", "Events:TopicEndpoint must be an absolute https URL")]
    public async Task Start_InvalidSetting_ExitsNamingIt(string key, string value, string expected)
    {
        var host = RepoPaths.ProjectOutput(Path.Combine("functions", "Serverless.Laptop"), "Serverless.Laptop.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { host, "--contentRoot", Path.GetDirectoryName(host)!, "--urls", "http://127.0.0.1:0" })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["Storage__ConnectionString"] = Azurite.ConnectionString;
        start.Environment[key] = value;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"The host kept running with {key}={value}.");
        }

        Assert.NotEqual(0, process.ExitCode);
        Assert.Contains(expected, await output + await errors, StringComparison.Ordinal);
    }
}
