using System.Globalization;
using nietras.SeparatedValues;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Scoring;
using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Evaluation;

/// <summary>
/// Rows of a (validated) CSV split read into a <see cref="FeatureBatch"/> with their labels, in
/// the array of the spec's task: <see cref="Labels"/> (binary), <see cref="Classes"/>
/// (multiclass) or <see cref="Values"/> (regression). The other two arrays are empty.
/// </summary>
public sealed record LabeledBatch(FeatureBatch Features, bool[] Labels, string[] Classes, float[] Values)
{
    public int Rows => Features.Rows;

    /// <summary>A copy of the given rows (in that order) with their labels.</summary>
    public LabeledBatch Subset(IReadOnlyList<int> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var features = new FeatureBatch(Features.Spec, rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            Features.CopyRowTo(rows[i], features, i);
        }

        T[] Pick<T>(T[] labels) => labels.Length == 0 ? labels : [.. rows.Select(r => labels[r])];
        return new LabeledBatch(features, Pick(Labels), Pick(Classes), Pick(Values));
    }

    /// <summary>
    /// Reads the split's rows, or only its first <paramref name="maxRows"/> when given. Labels are
    /// parsed unless <paramref name="readLabels"/> is false (the trainer's parity check needs the
    /// features only); a label that does not fit the task is an <see cref="InvalidDataException"/>
    /// naming its line.
    /// </summary>
    public static LabeledBatch ReadCsv(TextReader csv, ModelSpec spec, int maxRows = int.MaxValue, bool readLabels = true)
    {
        ArgumentNullException.ThrowIfNull(spec);
        using var reader = Sep.New(',').Reader(o => o with { Unescape = true }).From(csv);
        var rows = new List<string[]>();
        var binary = new List<bool>();
        var classes = new List<string>();
        var values = new List<float>();
        var columns = spec.Features.Select(f => reader.Header.IndexOf(f.Name)).ToArray();
        var labelColumn = reader.Header.IndexOf(spec.Label);
        foreach (var row in reader)
        {
            if (rows.Count >= maxRows)
            {
                break;
            }

            if (readLabels)
            {
                var label = row[labelColumn].Span;
                var parsed = spec.Task switch
                {
                    ModelTasks.Multiclass => AddClass(label, classes),
                    ModelTasks.Regression => AddValue(label, values),
                    _ => AddBinary(label, binary),
                };
                if (!parsed)
                {
                    throw new InvalidDataException($"Line {row.LineNumberFrom}: label '{label.ToString()}' is not {LabelValues.Expected(spec.Task)}.");
                }
            }

            var fields = new string[columns.Length];
            for (var c = 0; c < columns.Length; c++)
            {
                fields[c] = row[columns[c]].ToString();
            }

            rows.Add(fields);
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

        return new LabeledBatch(batch, binary.ToArray(), classes.ToArray(), values.ToArray());
    }

    private static bool AddBinary(ReadOnlySpan<char> text, List<bool> labels)
    {
        var ok = LabelValues.TryParseBinary(text, out var label);
        labels.Add(label);
        return ok;
    }

    private static bool AddClass(ReadOnlySpan<char> text, List<string> labels)
    {
        var trimmed = text.Trim();
        labels.Add(trimmed.ToString());
        return !trimmed.IsEmpty;
    }

    private static bool AddValue(ReadOnlySpan<char> text, List<float> labels)
    {
        var ok = LabelValues.TryParseValue(text, out var value);
        labels.Add((float)value);
        return ok;
    }
}
