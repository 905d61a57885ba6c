using System.IO.Hashing;
using System.Runtime.InteropServices;
using nietras.SeparatedValues;
using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Data;

/// <summary>Rows per partition, and the training partition's labels when the validation pass counted them.</summary>
public sealed record SplitCounts(long Train, long Validation, long Test, LabelFacts? TrainLabels = null);

/// <summary>
/// What the one pass over a dataset saw of one partition's labels, so a trainer can check them
/// without reading the partition again: the rows, how many distinct label values there are (counted
/// up to two: enough to tell one class or one target value from several), and how many labels are
/// missing, not a label the task reads, or not finite.
/// </summary>
public sealed record LabelFacts(long Rows, int DistinctValues, long NotUsable);

/// <summary>
/// Writes rows to their partitions in the order they come, each partition a CSV with the header:
/// the writer behind every split (the one pass of validation, the split of an older run, the
/// conformance kit).
/// </summary>
public sealed class PartitionWriter(SplitSpec split, TextWriter train, TextWriter validation, TextWriter test)
{
    private readonly TextWriter[] writers = [train, validation, test];
    private readonly long[] counts = new long[3];

    public SplitCounts Counts => new(counts[0], counts[1], counts[2]);

    public SplitSpec Split => split;

    public void WriteHeader(ReadOnlySpan<char> header)
    {
        foreach (var writer in writers)
        {
            writer.Write(header);
            writer.WriteLine();
        }
    }

    /// <summary>Writes the row (its text as it is in the file) to the partition <see cref="DatasetSplitter.Assign"/> gives it.</summary>
    public void Write(ReadOnlySpan<char> row) => Write(row, DatasetSplitter.Assign(row, split));

    /// <summary>Writes the row to <paramref name="partition"/>, already assigned from the same text.</summary>
    public void Write(ReadOnlySpan<char> row, DatasetSplitter.Partition partition)
    {
        var writer = writers[(int)partition];
        writer.Write(row);
        writer.WriteLine();
        counts[(int)partition]++;
    }
}

/// <summary>
/// Deterministic, seeded split into train / validation / test. A row's partition depends only
/// on the seed and the row's own text (XxHash3), not on its position or on a random generator:
/// the same file always splits the same way, and identical rows always land in the same
/// partition, so a duplicate can never leak from training into the test set.
/// </summary>
public static class DatasetSplitter
{
    public enum Partition
    {
        Train,
        Validation,
        Test,
    }

    public static Partition Assign(ReadOnlySpan<char> rowText, SplitSpec split)
    {
        ArgumentNullException.ThrowIfNull(split);
        var hash = XxHash3.HashToUInt64(MemoryMarshal.AsBytes(rowText), split.Seed);
        var u = (hash >> 11) * (1.0 / (1UL << 53));
        if (u < split.Train)
        {
            return Partition.Train;
        }

        return u < split.Train + split.Validation ? Partition.Validation : Partition.Test;
    }

    /// <summary>
    /// Splits rows that arrive as fields (Parquet), writing them as RFC 4180 CSV: the partitions
    /// are CSV whatever the upload's format, so the trainer reads one format.
    /// </summary>
    public static async Task<SplitCounts> SplitAsync(
        IReadOnlyList<string> header, IAsyncEnumerable<string?[]> rows, SplitSpec split, TextWriter train, TextWriter validation, TextWriter test, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(rows);
        var writer = new PartitionWriter(split, train, validation, test);
        writer.WriteHeader(Line(header));
        await foreach (var row in rows.WithCancellation(cancellationToken))
        {
            writer.Write(Line(row));
        }

        return writer.Counts;
    }

    /// <summary>Fields (a Parquet row) as one RFC 4180 CSV line.</summary>
    public static string Line(IEnumerable<string?> fields) => string.Join(',', fields.Select(Quote));

    /// <summary>A field as RFC 4180 writes it: quoted when it holds a comma, a quote or a line break.</summary>
    public static string Quote(string? field) =>
        field is null ? "" : field.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : field;

    /// <summary>Reads <paramref name="csv"/> once and writes each row, with the header, to its partition's writer.</summary>
    public static SplitCounts Split(TextReader csv, SplitSpec split, TextWriter train, TextWriter validation, TextWriter test)
    {
        ArgumentNullException.ThrowIfNull(csv);
        using var reader = Sep.New(',').Reader(o => o with { Unescape = false, DisableColCountCheck = true }).From(csv);
        var writer = new PartitionWriter(split, train, validation, test);
        writer.WriteHeader(string.Join(',', reader.Header.ColNames));
        foreach (var row in reader)
        {
            writer.Write(row.Span);
        }

        return writer.Counts;
    }
}
