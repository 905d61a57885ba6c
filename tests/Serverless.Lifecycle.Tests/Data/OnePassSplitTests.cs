using System.Text;
using nietras.SeparatedValues;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Specs;
using Serverless.Samples.Churn;
using Serverless.Tests;
using Serverless.Trainer;

namespace Serverless.Lifecycle.Tests.Data;

/// <summary>
/// Validation that also splits (one read of the dataset): the partitions are, byte for byte, what
/// the splitter alone writes from the same file, in CSV (quoted fields with commas, quotes and line
/// breaks, CRLF endings, on every core) and Parquet, and the training partition's labels are counted
/// as the trainer would find them.
/// </summary>
public sealed class OnePassSplitTests
{
    private static readonly ModelSpec Spec = ModelSpecValidator.Parse(File.ReadAllText(RepoPaths.SampleSpec)).Spec!;

    private sealed record Partitions(string Train, string Validation, string Test);

    private static async Task<(ValidationReport Report, Partitions Written)> ValidateAndSplitAsync(byte[] bytes, ModelSpec spec, DatasetFormat format = DatasetFormat.Csv)
    {
        using var train = new StringWriter();
        using var validation = new StringWriter();
        using var test = new StringWriter();
        var report = await DatasetValidator.ValidateAsync(new MemoryStream(bytes), spec, null, CancellationToken.None, null, format, new PartitionWriter(spec.Split, train, validation, test));
        return (report, new Partitions(train.ToString(), validation.ToString(), test.ToString()));
    }

    private static (SplitCounts Counts, Partitions Written) SplitAlone(string csv, ModelSpec spec)
    {
        using var train = new StringWriter();
        using var validation = new StringWriter();
        using var test = new StringWriter();
        var counts = DatasetSplitter.Split(new StringReader(csv), spec.Split, train, validation, test);
        return (counts, new Partitions(train.ToString(), validation.ToString(), test.ToString()));
    }

    /// <summary>The training partition's labels counted from its own text, as the trainer would read them.</summary>
    private static LabelFacts Facts(string trainCsv, int labelColumn, Func<string, string?> value)
    {
        var labels = ReadRows(trainCsv).Select(r => value(r[labelColumn])).ToList();
        var usable = labels.Where(l => l is not null).Distinct(StringComparer.Ordinal).Count();
        return new LabelFacts(labels.Count, Math.Min(usable, 2), labels.Count(l => l is null));
    }

    private static List<string[]> ReadRows(string csv)
    {
        using var reader = Sep.Reader(o => o with { Unescape = true }).From(new StringReader(csv));
        var rows = new List<string[]>();
        foreach (var row in reader)
        {
            var fields = new string[row.ColCount];
            for (var i = 0; i < fields.Length; i++)
            {
                fields[i] = row[i].ToString();
            }

            rows.Add(fields);
        }

        return rows;
    }

    [Fact]
    public async Task Csv_WithQuotedCommasQuotesAndLineBreaks_CrLf_SplitsByteForByteAsTheSplitterAlone()
    {
        // A feature the spec does not read carries the awkward text; 30,000 rows make several parallel chunks.
        var lines = ChurnDataGenerator.Generate(30_000, seed: 71).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var csv = new StringBuilder("note," + lines[0] + "\r\n");
        for (var i = 1; i < lines.Length; i++)
        {
            var note = (i % 4) switch
            {
                0 => "\"a, b\"",
                1 => "\"she said \"\"no\"\"\"",
                2 => "\"two\nlines\"",
                _ => "plain",
            };
            csv.Append(note).Append(',').Append(lines[i]).Append("\r\n");
        }

        var text = csv.ToString();
        var (report, written) = await ValidateAndSplitAsync(Encoding.UTF8.GetBytes(text), Spec);
        var (counts, alone) = SplitAlone(text, Spec);

        Assert.True(report.IsValid, string.Join("; ", report.Findings.Select(f => f.Message)));
        Assert.Equal(alone, written);
        Assert.Equal(counts with { TrainLabels = report.Split!.TrainLabels }, report.Split);
        Assert.Equal(lines.Length - 1, counts.Train + counts.Validation + counts.Test);
        var label = lines[0].Split(',').Length;
        Assert.Equal(Facts(written.Train, label, v => v.Trim() is "1" or "true" ? "1" : v.Trim() is "0" or "false" ? "0" : null), report.Split.TrainLabels);
    }

    [Fact]
    public async Task Parquet_SplitsAsTheSplitterAloneDoesFromItsRows()
    {
        var csv = ChurnDataGenerator.Generate(2_000, seed: 72);
        var bytes = await ParquetFixtures.FromChurnCsvAsync(csv, rowGroupSize: 700);
        await using var reader = await Parquet.ParquetReader.CreateAsync(new MemoryStream(bytes));
        using var train = new StringWriter();
        using var validation = new StringWriter();
        using var test = new StringWriter();
        var counts = await DatasetSplitter.SplitAsync(ParquetRows.ReadHeader(reader), ParquetRows.ReadRowsAsync(reader, CancellationToken.None), Spec.Split, train, validation, test, CancellationToken.None);

        var (report, written) = await ValidateAndSplitAsync(bytes, Spec, DatasetFormat.Parquet);

        Assert.Equal(new Partitions(train.ToString(), validation.ToString(), test.ToString()), written);
        Assert.Equal((counts.Train, counts.Validation, counts.Test), (report.Split!.Train, report.Split.Validation, report.Split.Test));
        Assert.Equal(counts.Train, report.Split.TrainLabels!.Rows);
    }

    [Theory]
    [InlineData(ModelTasks.Multiclass, "internet_service")]
    [InlineData(ModelTasks.Regression, "monthly_charges")]
    public async Task OtherTasks_TheTrainingLabelsAreCountedAsTheTaskReadsThem(string task, string label)
    {
        var spec = Spec with
        {
            Task = task,
            Label = label,
            Features = [.. Spec.Features.Where(f => f.Name != label)],
            Evaluation = new EvaluationSpec(),
        };
        var csv = ChurnDataGenerator.Generate(3_000, seed: 73);

        var (report, written) = await ValidateAndSplitAsync(Encoding.UTF8.GetBytes(csv), spec);

        var column = Array.IndexOf(ChurnDataGenerator.Header.Split(','), label);
        Assert.Equal(Facts(written.Train, column, v => v.Trim().Length == 0 ? null : v.Trim()), report.Split!.TrainLabels);
        Assert.Equal(2, report.Split.TrainLabels!.DistinctValues);
    }

    [Fact]
    public async Task ARejectedFile_HasNoSplit()
    {
        var (report, _) = await ValidateAndSplitAsync(Encoding.UTF8.GetBytes("a;b;c\n1;2;3\n"), Spec);

        Assert.False(report.IsValid);
        Assert.Null(report.Split);
    }

    [Theory]
    [InlineData(ModelTasks.Binary, 100, 1, 0, "only one class")]
    [InlineData(ModelTasks.Multiclass, 100, 1, 0, "at least two")]
    [InlineData(ModelTasks.Regression, 100, 2, 3, "3 missing or not finite")]
    [InlineData(ModelTasks.Regression, 100, 1, 0, "not all equal")]
    public void Trainer_ChecksCountedLabels_WithTheWordsItUsesForTheSplitItReads(string task, long rows, int distinct, long notUsable, string expected)
    {
        var spec = Spec with { Task = task };

        var error = Assert.Throws<TrainingFailedException>(() => TrainingLabels.Check(spec, new LabelFacts(rows, distinct, notUsable)));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{spec.Label}'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ModelTasks.Binary)]
    [InlineData(ModelTasks.Multiclass)]
    [InlineData(ModelTasks.Regression)]
    public void Trainer_AcceptsCountedLabelsThatCanTrain(string task) =>
        TrainingLabels.Check(Spec with { Task = task }, new LabelFacts(100, 2, 0));
}
