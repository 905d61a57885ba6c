using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Data.Profiling;
using Serverless.Lifecycle.Monitoring;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;

/// <summary>
/// The drift benchmark: the monitor's report over a large window of logged predictions, read
/// the way the monitor reads the prediction log (JSON lines, one file per blob), against the
/// profile the pipeline stores for the champion. <c>benchmarks/drift.sh</c> runs it beside
/// scipy's <c>ks_2samp</c> and a numpy histogram PSI on the same files.
/// </summary>
internal static class DriftBenchmark
{
    public const int Features = 20;
    private const int TrainingRows = 200_000;
    private const int RecordsPerFile = 10_000;

    /// <summary>The features that drift in the logged traffic; the others come from the training distributions.</summary>
    private static readonly int[] Drifted = [0, 5, 10, 15];

    public static ModelSpec Spec() => new()
    {
        Name = "bench",
        Task = ModelTasks.Binary,
        Label = "label",
        Features = Enumerable.Range(0, Features).Select(i => new FeatureSpec { Name = Name(i), Type = FeatureTypes.Numeric }).ToList(),
    };

    public static async Task<int> GenerateAsync(int rows, string dir)
    {
        Directory.CreateDirectory(Path.Combine(dir, "log"));
        var random = new Random(7);
        var training = Path.Combine(dir, "train.csv");
        await using (var writer = new StreamWriter(training, false, new UTF8Encoding(false), 1 << 20))
        {
            await writer.WriteLineAsync(string.Join(',', Enumerable.Range(0, Features).Select(Name).Append("label")));
            var line = new StringBuilder();
            for (var r = 0; r < TrainingRows; r++)
            {
                line.Clear();
                for (var f = 0; f < Features; f++)
                {
                    line.Append(Value(random, f, shifted: false).ToString("R", CultureInfo.InvariantCulture)).Append(',');
                }

                await writer.WriteLineAsync(line.Append(random.Next(2)));
            }
        }

        ValidationReport report;
        await using (var csv = File.OpenRead(training))
        {
            report = await DatasetValidator.ValidateAsync(csv, Spec(), null, CancellationToken.None);
        }

        await File.WriteAllTextAsync(Path.Combine(dir, "profile.json"), JsonSerializer.Serialize(report.Profile, SpecJson.Options));

        // Logged predictions as PredictionLog writes them: one record per row, JSON lines, a file per blob.
        var start = new DateTimeOffset(2026, 11, 26, 0, 0, 0, TimeSpan.Zero);
        for (var file = 0; file * RecordsPerFile < rows; file++)
        {
            var content = new StringBuilder();
            for (var r = file * RecordsPerFile; r < Math.Min(rows, (file + 1) * RecordsPerFile); r++)
            {
                var inputs = new Dictionary<string, object?>(StringComparer.Ordinal);
                for (var f = 0; f < Features; f++)
                {
                    inputs[Name(f)] = (float)Value(random, f, Drifted.Contains(f));
                }

                var record = new PredictionRecord(
                    $"req-{r:x8}", 0, start.AddTicks(r * 3_000L), "bench", 1, "champion", "predict", inputs, random.Next(2).ToString(CultureInfo.InvariantCulture), random.NextDouble(), null, 0.4);
                content.Append(JsonSerializer.Serialize(record, PredictionLog.JsonOptions)).Append('\n');
            }

            await File.WriteAllTextAsync(Path.Combine(dir, "log", $"{file:D5}.jsonl"), content.ToString());
        }

        return 0;
    }

    /// <summary>
    /// Reads every log file with the monitor's reader into one drift window and reports. Prints one
    /// line: tool, rows, seconds, seconds in the statistics, rows/s, peak RSS (MB), log size (MB);
    /// then per feature on stderr: KS statistic and p-value, PSI, and whether each test drifted.
    /// </summary>
    public static async Task<int> RunAsync(string dir)
    {
        var clock = Stopwatch.StartNew();
        var baseline = JsonSerializer.Deserialize<DatasetProfile>(File.ReadAllText(Path.Combine(dir, "profile.json")), SpecJson.Options)!;
        var spec = Spec() with { Drift = new DriftSpec { NumericTests = [DriftTests.Psi, DriftTests.KolmogorovSmirnov] } };
        var window = new DriftWindow(spec, baseline);
        var files = Directory.GetFiles(Path.Combine(dir, "log"), "*.jsonl").Order(StringComparer.Ordinal).ToList();
        var bytes = files.Sum(f => new FileInfo(f).Length);
        var open = (string file, CancellationToken _) => Task.FromResult<Stream>(
            new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan | FileOptions.Asynchronous));

        // The statistics' share: time in the window (accumulating and reporting), while the reader parses beside it.
        long statistics = 0;
        await foreach (var record in PredictionLogReader.ParseAllAsync(files.ToAsyncEnumerable(), open))
        {
            var before = Stopwatch.GetTimestamp();
            window.Add(record);
            statistics += Stopwatch.GetTimestamp() - before;
        }

        var reporting = Stopwatch.GetTimestamp();
        var report = window.Report(1, DateTimeOffset.MinValue, DateTimeOffset.MaxValue);
        statistics += Stopwatch.GetTimestamp() - reporting;
        var elapsed = clock.Elapsed;
        var peak = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"product\t{report.Samples}\t{elapsed.TotalSeconds:F2}\t{statistics / (double)Stopwatch.Frequency:F2}\t{report.Samples / elapsed.TotalSeconds:F0}\t{long.Parse(peak, CultureInfo.InvariantCulture) / 1024}\t{bytes / 1e6:F0}"));
        foreach (var feature in report.Features)
        {
            var ks = feature.Tests.First(t => t.Test == DriftTests.KolmogorovSmirnov);
            var psi = feature.Tests.First(t => t.Test == DriftTests.Psi);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{feature.Feature}\t{ks.Statistic:F4}\t{ks.PValue:G3}\t{psi.Statistic:F6}\t{ks.Drifted}\t{psi.Drifted}"));
        }

        return report.Samples > 0 ? 0 : 1;
    }

    private static string Name(int feature) => $"f{feature:D2}";

    /// <summary>Four shapes of data, five features each: normal, log-normal, uniform, and small integer counts (many ties).</summary>
    private static double Value(Random random, int feature, bool shifted)
    {
        var shift = shifted ? 0.25 : 0;
        return (feature % 4) switch
        {
            0 => (10 * (Normal(random) + shift)) + 50,
            1 => Math.Exp((0.5 * Normal(random)) + shift),
            2 => (random.NextDouble() * 100) + (shift * 40),
            _ => Math.Round(-Math.Log(1 - random.NextDouble()) * (3 + (shift * 4))),
        };
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
