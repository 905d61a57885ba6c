using System.IO.Hashing;
using System.Runtime.InteropServices;
using nietras.SeparatedValues;
using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Data;

public sealed record SplitCounts(long Train, long Validation, long Test);

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
        var writers = new[] { train, validation, test };
        var counts = new long[3];
        var headerLine = string.Join(',', header.Select(Quote));
        foreach (var writer in writers)
        {
            await writer.WriteLineAsync(headerLine);
        }

        await foreach (var row in rows.WithCancellation(cancellationToken))
        {
            var line = string.Join(',', row.Select(Quote));
            var partition = (int)Assign(line, split);
            await writers[partition].WriteLineAsync(line);
            counts[partition]++;
        }

        return new SplitCounts(counts[0], counts[1], counts[2]);
    }

    /// <summary>A field as RFC 4180 writes it: quoted when it holds a comma, a quote or a line break.</summary>
    public static string Quote(string? field) =>
        field is null ? "" : field.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : field;

    /// <summary>Reads <paramref name="csv"/> once and writes each row, with the header, to its partition's writer.</summary>
    public static SplitCounts Split(TextReader csv, SplitSpec split, TextWriter train, TextWriter validation, TextWriter test)
    {
        ArgumentNullException.ThrowIfNull(csv);
        using var reader = Sep.New(',').Reader(o => o with { Unescape = false, DisableColCountCheck = true }).From(csv);
        var header = reader.Header.ColNames;
        var writers = new[] { train, validation, test };
        var counts = new long[3];
        foreach (var writer in writers)
        {
            writer.WriteLine(string.Join(',', header));
        }

        foreach (var row in reader)
        {
            var partition = (int)Assign(row.Span, split);
            writers[partition].Write(row.Span);
            writers[partition].WriteLine();
            counts[partition]++;
        }

        return new SplitCounts(counts[0], counts[1], counts[2]);
    }
}
