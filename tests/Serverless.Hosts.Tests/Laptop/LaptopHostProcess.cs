using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Serverless.Samples.Churn;
using Serverless.Tests;

namespace Serverless.Hosts.Tests.Laptop;

/// <summary>
/// The laptop host as <c>./run.sh</c> starts it: a separate process on a loopback port, on Azurite,
/// with its own task hub, training through the gpu-trainer program as a child process.
/// </summary>
public class LaptopHostProcess : IAsyncLifetime
{
    private readonly StringBuilder log = new();
    private readonly string taskHub = "e2e" + Guid.NewGuid().ToString("N")[..10];
    private readonly string workerId = "e2e-" + Guid.NewGuid().ToString("N")[..8];
    private Process? process;

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>Whether this host runs the drift monitor and the dataset watcher.</summary>
    protected virtual bool Monitors => false;

    /// <summary>More settings for the host's environment.</summary>
    /// <summary>
    /// Settings of this host. By default the pipeline checks a job's status only after a minute, so a
    /// run that ends sooner was ended by the trainer's callback: on a loaded machine the laptop default
    /// (10 s) can beat a callback that is on its way, and the end-to-end test checks the callback.
    /// </summary>
    protected virtual IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string> { ["Training__StatusCheckInterval"] = "00:01:00" };

    /// <summary>Settings a test adds before it starts the host (they win over <see cref="Settings"/>).</summary>
    public Dictionary<string, string> ExtraSettings { get; } = [];

    /// <summary>The storage the host uses: Azurite, or Azurite through a fault proxy.</summary>
    public string StorageConnectionString { get; set; } = Azurite.ConnectionString;

    /// <summary>The host's process id while it runs.</summary>
    public int? ProcessId => process is { HasExited: false } running ? running.Id : null;

    public string Log
    {
        get
        {
            lock (log)
            {
                return log.ToString();
            }
        }
    }

    public Task InitializeAsync() => StartAsync();

    /// <summary>Kills the host process alone (SIGKILL), as a crash of the host would: a trainer it started lives on.</summary>
    public Task KillHostOnlyAsync() => KillAsync(entireProcessTree: false);

    /// <summary>Kills the host and everything it started (the trainer too), as a crash or a power cut would.</summary>
    public async Task KillAsync(bool entireProcessTree = true)
    {
        if (process is { HasExited: false })
        {
            process.Kill(entireProcessTree);
            await process.WaitForExitAsync();
        }

        process?.Dispose();
        process = null;
    }

    /// <summary>Starts the host (again) on the same task hub and worker id, and waits until it answers.</summary>
    public async Task StartAsync()
    {
        var host = RepoPaths.ProjectOutput(Path.Combine("functions", "Serverless.Laptop"), "Serverless.Laptop.dll");
        var trainer = RepoPaths.ProjectOutput(Path.Combine("gpu-trainer", "Serverless.Trainer"), "Serverless.Trainer.dll");
        Assert.True(File.Exists(host), $"{host} is not built");
        Assert.True(File.Exists(trainer), $"{trainer} is not built");

        Http.BaseAddress ??= new Uri($"http://127.0.0.1:{FreePort()}");
        var url = Http.BaseAddress.ToString().TrimEnd('/');
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { host, "--contentRoot", Path.GetDirectoryName(host)!, "--urls", url })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["Storage__ConnectionString"] = StorageConnectionString;
        start.Environment["Laptop__TaskHubName"] = taskHub;
        start.Environment["Laptop__WorkerId"] = workerId;
        start.Environment["Training__TrainerPath"] = trainer;
        start.Environment["Training__DeepTrainerPath"] = DeepTrainerRootFs.TrainerPath;

        // Only one host per storage account should monitor and watch for datasets; the tests share
        // one Azurite, so only the retraining-loop host does (every few seconds, to be tested end to end).
        start.Environment["Monitoring__Enabled"] = Monitors ? "true" : "false";
        start.Environment["Monitoring__ModelPrefixes__0"] = "loop-";
        start.Environment["Monitoring__ModelPrefixes__1"] = "drop-";
        start.Environment["Monitoring__Interval"] = "00:00:03";
        start.Environment["Monitoring__DatasetPollInterval"] = "00:00:01";
        start.Environment["PredictionLog__FlushInterval"] = "00:00:01";

        // Nor does every host load every champion in it; a test that wants preloading names its models.
        start.Environment["Serving__Preload"] = "false";
        foreach (var (key, value) in Settings.Concat(ExtraSettings))
        {
            start.Environment[key] = value;
        }

        var started = Process.Start(start)!;
        started.OutputDataReceived += (_, e) => Append(e.Data);
        started.ErrorDataReceived += (_, e) => Append(e.Data);
        started.BeginOutputReadLine();
        started.BeginErrorReadLine();
        process = started;

        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(started.HasExited, "The laptop host exited:\n" + Log);
            try
            {
                if ((await Http.GetAsync("/api/health")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(250);
        }

        Assert.Fail("The laptop host did not answer /api/health within 3 minutes:\n" + Log);
    }

    /// <summary>Registers the sample churn spec under <paramref name="name"/>.</summary>
    public async Task RegisterSampleAsync(string name)
    {
        var spec = await LaptopEndToEndTests.SampleSpecAsync(name);
        var put = await Http.PutAsync($"/api/models/{name}", new StringContent(spec.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
    }

    /// <summary>Uploads a dataset (the sample CSV unless given), which starts a run; returns the run's status URL.</summary>
    public async Task<string> UploadAsync(string name, HttpContent? content = null)
    {
        content ??= new StringContent(ChurnDataGenerator.Generate(2500, seed: 31), Encoding.UTF8, "text/csv");
        var upload = await Http.PostAsync($"/api/models/{name}/datasets", content);
        Assert.Equal(HttpStatusCode.Accepted, upload.StatusCode);
        var statusUrl = (string)(await upload.Content.ReadFromJsonAsync<JsonObject>())!["statusUrl"]!;
        Assert.Equal(statusUrl, upload.Headers.Location!.OriginalString);
        return statusUrl;
    }

    /// <summary>Uploads a dataset and waits for the run it starts to end.</summary>
    public async Task<JsonObject> UploadAndWaitAsync(string name, HttpContent? content = null) =>
        await WaitForRunAsync(await UploadAsync(name, content), TimeSpan.FromMinutes(4));

    /// <summary>Polls a run's status URL until the run has ended (or the time is up) and returns the last status.</summary>
    public async Task<JsonObject> WaitForRunAsync(string statusUrl, TimeSpan timeout)
    {
        JsonObject run;
        var deadline = DateTime.UtcNow + timeout;
        do
        {
            await Task.Delay(300);
            run = (await Http.GetFromJsonAsync<JsonObject>(statusUrl))!;
        }
        while ((string)run["status"]! is "pending" or "running" && DateTime.UtcNow < deadline);

        return run;
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await KillAsync();
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (log)
            {
                log.AppendLine(line);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>A laptop host that also monitors and watches for datasets, as a lone laptop host does by default.</summary>
public sealed class MonitoringLaptopHostProcess : LaptopHostProcess
{
    protected override bool Monitors => true;
}

/// <summary>
/// A laptop host that exports its spans to the console (and so does the trainer it starts, which
/// inherits the setting), with the trainer's output in the host's log as single-line entries.
/// </summary>
public sealed class TracingLaptopHostProcess : LaptopHostProcess
{
    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Telemetry__Console"] = "true",
        ["Logging__Console__FormatterName"] = "simple",
        ["Logging__Console__FormatterOptions__SingleLine"] = "true",
        ["Logging__LogLevel__Serverless.Lifecycle.Training"] = "Information",
    };
}

