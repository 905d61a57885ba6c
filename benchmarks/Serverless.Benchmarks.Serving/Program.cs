using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.OnnxRuntime;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Scoring;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;
using Serverless.Samples.Churn;
using Serverless.Trainer;

// Usage:
//   engine                                  the product's OnnxModel against raw ONNX Runtime with pre-allocated OrtValues,
//                                           on the sample churn model: single-row p50 and batch-1024 rows/s
//   http <baseUrl> <model> <seconds> <connections> [echo|predict|moves]
//                                           keep-alive load on the laptop host; "moves" moves champion 10 times during the load
//   coldstart <Serverless.Laptop.dll> <storage connection string> <model>...
//                                           per model, a fresh laptop host: process start to health, to the first prediction,
//                                           the load phases it reports, against session creation and warm-up alone (a fresh process)
//   session <model.onnx> <spec.json>        (for coldstart) one fresh process's session creation and warm-up, in ms
//   importance <dataset rows>               permutation feature importance of the sample model on the test split of a dataset
//                                           of that many rows (15%), with the spec's defaults and on the whole split
//   batch <baseUrl> <model> <rows> <storage connection string>
//                                           batch scoring in laptop mode: a generated CSV of <rows> uploaded to batch-input/,
//                                           scored by the host into batch-output/, against raw ONNX Runtime on the same rows
// Each prints markdown table rows.
return args switch
{
    ["engine"] => Engine(),
    ["evaluate", var rows] => Evaluate(int.Parse(rows, CultureInfo.InvariantCulture)),
    ["importance", var rows] => Importance(int.Parse(rows, CultureInfo.InvariantCulture)),
    ["data-pass", var connection, var file, var specFile] => await DataPass(connection, file, specFile),
    ["batch", var url, var model, var rows, var connection] => await Batch(new Uri(url), model, int.Parse(rows, CultureInfo.InvariantCulture), connection),
    ["coldstart", var hostDll, var connection, .. var models] when models.Length > 0 => await ColdStart(hostDll, connection, models),
    ["session", var onnxPath, var specPath] => Session(onnxPath, specPath),
    ["http", var url, var model, var seconds, var connections, var mode] =>
        await Http(new Uri(url), model, TimeSpan.FromSeconds(double.Parse(seconds, CultureInfo.InvariantCulture)), int.Parse(connections, CultureInfo.InvariantCulture), mode),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: engine | http <baseUrl> <model> <seconds> <connections> echo|predict|moves | batch <baseUrl> <model> <rows> <storage connection string>");
    return 2;
}

static int Session(string onnxPath, string specPath)
{
    var spec = JsonSerializer.Deserialize<ModelSpec>(File.ReadAllText(specPath), SpecJson.Options)!;
    var bytes = File.ReadAllBytes(onnxPath);
    var started = Stopwatch.GetTimestamp();
    using var model = new OnnxModel(bytes, spec);
    var created = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    var row = LabeledBatch.ReadCsv(new StringReader(ChurnDataGenerator.Generate(1, seed: 4)), spec, readLabels: false).Features;
    started = Stopwatch.GetTimestamp();
    model.Predict(row);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{created:F1} {Stopwatch.GetElapsedTime(started).TotalMilliseconds:F1}"));
    return 0;
}

static async Task<int> ColdStart(string hostDll, string connection, string[] models)
{
    const string Instance = """{"instances":[{"tenure_months":3,"monthly_charges":95.5,"support_calls":4,"contract":"month-to-month","internet_service":"fiber","payment_method":"electronic-check"}]}""";
    Console.WriteLine("| model | preload | ONNX (KB) | host start (ms) | first prediction (ms from process start) | card | download + SHA-256 | session | warm-up | first request after health (ms) | session + warm-up alone, fresh process (ms) | first prediction / (1.5 x alone + host start) |");
    Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
    foreach (var (model, preload) in models.SelectMany(m => new[] { (m, false), (m, true) }))
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var url = $"http://127.0.0.1:{port}";
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var word in new[] { hostDll, "--contentRoot", Path.GetDirectoryName(hostDll)!, "--urls", url })
        {
            start.ArgumentList.Add(word);
        }

        start.Environment["Storage__ConnectionString"] = connection;
        start.Environment["Monitoring__Enabled"] = "false";
        start.Environment["Logging__LogLevel__Default"] = "Warning";

        // Each host loads only the model it is timed on (with preload, in the background from its start).
        start.Environment["Serving__Preload"] = preload ? "true" : "false";
        start.Environment["Serving__PreloadModels__0"] = model;
        using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromMinutes(2) };
        var t0 = Stopwatch.GetTimestamp();
        using var host = Process.Start(start)!;
        host.OutputDataReceived += (_, _) => { };
        host.ErrorDataReceived += (_, _) => { };
        host.BeginOutputReadLine();
        host.BeginErrorReadLine();
        try
        {
            while (true)
            {
                try
                {
                    using var health = await http.GetAsync("/api/health");
                    if (health.IsSuccessStatusCode)
                    {
                        break;
                    }
                }
                catch (HttpRequestException)
                {
                }

                await Task.Delay(10);
            }

            var hostStart = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            using var predict = await http.PostAsync($"/api/models/{model}/predict", new StringContent(Instance, Encoding.UTF8, "application/json"));
            var first = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            if (!predict.IsSuccessStatusCode)
            {
                Console.Error.WriteLine($"{model}: the first prediction answered {(int)predict.StatusCode}: {await predict.Content.ReadAsStringAsync()}");
                return 1;
            }

            var load = JsonNode.Parse(await http.GetStringAsync("/api/status"))!["serving"]!["loaded"]!.AsArray().Single(l => (string)l!["model"]! == model)!["load"]!;
            var (card, download, session, warmup) = ((double)load["cardMs"]!, (double)load["downloadMs"]!, (double)load["sessionMs"]!, (double)load["warmupMs"]!);
            var onnx = await http.GetByteArrayAsync($"/api/models/{model}/versions/champion/model.onnx");
            var spec = JsonNode.Parse(await http.GetStringAsync($"/api/models/{model}/versions/champion"))!["card"]!["spec"]!.ToJsonString();
            var folder = Directory.CreateTempSubdirectory("coldstart-");
            await File.WriteAllBytesAsync(Path.Combine(folder.FullName, "model.onnx"), onnx);
            await File.WriteAllTextAsync(Path.Combine(folder.FullName, "spec.json"), spec);
            var alone = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true };
            foreach (var word in new[] { typeof(RawOrt).Assembly.Location, "session", Path.Combine(folder.FullName, "model.onnx"), Path.Combine(folder.FullName, "spec.json") })
            {
                alone.ArgumentList.Add(word);
            }

            using var child = Process.Start(alone)!;
            var words = (await child.StandardOutput.ReadToEndAsync()).Trim().Split(' ');
            await child.WaitForExitAsync();
            folder.Delete(recursive: true);
            var aloneMs = double.Parse(words[0], CultureInfo.InvariantCulture) + double.Parse(words[1], CultureInfo.InvariantCulture);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {model} | {(preload ? "on" : "off")} | {onnx.Length / 1024.0:F0} | {hostStart:F0} | {first:F0} | {card:F0} | {download:F0} | {session:F0} | {warmup:F0} | {first - hostStart:F0} | {aloneMs:F0} | {first / ((1.5 * aloneMs) + hostStart):F2} |"));
        }
        finally
        {
            host.Kill(entireProcessTree: true);
            await host.WaitForExitAsync();
        }
    }

    return 0;
}

static async Task<int> Batch(Uri baseUrl, string model, int rows, string connection)
{
    using var http = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromMinutes(10) };
    var champion = JsonNode.Parse(await http.GetStringAsync($"/api/models/{model}/versions/champion"))!;
    var spec = champion["card"]!["spec"].Deserialize<ModelSpec>(SpecJson.Options)!;
    var onnx = await http.GetByteArrayAsync($"/api/models/{model}/versions/champion/model.onnx");
    var csv = ChurnDataGenerator.Generate(rows, seed: 9);

    // Raw ONNX Runtime on the same rows: every input tensor made beforehand, only Run timed.
    double rawRowsPerSecond;
    using (var raw = new RawOrt(onnx, spec, LabeledBatch.ReadCsv(new StringReader(csv), spec, maxRows: 1, readLabels: false).Features))
    {
        var all = LabeledBatch.ReadCsv(new StringReader(csv), spec, readLabels: false).Features;
        var inputs = new List<OrtValue[]>();
        for (var start = 0; start < all.Rows; start += BatchScorer.ChunkRows)
        {
            var size = Math.Min(BatchScorer.ChunkRows, all.Rows - start);
            inputs.Add(OnnxModel.CreateInputs(all.Slice(start, size), spec.Features.Select(f => f.Name).ToArray()));
        }

        raw.Run(inputs[0]);
        var started = Stopwatch.GetTimestamp();
        foreach (var batch in inputs)
        {
            raw.Run(batch);
        }

        rawRowsPerSecond = all.Rows / Stopwatch.GetElapsedTime(started).TotalSeconds;
        foreach (var value in inputs.SelectMany(i => i))
        {
            value.Dispose();
        }
    }

    // The product: the file uploaded to batch-input/{model}/, scored by the laptop host's poller.
    var service = new Azure.Storage.Blobs.BlobServiceClient(connection);
    var name = $"bench-{Guid.NewGuid():N}.csv";
    await service.GetBlobContainerClient("batch-input").GetBlobClient($"{model}/{name}").UploadAsync(BinaryData.FromString(csv), overwrite: true);
    var uploaded = Stopwatch.GetTimestamp();
    var summaryBlob = service.GetBlobContainerClient("batch-output").GetBlobClient($"{model}/{Path.ChangeExtension(name, null)}.summary.json");
    while (!(await summaryBlob.ExistsAsync()).Value)
    {
        await Task.Delay(100);
    }

    var seen = Stopwatch.GetElapsedTime(uploaded).TotalSeconds;
    var summary = JsonNode.Parse((await summaryBlob.DownloadContentAsync()).Value.Content.ToString())!;
    if (summary["error"] is { } error)
    {
        Console.Error.WriteLine($"batch scoring failed: {error}");
        return 1;
    }

    var scoring = (DateTimeOffset.Parse((string)summary["completedAt"]!, CultureInfo.InvariantCulture) - DateTimeOffset.Parse((string)summary["startedAt"]!, CultureInfo.InvariantCulture)).TotalSeconds;
    var scored = (long)summary["scored"]!;
    Console.WriteLine("| rows | raw ONNX Runtime (rows/s) | batch scoring, start to summary (s) | rows/s | / raw | upload to summary seen (s) |");
    Console.WriteLine("|---|---|---|---|---|---|");
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {scored:N0} | {rawRowsPerSecond:F0} | {scoring:F2} | {scored / scoring:F0} | {scored / scoring / rawRowsPerSecond:F2} | {seen:F2} |"));
    return 0;
}

// The sample churn model trained on 20,000 generated rows in the folder: its spec and ONNX bytes.
static (ModelSpec Spec, byte[] Onnx) TrainSample(DirectoryInfo folder)
{
    var spec = ModelSpecValidator.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "churn.spec.json"))).Spec!;
    var train = Path.Combine(folder.FullName, "train.csv");
    var validation = Path.Combine(folder.FullName, "validation.csv");
    File.WriteAllText(train, ChurnDataGenerator.Generate(20_000, seed: 1));
    File.WriteAllText(validation, ChurnDataGenerator.Generate(5_000, seed: 2));
    return (spec, TabularTrainer.Train(spec, train, validation).Onnx);
}

// What scoring a test split costs, phase by phase: reading the CSV into a labelled batch, ONNX
// Runtime's predictions, and the task's metrics (as the evaluate step and the trainer's job do).
static int Evaluate(int rows)
{
    var folder = Directory.CreateTempSubdirectory("evaluate-bench");
    try
    {
        var (spec, onnx) = TrainSample(folder);
        var test = Path.Combine(folder.FullName, "test.csv");
        File.WriteAllText(test, ChurnDataGenerator.Generate(rows, seed: 3));
        for (var round = 0; round < 3; round++)
        {
            var clock = Stopwatch.StartNew();
            LabeledBatch batch;
            using (var reader = new StreamReader(test))
            {
                batch = LabeledBatch.ReadCsv(reader, spec);
            }

            var read = clock.Elapsed.TotalSeconds;
            using var model = new OnnxModel(onnx, spec);
            clock.Restart();
            var predictions = model.Predict(batch.Features);
            var predict = clock.Elapsed.TotalSeconds;
            clock.Restart();
            var parallel = ModelEvaluator.Predict(model, batch.Features);
            var parts = clock.Elapsed.TotalSeconds;
            clock.Restart();
            var metrics = TaskMetrics.Compute(spec.Task, batch, predictions, model.Classes, [.. Enumerable.Range(0, batch.Rows)]);
            var compute = clock.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{rows} rows: read {read:F2} s, predict in one call {predict:F2} s, in a part per core {parts:F2} s ({(parallel.SequenceEqual(predictions) ? "the same" : "DIFFERENT")} predictions), metrics {compute:F2} s (auc {metrics[MetricNames.Auc]:F4})"));
        }

        return 0;
    }
    finally
    {
        folder.Delete(recursive: true);
    }
}

// What permutation importance adds to scoring a candidate on its test split: the test split of a
// dataset of <rows> rows (the sample spec's 15%), scored as the evaluate step scores it, then its
// importance with the spec's defaults (a seeded sample of maxRows rows, 3 shuffles per feature) and
// on the whole split.
static int Importance(int rows)
{
    var folder = Directory.CreateTempSubdirectory("importance-bench");
    try
    {
        var (spec, onnx) = TrainSample(folder);
        var test = Path.Combine(folder.FullName, "test.csv");
        var testRows = (int)(rows * spec.Split.Test);
        File.WriteAllText(test, ChurnDataGenerator.Generate(testRows, seed: 3));
        LabeledBatch batch;
        using (var reader = new StreamReader(test))
        {
            batch = LabeledBatch.ReadCsv(reader, spec);
        }

        using var model = new OnnxModel(onnx, spec);
        Console.WriteLine("| dataset rows | test rows | evaluate (metrics, slices) s | importance, defaults (rows x shuffles) s | importance, whole split s | top feature (share), defaults | top feature (share), whole split |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        for (var round = 0; round < 3; round++)
        {
            var clock = Stopwatch.StartNew();
            ModelEvaluator.Evaluate(model, batch, spec.Evaluation.Gate.Slices);
            var evaluate = clock.Elapsed.TotalSeconds;
            clock.Restart();
            var defaults = PermutationImportance.Compute(model, batch, spec.Evaluation.Importance, spec.Trainer.Seed)!;
            var sampled = clock.Elapsed.TotalSeconds;
            clock.Restart();
            var whole = PermutationImportance.Compute(model, batch, spec.Evaluation.Importance with { MaxRows = batch.Rows }, spec.Trainer.Seed)!;
            var all = clock.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {rows:N0} | {batch.Rows:N0} | {evaluate:F2} | {sampled:F2} ({defaults.Rows:N0} x {defaults.Repeats}) | {all:F2} | {defaults.Features[0].Feature} ({ImportanceReport.Percent(defaults.Features[0].Share)}) | {whole.Features[0].Feature} ({ImportanceReport.Percent(whole.Features[0].Share)}) |"));
        }

        Console.WriteLine($"ranking, defaults:    {Ranking(PermutationImportance.Compute(model, batch, spec.Evaluation.Importance, spec.Trainer.Seed)!)}");
        Console.WriteLine($"ranking, whole split: {Ranking(PermutationImportance.Compute(model, batch, spec.Evaluation.Importance with { MaxRows = batch.Rows }, spec.Trainer.Seed)!)}");
        return 0;
    }
    finally
    {
        folder.Delete(recursive: true);
    }

    static string Ranking(ImportanceReport report) => report.Describe(top: report.Features.Count);
}

// The validate step's parts on the emulator: moving the file's bytes in and out of Azurite alone, and
// the one pass (validation, profile, SHA-256 and split) reading from a blob, with its partitions' uploads.
static async Task<int> DataPass(string connection, string file, string specFile)
{
    var spec = ModelSpecValidator.Parse(File.ReadAllText(specFile)).Spec!;
    var container = new Azure.Storage.Blobs.BlobServiceClient(connection).GetBlobContainerClient("bench-data-pass");
    await container.CreateIfNotExistsAsync();
    var blob = container.GetBlobClient("data.csv");
    var clock = Stopwatch.StartNew();
    await blob.UploadAsync(file, overwrite: true);
    var upload = clock.Elapsed.TotalSeconds;
    clock.Restart();
    await using (var stream = await blob.OpenReadAsync())
    {
        await stream.CopyToAsync(Stream.Null);
    }

    var read = clock.Elapsed.TotalSeconds;
    var folder = Directory.CreateTempSubdirectory("data-pass-");
    try
    {
        string[] files = [Path.Combine(folder.FullName, "train.csv"), Path.Combine(folder.FullName, "validation.csv"), Path.Combine(folder.FullName, "test.csv")];
        clock.Restart();
        using (var train = new StreamWriter(files[0]))
        using (var validation = new StreamWriter(files[1]))
        using (var test = new StreamWriter(files[2]))
        await using (var stream = await blob.OpenReadAsync())
        {
            await DatasetValidator.ValidateAsync(stream, spec, null, CancellationToken.None, partitions: new PartitionWriter(spec.Split, train, validation, test));
        }

        var pass = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var local = Path.Combine(folder.FullName, "data.csv");
        await blob.DownloadToAsync(local);
        using (var train = new StreamWriter(files[0]))
        using (var validation = new StreamWriter(files[1]))
        using (var test = new StreamWriter(files[2]))
        await using (var stream = File.OpenRead(local))
        {
            await DatasetValidator.ValidateAsync(stream, spec, null, CancellationToken.None, partitions: new PartitionWriter(spec.Split, train, validation, test));
        }

        var downloaded = clock.Elapsed.TotalSeconds;
        clock.Restart();
        await Task.WhenAll(files.Select((f, i) => container.GetBlobClient($"split-{i}.csv").UploadAsync(f, overwrite: true)));
        var partitions = clock.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{new FileInfo(file).Length / 1e6:F0} MB: upload alone {upload:F2} s, read alone {read:F2} s, one pass from the blob {pass:F2} s, download to a file then one pass {downloaded:F2} s, partitions' upload {partitions:F2} s"));
        return 0;
    }
    finally
    {
        folder.Delete(recursive: true);
        await container.DeleteIfExistsAsync();
    }
}

static int Engine()
{
    var folder = Directory.CreateTempSubdirectory("serving-bench");
    try
    {
        var (spec, onnx) = TrainSample(folder);
        var batch = LabeledBatch.ReadCsv(new StringReader(ChurnDataGenerator.Generate(1024, seed: 3)), spec, readLabels: false).Features;

        using var engine = new OnnxModel(onnx, spec);
        using var raw = new RawOrt(onnx, spec, batch);
        var one = batch.Row(0);

        Console.WriteLine("| measure | raw ONNX Runtime | engine | engine / raw |");
        Console.WriteLine("|---|---|---|---|");
        var (rawP50, engineP50) = (new List<double>(), new List<double>());
        var (rawBatch, engineBatch) = (new List<double>(), new List<double>());
        for (var round = 0; round < 5; round++)
        {
            rawP50.Add(P50(20_000, raw.RunOne));
            engineP50.Add(P50(20_000, () => engine.Predict(one)));
            rawBatch.Add(RowsPerSecond(300, 1024, raw.RunBatch));
            engineBatch.Add(RowsPerSecond(300, 1024, () => engine.Predict(batch)));
        }

        var (r1, e1) = (Median(rawP50), Median(engineP50));
        var (rb, eb) = (Median(rawBatch), Median(engineBatch));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| single-row p50 (µs) | {r1:F1} | {e1:F1} | {e1 / r1:F2} |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| batch-1024 throughput (rows/s) | {rb:F0} | {eb:F0} | {eb / rb:F2} |"));
        return 0;
    }
    finally
    {
        folder.Delete(recursive: true);
    }
}

static double P50(int iterations, Action run)
{
    for (var i = 0; i < 500; i++)
    {
        run();
    }

    var samples = new double[iterations];
    for (var i = 0; i < iterations; i++)
    {
        var started = Stopwatch.GetTimestamp();
        run();
        samples[i] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
    }

    Array.Sort(samples);
    return samples[iterations / 2];
}

static double RowsPerSecond(int iterations, int rows, Action run)
{
    run();
    var started = Stopwatch.GetTimestamp();
    for (var i = 0; i < iterations; i++)
    {
        run();
    }

    return iterations * rows / Stopwatch.GetElapsedTime(started).TotalSeconds;
}

static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

static async Task<int> Http(Uri baseUrl, string model, TimeSpan duration, int connections, string mode)
{
    using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionLifetime = TimeSpan.FromMinutes(10) };
    using var http = new HttpClient(handler) { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(30) };
    const string Instance = """{"instances":[{"tenure_months":2,"monthly_charges":105,"support_calls":5,"contract":"month-to-month","internet_service":"fiber","payment_method":"electronic-check"}]}""";
    var url = mode == "echo" ? "/api/_echo" : $"/api/models/{model}/predict";
    var latencies = new List<double>[connections];
    var failures = 0L;
    var versions = new HashSet<int>();
    using var stop = new CancellationTokenSource(duration);
    var workers = Enumerable.Range(0, connections).Select(c => Task.Run(async () =>
    {
        var own = latencies[c] = new List<double>(100_000);
        while (!stop.IsCancellationRequested)
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                using var content = new StringContent(Instance, Encoding.UTF8, "application/json");
                using var response = await http.PostAsync(url, content, CancellationToken.None);
                var body = await response.Content.ReadAsStringAsync(CancellationToken.None);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    Interlocked.Increment(ref failures);
                    continue;
                }

                own.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                if (mode == "moves" && JsonNode.Parse(body)?["version"] is { } version)
                {
                    lock (versions)
                    {
                        versions.Add((int)version);
                    }
                }
            }
            catch (HttpRequestException)
            {
                Interlocked.Increment(ref failures);
            }
        }
    })).ToList();

    var moves = 0;
    if (mode == "moves")
    {
        // Ten alias moves spread over the run, alternating between versions 1 and 2.
        var interval = duration / 11;
        for (moves = 0; moves < 10; moves++)
        {
            await Task.Delay(interval);
            var body = JsonContent.Create(new { version = moves % 2 == 0 ? 1 : 2, reason = "benchmark" });
            (await http.PutAsync($"/api/models/{model}/aliases/champion", body)).EnsureSuccessStatusCode();
        }
    }

    await Task.WhenAll(workers);
    var all = latencies.SelectMany(l => l).Order().ToList();
    var seconds = duration.TotalSeconds;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {mode} | {connections} | {all.Count / seconds:F0} | {all[all.Count / 2]:F2} | {all[(int)(all.Count * 0.99)]:F2} | {failures} | {(mode == "moves" ? $"{moves} moves, versions served: {string.Join(", ", versions.Order())}" : "")} |"));
    return failures == 0 ? 0 : 1;
}

/// <summary>
/// The baseline: ONNX Runtime called directly, with the input OrtValues created once for a fixed
/// one-row and a fixed 1024-row batch and reused on every call.
/// </summary>
internal sealed class RawOrt : IDisposable
{
    private readonly InferenceSession session;
    private readonly RunOptions options = new();
    private readonly string[] inputNames;
    private readonly string[] outputNames;
    private readonly OrtValue[] one;
    private readonly OrtValue[] many;

    public RawOrt(byte[] onnx, ModelSpec spec, FeatureBatch batch)
    {
        // The same session options as the engine: this measures what the engine adds around Run.
        using var sessionOptions = OnnxModel.CreateSessionOptions();
        session = new InferenceSession(onnx, sessionOptions);
        inputNames = spec.Features.Select(f => f.Name).ToArray();
        outputNames = OnnxModel.Outputs(spec.Task).Select(o => OnnxModel.FindOutput(session, o)).ToArray();
        one = OnnxModel.CreateInputs(batch.Row(0), inputNames);
        many = OnnxModel.CreateInputs(batch, inputNames);
    }

    /// <summary>One Run over inputs made by the caller.</summary>
    public void Run(OrtValue[] inputs)
    {
        using var outputs = session.Run(options, inputNames, inputs, outputNames);
    }

    public void RunOne()
    {
        using var outputs = session.Run(options, inputNames, one, outputNames);
    }

    public void RunBatch()
    {
        using var outputs = session.Run(options, inputNames, many, outputNames);
    }

    public void Dispose()
    {
        foreach (var value in one.Concat(many))
        {
            value.Dispose();
        }

        options.Dispose();
        session.Dispose();
    }
}
