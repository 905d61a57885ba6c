using System.Globalization;
using nietras.SeparatedValues;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Data;

/// <summary>Rows of a (validated) CSV split read into a <see cref="FeatureBatch"/> with their labels.</summary>
public sealed record LabeledBatch(FeatureBatch Features, bool[] Labels)
{
    /// <summary>
    /// Reads the split's rows, or only its first <paramref name="maxRows"/> when given. Binary
    /// labels are parsed unless <paramref name="binaryLabels"/> is false (other tasks' labels are
    /// left to their trainer), in which case <see cref="Labels"/> is empty.
    /// </summary>
    public static LabeledBatch ReadCsv(TextReader csv, ModelSpec spec, int maxRows = int.MaxValue, bool binaryLabels = true)
    {
        ArgumentNullException.ThrowIfNull(spec);
        using var reader = Sep.New(',').Reader(o => o with { Unescape = true }).From(csv);
        var rows = new List<string[]>();
        var labels = new List<bool>();
        var columns = spec.Features.Select(f => reader.Header.IndexOf(f.Name)).ToArray();
        var labelColumn = reader.Header.IndexOf(spec.Label);
        foreach (var row in reader)
        {
            if (rows.Count >= maxRows)
            {
                break;
            }

            if (binaryLabels)
            {
                if (!LabelValues.TryParseBinary(row[labelColumn].Span, out var label))
                {
                    throw new InvalidDataException($"Line {row.LineNumberFrom}: label '{row[labelColumn].ToString()}' is not 0/1 or true/false.");
                }

                labels.Add(label);
            }

            var values = new string[columns.Length];
            for (var c = 0; c < columns.Length; c++)
            {
                values[c] = row[columns[c]].ToString();
            }

            rows.Add(values);
        }

        if (rows.Count == 0)
        {
            throw new InvalidDataException("The split has no rows.");
        }

        var batch = new FeatureBatch(spec, rows.Count);
        for (var f = 0; f < spec.Features.Count; f++)
        {
            var feature = spec.Features[f];
            for (var r = 0; r < rows.Count; r++)
            {
                var text = rows[r][f];
                if (feature.IsNumeric)
                {
                    batch.SetNumeric(feature.Name, r, string.IsNullOrWhiteSpace(text) ? float.NaN : float.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture));
                }
                else
                {
                    batch.SetCategorical(feature.Name, r, text);
                }
            }
        }

        return new LabeledBatch(batch, labels.ToArray());
    }
}
