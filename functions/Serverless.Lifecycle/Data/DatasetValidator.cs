using System.Globalization;
using System.Security.Cryptography;
using nietras.SeparatedValues;
using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Data;

/// <summary>
/// Decides whether a CSV dataset can be trained on: required columns present, numeric values
/// that parse, a label the task understands, enough rows. Streams the file once and checks its
/// SHA-256 in the same pass. (Full quality checks and profiling build on this.)
/// </summary>
public static class DatasetValidator
{
    public const int MinimumRows = 30;
    private const int MaxExamples = 5;

    public static async Task<ValidationReport> ValidateAsync(Stream csv, ModelSpec spec, string? expectedSha256, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(csv);
        ArgumentNullException.ThrowIfNull(spec);

        using var sha = SHA256.Create();
        var problems = new List<DataProblem>();
        long rows = 0;
        await using (var hashing = new CryptoStream(csv, sha, CryptoStreamMode.Read, leaveOpen: true))
        {
            rows = CheckRows(hashing, spec, problems, cancellationToken);

            // Drain what the reader did not need so the hash covers the whole file.
            await hashing.CopyToAsync(Stream.Null, cancellationToken);
        }

        var actual = Convert.ToHexStringLower(sha.Hash!);
        if (expectedSha256 is not null && !string.Equals(actual, expectedSha256, StringComparison.OrdinalIgnoreCase))
        {
            problems.Add(new DataProblem("*", "identity", $"The file's SHA-256 is {actual} but the dataset version says {expectedSha256}: it changed after upload.", []));
        }

        return new ValidationReport(problems.Count == 0, rows, problems);
    }

    private static long CheckRows(Stream csv, ModelSpec spec, List<DataProblem> problems, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(csv, leaveOpen: true);
        SepReader sep;
        try
        {
            sep = Sep.New(',').Reader(o => o with { Unescape = true, DisableColCountCheck = true }).From(reader);
        }
        catch (Exception ex) when (ex is InvalidDataException or ArgumentException)
        {
            problems.Add(new DataProblem("*", "format", $"The file could not be read as CSV: {ex.Message}", []));
            return 0;
        }

        using (sep)
        {
            if (sep.Header.IsEmpty)
            {
                problems.Add(new DataProblem("*", "header", "The file is empty: expected a header row naming the columns.", []));
                return 0;
            }

            var columns = sep.Header.ColNames;
            var index = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < columns.Count; i++)
            {
                if (!index.TryAdd(columns[i], i))
                {
                    problems.Add(new DataProblem(columns[i], "duplicate-column", $"The header names '{columns[i]}' twice.", [1]));
                }
            }

            var checks = new List<ColumnCheck>();
            foreach (var feature in spec.Features)
            {
                if (index.TryGetValue(feature.Name, out var at))
                {
                    checks.Add(new ColumnCheck(feature.Name, at, feature.IsNumeric ? ColumnKind.Numeric : ColumnKind.Categorical));
                }
                else
                {
                    problems.Add(new DataProblem(feature.Name, "missing-column", $"Required feature column '{feature.Name}' is not in the header ({string.Join(",", columns)}).", [1]));
                }
            }

            if (index.TryGetValue(spec.Label, out var labelAt))
            {
                checks.Add(new ColumnCheck(spec.Label, labelAt, ColumnKind.BinaryLabel));
            }
            else
            {
                problems.Add(new DataProblem(spec.Label, "missing-column", $"The label column '{spec.Label}' is not in the header ({string.Join(",", columns)}).", [1]));
            }

            if (problems.Count > 0)
            {
                return 0;
            }

            var shortRows = new List<int>();
            long shortRowCount = 0;
            long rows = 0;
            foreach (var row in sep)
            {
                cancellationToken.ThrowIfCancellationRequested();
                rows++;
                var line = row.LineNumberFrom;
                if (row.ColCount < columns.Count)
                {
                    shortRowCount++;
                    if (shortRows.Count < MaxExamples)
                    {
                        shortRows.Add(line);
                    }

                    continue;
                }

                foreach (var check in checks)
                {
                    check.Inspect(row[check.Index].Span, line);
                }
            }

            if (shortRowCount > 0)
            {
                problems.Add(new DataProblem("*", "column-count", $"{shortRowCount} row(s) have fewer than the header's {columns.Count} columns.", shortRows));
            }

            problems.AddRange(checks.SelectMany(c => c.Problems()));
            if (rows < MinimumRows)
            {
                problems.Add(new DataProblem("*", "row-count", $"The file has {rows} data row(s); at least {MinimumRows} are needed to split, train and evaluate.", []));
            }

            return rows;
        }
    }

    private enum ColumnKind
    {
        Numeric,
        Categorical,
        BinaryLabel,
    }

    private sealed class ColumnCheck(string name, int index, ColumnKind kind)
    {
        private readonly List<int> badLines = [];
        private long badCount;
        private long missingCount;
        private readonly List<int> missingLines = [];

        public int Index => index;

        public void Inspect(ReadOnlySpan<char> value, int line)
        {
            if (value.Trim().IsEmpty)
            {
                missingCount++;
                if (missingLines.Count < MaxExamples)
                {
                    missingLines.Add(line);
                }

                return;
            }

            var ok = kind switch
            {
                ColumnKind.Numeric => float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && float.IsFinite(number),
                ColumnKind.BinaryLabel => LabelValues.TryParseBinary(value, out _),
                _ => true,
            };
            if (!ok)
            {
                badCount++;
                if (badLines.Count < MaxExamples)
                {
                    badLines.Add(line);
                }
            }
        }

        public IEnumerable<DataProblem> Problems()
        {
            if (badCount > 0)
            {
                yield return kind == ColumnKind.BinaryLabel
                    ? new DataProblem(name, "label-value", $"{badCount} row(s) have a label that is not 0/1 or true/false.", badLines)
                    : new DataProblem(name, "type", $"{badCount} row(s) have a value that is not a finite number.", badLines);
            }

            if (kind == ColumnKind.BinaryLabel && missingCount > 0)
            {
                yield return new DataProblem(name, "label-missing", $"{missingCount} row(s) have no label.", missingLines);
            }
        }
    }
}
