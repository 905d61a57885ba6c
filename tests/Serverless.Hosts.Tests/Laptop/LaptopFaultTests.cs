using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Serverless.Lifecycle.Storage;
using Serverless.Samples.Churn;
using Serverless.Tests;
using Xunit.Abstractions;

namespace Serverless.Hosts.Tests.Laptop;

/// <summary>
/// The fault harness against the laptop host as <c>./run.sh</c> starts it, with Azurite behind a
/// <see cref="FaultProxy"/>: each test breaks one thing and checks the figure docs/reliability.md
/// records. Load goes to loopback only, bounded in count and time.
/// </summary>
public sealed class LaptopFaultTests(ITestOutputHelper output)
{
    private const string Instance = """{"instances":[{"tenure_months":3,"monthly_charges":95.5,"support_calls":4,"contract":"month-to-month","internet_service":"fiber","payment_method":"electronic-check"}]}""";

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>A measured figure for docs/reliability.md: in the test's output, and appended to the file RELIABILITY_FIGURES names, if set.</summary>
    private void Figure(string text)
    {
        output.WriteLine("FIGURE " + text);
        if (Environment.GetEnvironmentVariable("RELIABILITY_FIGURES") is { Length: > 0 } file)
        {
            lock (typeof(LaptopFaultTests))
            {
                File.AppendAllText(file, $"{DateTime.UtcNow:u} {text}{Environment.NewLine}");
            }
        }
    }

    private static async Task<LaptopHostProcess> StartAsync(FaultyAzurite azurite, params (string Key, string Value)[] settings)
    {
        var host = new LaptopHostProcess { StorageConnectionString = azurite.ConnectionString };
        foreach (var (key, value) in settings)
        {
            host.ExtraSettings[key] = value;
        }

        await host.StartAsync();
        return host;
    }

    /// <summary>Registers the sample under <paramref name="name"/>, trains it and waits for the champion.</summary>
    private static async Task TrainAsync(LaptopHostProcess host, string name)
    {
        await host.RegisterSampleAsync(name);
        var run = await host.UploadAndWaitAsync(name);
        Assert.True((string)run["status"]! == "succeeded", $"run ended {run}\n{host.Log}");
    }

    [Fact]
    public async Task HostStartedBeforeStorage_WaitsSayingSo_ThenServes()
    {
        await using var azurite = new FaultyAzurite();
        azurite.Set(FaultMode.Refuse);
        var host = new LaptopHostProcess { StorageConnectionString = azurite.ConnectionString };
        try
        {
            var starting = host.StartAsync();
            var log = await Eventually.WaitAsync(() => Task.FromResult(host.Log), l => l.Contains("Waiting for storage", StringComparison.Ordinal) || starting.IsCompleted);
            Assert.Contains("Waiting for storage", log, StringComparison.Ordinal);
            Assert.NotNull(host.ProcessId);

            azurite.Set(FaultMode.Pass);
            await starting;
            var name = Azurite.UniqueModelName("late");
            await host.RegisterSampleAsync(name);
            Assert.Equal(HttpStatusCode.OK, (await host.Http.GetAsync($"/api/models/{name}")).StatusCode);
        }
        finally
        {
            await host.DisposeAsync();
        }
    }

    [Fact]
    public async Task StorageRefusedFor30s_Under16ConnectionPredictLoad_NoPredictionFails_AndEveryRecordIsWrittenOrCounted()
    {
        await using var azurite = new FaultyAzurite();

        // A small log buffer, so the outage overflows it and drops are exercised.
        var host = await StartAsync(azurite, ("PredictionLog__BufferRecords", "20000"));
        try
        {
            var name = Azurite.UniqueModelName("outage");
            await TrainAsync(host, name);

            using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 16 }) { BaseAddress = host.Http.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
            var outcomes = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
            using var stop = new CancellationTokenSource();
            var served = 0;
            const int MaxRequests = 1_000_000;
            var clients = Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested && Volatile.Read(ref served) < MaxRequests)
                {
                    string outcome;
                    try
                    {
                        using var response = await client.PostAsync($"/api/models/{name}/predict", Json(Instance));
                        outcome = ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
                        if (response.IsSuccessStatusCode)
                        {
                            Interlocked.Increment(ref served);
                        }
                    }
                    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                    {
                        outcome = ex.GetType().Name;
                    }

                    outcomes.AddOrUpdate(outcome, 1, (_, n) => n + 1);
                }
            })).ToList();

            await Task.Delay(TimeSpan.FromSeconds(3));
            azurite.Set(FaultMode.Refuse);
            await Task.Delay(TimeSpan.FromSeconds(15));

            // Mid-outage: still ready (it serves what it holds), and saying it is degraded, and why.
            using var ready = await client.GetAsync("/api/v2/health/ready");
            var readiness = (await ready.Content.ReadFromJsonAsync<JsonObject>())!;
            var status = (await client.GetFromJsonAsync<JsonObject>("/api/status"))!;
            Figure($"readiness mid-outage: {(int)ready.StatusCode} {readiness.ToJsonString()}");
            await Task.Delay(TimeSpan.FromSeconds(15));
            azurite.Set(FaultMode.Pass);
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.True((bool)readiness["degraded"]!);
            Assert.Contains(readiness["problems"]!.AsArray(), p => ((string)p!).StartsWith("storage is unreachable", StringComparison.Ordinal));
            Assert.False((bool)status["storage"]!["reachable"]!);
            Assert.NotNull((string?)status["serving"]!["staleSince"]);
            await Task.Delay(TimeSpan.FromSeconds(5));
            await stop.CancelAsync();
            await Task.WhenAll(clients);

            Figure($"refused 30 s under 16 connections: outcomes {string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key}={o.Value}"))}");
            Assert.Equal([("200", served)], outcomes.Select(o => (o.Key, o.Value)));
            Assert.Equal(HttpStatusCode.OK, (await host.Http.GetAsync("/api/health")).StatusCode);

            // Every record is written or counted as dropped, and the blobs hold exactly the written ones.
            var log = await Eventually.WaitAsync(
                async () => (await host.Http.GetFromJsonAsync<JsonObject>("/api/status"))!["predictionLog"]!.AsObject(),
                l => (long)l["buffered"]! == 0 && (long)l["written"]! + (long)l["dropped"]! >= served);
            var (written, dropped) = ((long)log["written"]!, (long)log["dropped"]!);
            using var storage = Azurite.CreateStorage();
            var rows = 0L;
            var container = storage.Container(StorageNames.PredictionsContainer);
            await foreach (var blob in container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, name + "/", CancellationToken.None))
            {
                rows += (await container.GetBlobClient(blob.Name).DownloadContentAsync()).Value.Content.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
            }

            Figure($"prediction log: served {served}, written {written}, dropped {dropped}, rows in blobs {rows}");
            Assert.Equal(served, written + dropped);
            Assert.Equal(written, rows);
            Assert.True(dropped > 0, "the outage should have overflowed the 20,000-record buffer");
        }
        finally
        {
            await host.DisposeAsync();
        }
    }

    [Fact]
    public async Task StorageBlackholedFor60s_DuringTheTrainStep_TheRunCompletesWithOneVersion()
    {
        await using var azurite = new FaultyAzurite();
        var host = await StartAsync(azurite, ("Training__StatusCheckInterval", "00:00:05"));
        try
        {
            var name = Azurite.UniqueModelName("blackhole");
            await host.RegisterSampleAsync(name);
            var statusUrl = await host.UploadAsync(name);
            var run = await Eventually.WaitAsync(
                async () => (await host.Http.GetFromJsonAsync<JsonObject>(statusUrl))!,
                r => r["steps"]!.AsArray().Any(s => (string)s!["name"]! == "train") || (string)r["status"]! is not ("pending" or "running"),
                interval: TimeSpan.FromMilliseconds(100));
            Assert.Equal("running", (string)run["status"]!);

            azurite.Set(FaultMode.Blackhole);
            await Task.Delay(TimeSpan.FromSeconds(60));
            azurite.Set(FaultMode.Pass);

            run = await host.WaitForRunAsync(statusUrl, TimeSpan.FromMinutes(8));
            Figure($"blackholed 60 s during train: run {(string)run["status"]!}, version {run["version"]}");
            Assert.True((string)run["status"]! == "succeeded", $"run ended {run}\n{host.Log}");
            var versions = (await host.Http.GetFromJsonAsync<JsonObject>($"/api/models/{name}/versions"))!["versions"]!.AsArray();
            Assert.Single(versions);
        }
        finally
        {
            await host.DisposeAsync();
        }
    }

    [Fact]
    public async Task HostKilledAloneMidTraining_TheRestartedHostWaitsForTheOrphan_OneTrainerOneVersion()
    {
        await using var azurite = new FaultyAzurite();
        var host = await StartAsync(azurite, ("Training__StatusCheckInterval", "00:00:03"));
        using var watch = new TrainerWatch();
        try
        {
            // A long training job (about a minute on 2 cores), so the trainer outlives the host's death and restart.
            var name = Azurite.UniqueModelName("orphan");
            var spec = await LaptopEndToEndTests.SampleSpecAsync(name);
            spec["trainer"]!["hyperparameters"] = new JsonObject { ["numberOfIterations"] = 5000, ["numberOfLeaves"] = 31, ["learningRate"] = 0.01 };

            // 5000 trees score a row in tens of milliseconds, more on a loaded machine (a fresh-clone run saw
            // 89 ms against the default 50 ms budget): the orphan, not the model's latency, is what this checks.
            spec["evaluation"]!["latencyBudgetMs"] = 2000;
            Assert.Equal(HttpStatusCode.Created, (await host.Http.PutAsync($"/api/models/{name}", Json(spec.ToJsonString()))).StatusCode);
            var statusUrl = await host.UploadAsync(name, new StringContent(ChurnDataGenerator.Generate(150_000, seed: 77), Encoding.UTF8, "text/csv"));
            watch.Model = name;

            var seen = await Eventually.WaitAsync(() => Task.FromResult(watch.Max), n => n > 0, interval: TimeSpan.FromMilliseconds(100));
            Assert.Equal(1, seen);
            await host.KillHostOnlyAsync();
            Assert.Equal(1, watch.Current);
            await host.StartAsync();

            var run = await host.WaitForRunAsync(statusUrl, TimeSpan.FromMinutes(10));
            Figure($"kill -9 of the host mid-training: trainer processes seen {watch.Distinct}, most at once {watch.Max}, run {(string)run["status"]!}, train step {run["steps"]!.AsArray().FirstOrDefault(s => (string)s!["name"]! == "train")?["detail"]}");
            Assert.True((string)run["status"]! == "succeeded", $"run ended {run}\n{host.Log}");
            Assert.Equal(1, watch.Max);
            Assert.Equal(1, watch.Distinct);
            var versions = (await host.Http.GetFromJsonAsync<JsonObject>($"/api/models/{name}/versions"))!["versions"]!.AsArray();
            Assert.Single(versions);
        }
        finally
        {
            await host.DisposeAsync();
        }
    }

    [Fact]
    public async Task TamperedChampion_AfterARestart_Is503NamingTheVersion_AndAfterARollbackNothingFails()
    {
        await using var azurite = new FaultyAzurite();
        var host = await StartAsync(azurite);
        try
        {
            var name = Azurite.UniqueModelName("tampered");
            await TrainAsync(host, name);
            var second = await host.UploadAndWaitAsync(name, new StringContent(ChurnDataGenerator.Generate(3000, seed: 31), Encoding.UTF8, "text/csv"));
            Assert.True((string)second["status"]! == "succeeded" && (int?)second["version"] == 2, $"second run {second}");

            using (var storage = Azurite.CreateStorage())
            {
                await storage.Blob(BlobPath.Parse($"{StorageNames.ModelsContainer}/{name}/2/model.onnx")).UploadAsync(new BinaryData("not a model"u8.ToArray()), overwrite: true);
            }

            await host.KillAsync();
            await host.StartAsync();

            var refused = new Dictionary<HttpStatusCode, int>();
            string? detail = null;
            for (var i = 0; i < 20; i++)
            {
                using var response = await host.Http.PostAsync($"/api/models/{name}/predict", Json(Instance));
                refused[response.StatusCode] = refused.GetValueOrDefault(response.StatusCode) + 1;
                detail ??= (string?)(await response.Content.ReadFromJsonAsync<JsonObject>())?["detail"];
            }

            Figure($"tampered champion after restart: {string.Join(", ", refused.Select(r => $"{(int)r.Key}={r.Value}"))}; {detail}");
            Assert.Equal([(HttpStatusCode.ServiceUnavailable, 20)], refused.Select(r => (r.Key, r.Value)));
            Assert.Contains("Version 2", detail, StringComparison.Ordinal);
            Assert.Contains("SHA-256", detail, StringComparison.Ordinal);
            var version = (await host.Http.GetFromJsonAsync<JsonObject>($"/api/models/{name}/versions/2"))!;
            Assert.Contains("SHA-256", (string?)version["servingProblem"], StringComparison.Ordinal);

            Assert.Equal(HttpStatusCode.OK, (await host.Http.PostAsync($"/api/models/{name}/rollback", Json("""{"reason":"v2 file damaged"}"""))).StatusCode);
            var after = new Dictionary<HttpStatusCode, int>();
            for (var i = 0; i < 200; i++)
            {
                using var response = await host.Http.PostAsync($"/api/models/{name}/predict", Json(Instance));
                after[response.StatusCode] = after.GetValueOrDefault(response.StatusCode) + 1;
            }

            Figure($"after the rollback: {string.Join(", ", after.Select(r => $"{(int)r.Key}={r.Value}"))}");
            Assert.Equal([(HttpStatusCode.OK, 200)], after.Select(r => (r.Key, r.Value)));
        }
        finally
        {
            await host.DisposeAsync();
        }
    }

    /// <summary>Counts the trainer processes of one model, by their command line, every 100 ms.</summary>
    private sealed class TrainerWatch : IDisposable
    {
        private readonly CancellationTokenSource stop = new();
        private readonly HashSet<int> pids = [];
        private int max;
        private int current;

        public TrainerWatch() => _ = Task.Run(LoopAsync);

        public string? Model { get; set; }

        public int Max => Volatile.Read(ref max);

        public int Current => Volatile.Read(ref current);

        public int Distinct
        {
            get
            {
                lock (pids)
                {
                    return pids.Count;
                }
            }
        }

        /// <summary>Stops watching, and stops any trainer of the model still running (a failed test must not leave one behind).</summary>
        public void Dispose()
        {
            stop.Cancel();
            stop.Dispose();
            foreach (var pid in Model is { } model ? Trainers(model) : [])
            {
                try
                {
                    using var process = System.Diagnostics.Process.GetProcessById(pid);
                    process.Kill();
                }
                catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
                {
                    // Gone already.
                }
            }
        }

        private async Task LoopAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                if (Model is { } model)
                {
                    var found = Trainers(model);
                    Volatile.Write(ref current, found.Count);
                    lock (pids)
                    {
                        pids.UnionWith(found);
                    }

                    if (found.Count > max)
                    {
                        Volatile.Write(ref max, found.Count);
                    }
                }

                await Task.Delay(100);
            }
        }

        private static List<int> Trainers(string model)
        {
            var found = new List<int>();
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), out var pid))
                {
                    continue;
                }

                try
                {
                    var commandLine = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                    if (commandLine.Contains("Serverless.Trainer", StringComparison.Ordinal) && commandLine.Contains(model, StringComparison.Ordinal))
                    {
                        found.Add(pid);
                    }
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // The process ended while it was read.
                }
            }

            return found;
        }
    }
}
