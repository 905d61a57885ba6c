using System.Diagnostics;
using System.Globalization;
using System.Text;
using nietras.SeparatedValues;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Specs;

// Usage:
//   generate <rows> <file>   write a CSV of <rows> rows x 20 columns (12 numeric, 7 categorical, 1 label)
//   parse <file>             Sep parse-only: read every field of every row (the practical ceiling)
//   parse-typed <file>       Sep parsing into values: Parse<double> for numeric columns, strings for the rest
//   validate <file>          full validation + profiling with the product's DatasetValidator
//   drift-generate <rows> <dir>  a training CSV (200,000 rows x 20 numeric features), its profile, and <rows>
//                            logged predictions as the prediction log writes them (JSON lines, 10,000 per file)
//   drift <dir>              the monitor's drift report over every logged prediction in <dir>
// Each mode prints one line: mode, rows, seconds, MB/s, peak RSS (MB, from /proc/self/status VmHWM).
return args switch
{
    ["generate", var rows, var file] => Generate(int.Parse(rows, CultureInfo.InvariantCulture), file),
    ["parse", var file] => Parse(file),
    ["parse-typed", var file] => ParseTyped(file),
    ["validate", var file] => await Validate(file),
    ["one-pass", var file, var specFile] => await OnePass(file, specFile),
    ["drift-generate", var rows, var dir] => await DriftBenchmark.GenerateAsync(int.Parse(rows, CultureInfo.InvariantCulture), dir),
    ["drift", var dir] => await DriftBenchmark.RunAsync(dir),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: generate <rows> <file> | parse <file> | parse-typed <file> | validate <file> | drift-generate <rows> <dir> | drift <dir>");
    return 2;
}

static int Generate(int rows, string file)
{
    string[][] categories = [["a", "b", "c"], ["north", "south", "east", "west"], ["x1", "x2"], ["basic", "plus", "pro", "max", "ultra"], ["red", "green"], ["s", "m", "l", "xl"], ["yes", "no", "maybe"]];
    var random = new Random(42);
    using var writer = new StreamWriter(file, false, new UTF8Encoding(false), 1 << 20);
    writer.WriteLine(string.Join(',', Enumerable.Range(0, 12).Select(i => $"n{i}").Concat(Enumerable.Range(0, 7).Select(i => $"c{i}")).Append("label")));
    var line = new StringBuilder();
    for (var r = 0; r < rows; r++)
    {
        line.Clear();
        for (var i = 0; i < 12; i++)
        {
            var value = i % 3 == 0 ? random.Next(0, 1000) : Math.Round((random.NextDouble() * 200) - 50, 3);
            line.Append(value.ToString(CultureInfo.InvariantCulture)).Append(',');
        }

        for (var i = 0; i < 7; i++)
        {
            line.Append(categories[i][random.Next(categories[i].Length)]).Append(',');
        }

        line.Append(random.Next(2));
        writer.WriteLine(line);
    }

    return 0;
}

static int Parse(string file)
{
    var clock = Stopwatch.StartNew();
    long rows = 0;
    long chars = 0;
    using (var reader = Sep.New(',').Reader(o => o with { Unescape = true }).FromFile(file))
    {
        foreach (var row in reader)
        {
            rows++;
            for (var i = 0; i < row.ColCount; i++)
            {
                chars += row[i].Span.Length;
            }
        }
    }

    Report("parse", file, rows, clock.Elapsed);
    return chars > 0 ? 0 : 1;
}

static int ParseTyped(string file)
{
    var clock = Stopwatch.StartNew();
    long rows = 0;
    double sum = 0;
    long chars = 0;
    using (var reader = Sep.New(',').Reader(o => o with { Unescape = true }).FromFile(file))
    {
        foreach (var row in reader)
        {
            rows++;
            for (var i = 0; i < 12; i++)
            {
                sum += row[i].Parse<double>();
            }

            for (var i = 12; i < row.ColCount; i++)
            {
                chars += row[i].ToString().Length;
            }
        }
    }

    Report("parse-typed", file, rows, clock.Elapsed);
    return sum != 0 && chars > 0 ? 0 : 1;
}

static async Task<int> Validate(string file)
{
    var spec = new ModelSpec
    {
        Name = "bench",
        Task = ModelTasks.Binary,
        Label = "label",
        Features = Enumerable.Range(0, 12).Select(i => new FeatureSpec { Name = $"n{i}", Type = FeatureTypes.Numeric, Range = new RangeSpec(-100, 1000) })
            .Concat(Enumerable.Range(0, 7).Select(i => new FeatureSpec { Name = $"c{i}", Type = FeatureTypes.Categorical })).ToList(),
    };
    var clock = Stopwatch.StartNew();
    ValidationReport report;
    await using (var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan))
    {
        report = await DatasetValidator.ValidateAsync(stream, spec, null, CancellationToken.None);
    }

    Report("validate", file, report.RowCount, clock.Elapsed);
    return report.Profile is null ? 1 : 0;
}

// The run's data work on a file with a model's spec, three ways: validation alone, the split alone
// (what a run did after validation before the one pass), and validation that splits as it reads.
static async Task<int> OnePass(string file, string specFile)
{
    var spec = ModelSpecValidator.Parse(File.ReadAllText(specFile)).Spec ?? throw new InvalidDataException($"{specFile} is not a valid spec.");
    var folder = Directory.CreateTempSubdirectory("one-pass-");
    try
    {
        StreamWriter Partition(string name) => new(Path.Combine(folder.FullName, name + ".csv"), false, new System.Text.UTF8Encoding(false));
        FileStream Open() => new(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);

        var clock = Stopwatch.StartNew();
        ValidationReport report;
        await using (var stream = Open())
        {
            report = await DatasetValidator.ValidateAsync(stream, spec, null, CancellationToken.None);
        }

        Report("validate", file, report.RowCount, clock.Elapsed);
        clock.Restart();
        using (var reader = new StreamReader(Open()))
        using (var train = Partition("train"))
        using (var validation = Partition("validation"))
        using (var test = Partition("test"))
        {
            DatasetSplitter.Split(reader, spec.Split, train, validation, test);
        }

        Report("split", file, report.RowCount, clock.Elapsed);
        clock.Restart();
        await using (var stream = Open())
        using (var train = Partition("train"))
        using (var validation = Partition("validation"))
        using (var test = Partition("test"))
        {
            report = await DatasetValidator.ValidateAsync(stream, spec, null, CancellationToken.None, partitions: new PartitionWriter(spec.Split, train, validation, test));
        }

        Report("validate+split", file, report.RowCount, clock.Elapsed);
        return report.Split is null ? 1 : 0;
    }
    finally
    {
        folder.Delete(recursive: true);
    }
}

static void Report(string mode, string file, long rows, TimeSpan elapsed)
{
    var megabytes = new FileInfo(file).Length / 1e6;
    var peak = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))?.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1] ?? "0";
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{mode}\t{rows}\t{elapsed.TotalSeconds:F2}\t{megabytes / elapsed.TotalSeconds:F1}\t{long.Parse(peak, CultureInfo.InvariantCulture) / 1024}"));
}

