using System.Globalization;
using System.Runtime.CompilerServices;
using Parquet;
using Parquet.Schema;

namespace Serverless.Lifecycle.Data;

/// <summary>
/// Reads a flat Parquet file row group by row group (Parquet.Net), yielding each row's fields as
/// invariant text, so Parquet datasets go through the same checks and the same CSV partitions as
/// CSV ones. Memory holds one row group at a time.
/// </summary>
public static class ParquetRows
{
    public static IReadOnlyList<string> ReadHeader(ParquetReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        if (reader.Schema.Fields.Any(f => f is not DataField { IsArray: false }))
        {
            throw new InvalidDataException("Only flat Parquet schemas (no lists, maps or structs) can be datasets.");
        }

        return reader.Schema.GetDataFields().Select(f => f.Name).ToList();
    }

    /// <summary>Every row, as one string per column (null where the value is null).</summary>
    public static async IAsyncEnumerable<string?[]> ReadRowsAsync(ParquetReader reader, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var fields = reader.Schema.GetDataFields();
        for (var group = 0; group < reader.RowGroupCount; group++)
        {
            using var rowGroup = reader.OpenRowGroupReader(group);
            var rows = checked((int)rowGroup.RowCount);
            var columns = new string?[fields.Length][];
            for (var c = 0; c < fields.Length; c++)
            {
                columns[c] = await ReadColumnAsync(rowGroup, fields[c], rows, cancellationToken);
            }

            for (var r = 0; r < rows; r++)
            {
                var row = new string?[fields.Length];
                for (var c = 0; c < fields.Length; c++)
                {
                    row[c] = columns[c][r];
                }

                yield return row;
            }
        }
    }

    private static async Task<string?[]> ReadColumnAsync(ParquetRowGroupReader rowGroup, DataField field, int rows, CancellationToken cancellationToken)
    {
        var type = Nullable.GetUnderlyingType(field.ClrType) ?? field.ClrType;
        if (type == typeof(string) || type == typeof(ReadOnlyMemory<char>))
        {
            var strings = new string?[rows];
            await rowGroup.ReadAsync(field, strings.AsMemory(), null, cancellationToken);
            return strings;
        }

        return Type.GetTypeCode(type) switch
        {
            TypeCode.Double => await ReadAsync<double>(rowGroup, field, rows, v => v.ToString("R", CultureInfo.InvariantCulture), cancellationToken),
            TypeCode.Single => await ReadAsync<float>(rowGroup, field, rows, v => v.ToString("R", CultureInfo.InvariantCulture), cancellationToken),
            TypeCode.Int32 => await ReadAsync<int>(rowGroup, field, rows, v => v.ToString(CultureInfo.InvariantCulture), cancellationToken),
            TypeCode.Int64 => await ReadAsync<long>(rowGroup, field, rows, v => v.ToString(CultureInfo.InvariantCulture), cancellationToken),
            TypeCode.Int16 => await ReadAsync<short>(rowGroup, field, rows, v => v.ToString(CultureInfo.InvariantCulture), cancellationToken),
            TypeCode.Byte => await ReadAsync<byte>(rowGroup, field, rows, v => v.ToString(CultureInfo.InvariantCulture), cancellationToken),
            TypeCode.SByte => await ReadAsync<sbyte>(rowGroup, field, rows, v => v.ToString(CultureInfo.InvariantCulture), cancellationToken),
            TypeCode.Decimal => await ReadAsync<decimal>(rowGroup, field, rows, v => v.ToString(CultureInfo.InvariantCulture), cancellationToken),
            TypeCode.Boolean => await ReadAsync<bool>(rowGroup, field, rows, v => v ? "true" : "false", cancellationToken),
            _ => throw new InvalidDataException($"Column '{field.Name}' has Parquet type {type.Name}, which datasets do not support (numbers, booleans and strings are)."),
        };
    }

    private static async Task<string?[]> ReadAsync<T>(ParquetRowGroupReader rowGroup, DataField field, int rows, Func<T, string> format, CancellationToken cancellationToken)
        where T : struct
    {
        var text = new string?[rows];
        if (field.IsNullable)
        {
            var values = new T?[rows];
            await rowGroup.ReadAsync(field, values.AsMemory(), null, cancellationToken);
            for (var i = 0; i < rows; i++)
            {
                text[i] = values[i] is { } value ? format(value) : null;
            }
        }
        else
        {
            var values = new T[rows];
            await rowGroup.ReadAsync(field, values.AsMemory(), null, cancellationToken);
            for (var i = 0; i < rows; i++)
            {
                text[i] = format(values[i]);
            }
        }

        return text;
    }
}
