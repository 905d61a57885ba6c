using System.Globalization;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using nietras.SeparatedValues;
using Serverless.Lifecycle.Data.Profiling;
using Serverless.Lifecycle.Monitoring;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Statistics;

namespace Serverless.Lifecycle.Data;

/// <summary>
/// Decides whether a CSV or Parquet dataset can be trained on and profiles it, in one streaming pass with
/// bounded memory: schema, parse errors, quality (missing, ranges, NaN/Inf, categories,
/// constants, duplicates, labels, class balance, row count), value skew against the previous
/// accepted dataset, and the SHA-256 of the bytes. Each finding says in one line what is wrong.
/// Given a <see cref="PartitionWriter"/>, the same pass also splits the rows into train, validation
/// and test (in the file's order) and counts the training partition's labels, so a run reads its
/// dataset once for all of it.
/// </summary>
public static class DatasetValidator
{
    private static readonly char[] OtherDelimiters = [';', '\t', '|'];

    public static async Task<ValidationReport> ValidateAsync(
        Stream csv, ModelSpec spec, string? expectedSha256, CancellationToken cancellationToken, DatasetProfile? previous = null, DatasetFormat format = DatasetFormat.Csv,
        PartitionWriter? partitions = null)
    {
        ArgumentNullException.ThrowIfNull(csv);
        ArgumentNullException.ThrowIfNull(spec);

        using var sha = SHA256.Create();
        var findings = new List<DataFinding>();
        Pass? pass;
        if (format == DatasetFormat.Parquet)
        {
            pass = await ReadParquetAsync(csv, sha, spec, findings, partitions, cancellationToken);
        }
        else
        {
            await using var hashing = new CryptoStream(csv, sha, CryptoStreamMode.Read, leaveOpen: true);
            pass = Read(hashing, spec, findings, partitions, cancellationToken);

            // Drain what the reader did not need so the hash covers the whole file.
            await hashing.CopyToAsync(Stream.Null, cancellationToken);
        }

        var actual = Convert.ToHexStringLower(sha.Hash!);
        if (expectedSha256 is not null && !string.Equals(actual, expectedSha256, StringComparison.OrdinalIgnoreCase))
        {
            findings.Add(new DataFinding("*", DataRules.Identity, $"The file changed after upload: its SHA-256 is {actual}, the dataset version says {expectedSha256}.", [], Observed: actual, Expected: expectedSha256));
        }

        DatasetProfile? profile = null;
        if (pass is not null)
        {
            findings.AddRange(pass.Findings(spec));
            profile = pass.Profile(actual);
            if (previous is not null)
            {
                findings.AddRange(SkewFindings(spec, previous, pass));
            }
        }

        return new ValidationReport(!findings.Exists(f => f.IsBlocking), pass?.Rows ?? 0, findings, profile)
        {
            Split = pass is null || partitions is null ? null : partitions.Counts with { TrainLabels = pass.TrainLabels },
        };
    }

    private static Pass? Read(Stream csv, ModelSpec spec, List<DataFinding> findings, PartitionWriter? partitions, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(csv, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, leaveOpen: true);
        try
        {
            // The header is read as a plain row, so duplicate names become a finding rather than an exception.
            using var sep = Sep.New(',').Reader(o => o with { HasHeader = false, Unescape = true, DisableColCountCheck = true }).From(reader);
            if (!sep.MoveNext())
            {
                findings.Add(new DataFinding("*", DataRules.Header, "The file is empty: expected a header row naming the columns.", []));
                return null;
            }

            var header = sep.Current;

            // The header as the file has it, for the partitions (reading its fields unescapes them in place).
            var headerText = partitions is null ? null : header.Span.ToString();
            var columns = new List<string>(header.ColCount);
            for (var i = 0; i < header.ColCount; i++)
            {
                columns.Add(header[i].ToString().Trim());
            }

            if (!CheckHeader(columns, spec, findings))
            {
                return null;
            }

            partitions?.WriteHeader(headerText);

            // Rows are checked on every core: each worker keeps its own accumulators, merged at
            // the end (sums, Welford/Chan moments, sketch buckets, earliest example lines). Sep hands
            // the workers' results back in the file's order, so the partitions are written in it.
            var parts = new System.Collections.Concurrent.ConcurrentBag<Pass>();
            using var local = new ThreadLocal<Pass>(() =>
            {
                var part = new Pass(spec, columns);
                parts.Add(part);
                return part;
            });
            var split = partitions?.Split;
            foreach (var (text, partition) in sep.ParallelEnumerate(row => local.Value!.Add(row, split), Environment.ProcessorCount))
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (text is not null)
                {
                    partitions!.Write(text, partition);
                }
            }

            var pass = new Pass(spec, columns);
            foreach (var part in parts)
            {
                pass.Merge(part);
            }

            return pass;
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
        {
            // Sep reports malformed input (for example an unterminated quote) by throwing; the
            // file is rejected with the reason, and nothing else is affected.
            var reason = ex is AggregateException aggregate ? aggregate.Flatten().InnerExceptions[0].Message : ex.Message;
            findings.Add(new DataFinding("*", DataRules.Format, $"The file could not be read as CSV: {reason}", []));
            return null;
        }
    }

    /// <summary>
    /// Parquet keeps its index at the end of the file, so the bytes are first copied to a temporary
    /// file (hashing them on the way, in bounded memory) and then read row group by row group.
    /// Example "lines" of Parquet findings are row numbers, counting the first row as 1.
    /// </summary>
    private static async Task<Pass?> ReadParquetAsync(Stream source, SHA256 sha, ModelSpec spec, List<DataFinding> findings, PartitionWriter? partitions, CancellationToken cancellationToken)
    {
        var file = Path.GetTempFileName();
        try
        {
            await using (var copy = new FileStream(file, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            await using (var hashing = new CryptoStream(source, sha, CryptoStreamMode.Read, leaveOpen: true))
            {
                await hashing.CopyToAsync(copy, cancellationToken);
            }

            if (new FileInfo(file).Length == 0)
            {
                findings.Add(new DataFinding("*", DataRules.Header, "The file is empty: a Parquet dataset needs a schema and rows.", []));
                return null;
            }

            await using var stream = File.OpenRead(file);
            await using var reader = await Parquet.ParquetReader.CreateAsync(stream, cancellationToken: cancellationToken);
            var columns = ParquetRows.ReadHeader(reader);
            if (!CheckHeader(columns, spec, findings))
            {
                return null;
            }

            var pass = new Pass(spec, columns);
            partitions?.WriteHeader(DatasetSplitter.Line(columns));
            var row = 0;
            await foreach (var fields in ParquetRows.ReadRowsAsync(reader, cancellationToken))
            {
                // The partitions are CSV whatever the upload's format, so the trainer reads one format.
                var line = partitions is null ? null : DatasetSplitter.Line(fields);
                DatasetSplitter.Partition? partition = line is null ? null : DatasetSplitter.Assign(line, partitions!.Split);
                pass.AddFields(fields, ++row, partition);
                if (line is not null)
                {
                    partitions!.Write(line, partition!.Value);
                }
            }

            return pass;
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
        {
            // Parquet.Net throws on a truncated or corrupt file; reject it with the reason.
            findings.Add(new DataFinding("*", DataRules.Format, $"The file could not be read as Parquet: {ex.Message}", []));
            return null;
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>Schema checks on the header; false when the rows cannot be read against the spec.</summary>
    private static bool CheckHeader(IReadOnlyList<string> columns, ModelSpec spec, List<DataFinding> findings)
    {
        if (columns.Count == 1 && columns[0].IndexOfAny(OtherDelimiters) >= 0)
        {
            var delimiter = columns[0][columns[0].IndexOfAny(OtherDelimiters)];
            var name = delimiter == '\t' ? "tab" : $"'{delimiter}'";
            findings.Add(new DataFinding("*", DataRules.Delimiter, $"The header looks {name}-separated; datasets must be comma-separated CSV.", [1], Observed: name, Expected: "','"));
            return false;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var column in columns.Where(c => !seen.Add(c)).Distinct())
        {
            findings.Add(new DataFinding(column, DataRules.DuplicateColumn, $"The header names '{column}' more than once.", [1]));
        }

        foreach (var required in spec.Features.Select(f => f.Name).Append(spec.Label).Where(c => !seen.Contains(c)))
        {
            var what = required == spec.Label ? "The label column" : "Required feature column";
            findings.Add(new DataFinding(required, DataRules.MissingColumn, $"{what} '{required}' is not in the header ({string.Join(",", columns)}).", [1], Observed: "absent", Expected: "present"));
        }

        if (spec.Validation.UnexpectedColumns == UnexpectedColumnPolicies.Error)
        {
            var known = spec.Features.Select(f => f.Name).Append(spec.Label).ToHashSet(StringComparer.Ordinal);
            foreach (var extra in seen.Where(c => !known.Contains(c)))
            {
                findings.Add(new DataFinding(extra, DataRules.UnexpectedColumn, $"Column '{extra}' is neither a feature nor the label (validation.unexpectedColumns is error).", [1]));
            }
        }

        return findings.Count == 0;
    }

    private static IEnumerable<DataFinding> SkewFindings(ModelSpec spec, DatasetProfile previous, Pass pass)
    {
        var severity = spec.Validation.Skew.Severity;
        foreach (var feature in spec.Features)
        {
            if (!previous.Features.TryGetValue(feature.Name, out var baseline))
            {
                continue;
            }

            var (baselineCounts, currentCounts) = pass.Rebin(feature, baseline);
            if (baselineCounts is null || currentCounts is null)
            {
                continue;
            }

            var psi = DriftStatistics.Psi(baselineCounts, currentCounts);
            var threshold = spec.Validation.Skew.Features.TryGetValue(feature.Name, out var own) ? own : spec.Validation.Skew.PsiThreshold;
            if (psi > threshold)
            {
                yield return new DataFinding(
                    feature.Name,
                    DataRules.Skew,
                    string.Create(CultureInfo.InvariantCulture, $"'{feature.Name}' shifted against the previous accepted dataset: PSI {psi:F3} > {threshold:G3}."),
                    [],
                    severity,
                    psi.ToString("F4", CultureInfo.InvariantCulture),
                    "<= " + threshold.ToString("G3", CultureInfo.InvariantCulture));
            }
        }
    }

    /// <summary>The state of one pass over the rows.</summary>
    private sealed class Pass
    {
        private readonly ModelSpec spec;
        private readonly int columnCount;
        private readonly (int Index, NumericAccumulator Accumulator)[] numeric;
        private readonly (int Index, CategoricalAccumulator Accumulator)[] categorical;
        private readonly int labelIndex;
        private readonly Examples labelMissing = new();
        private readonly Examples labelInvalid = new();
        private readonly Examples wrongColumnCount = new();
        private readonly DuplicateTracker duplicates = new();
        private readonly ReferenceSample sample = new();
        private readonly CategoricalAccumulator? classes;
        private readonly NumericAccumulator? targets;
        private long positives;
        private long negatives;

        // The training partition's labels, when the pass also splits.
        private long trainRows;
        private long trainNotUsable;
        private string? trainFirstValue;
        private bool trainSeveralValues;
        private bool splitting;

        public Pass(ModelSpec spec, IReadOnlyList<string> columns)
        {
            this.spec = spec;
            columnCount = columns.Count;
            var index = columns.Select((name, i) => (name, i)).GroupBy(c => c.name).ToDictionary(g => g.Key, g => g.First().i, StringComparer.Ordinal);
            numeric = spec.Features.Where(f => f.IsNumeric).Select(f => (index[f.Name], new NumericAccumulator(f))).ToArray();
            categorical = spec.Features.Where(f => !f.IsNumeric).Select(f => (index[f.Name], new CategoricalAccumulator(f))).ToArray();
            labelIndex = index[spec.Label];

            // Multiclass labels are tallied like a categorical feature, regression targets profiled like a numeric one.
            if (spec.Task == ModelTasks.Multiclass)
            {
                classes = new CategoricalAccumulator(new FeatureSpec { Name = spec.Label, Type = FeatureTypes.Categorical });
            }
            else if (spec.Task == ModelTasks.Regression)
            {
                targets = new NumericAccumulator(new FeatureSpec { Name = spec.Label, Type = FeatureTypes.Numeric });
            }
        }

        public long Rows { get; private set; }

        /// <summary>The training partition's labels; null when the pass did not split.</summary>
        public LabelFacts? TrainLabels => splitting ? new LabelFacts(trainRows, trainSeveralValues ? 2 : trainFirstValue is null ? 0 : 1, trainNotUsable) : null;

        /// <summary>
        /// Checks one row. With <paramref name="split"/>, hands back the row's text as the file has it
        /// (taken before its fields are read, which unescapes them in place) and its partition.
        /// </summary>
        public (string? Text, DatasetSplitter.Partition Partition) Add(SepReader.Row row, SplitSpec? split)
        {
            Rows++;
            splitting |= split is not null;
            var text = split is null ? null : row.Span.ToString();
            var partition = text is null ? DatasetSplitter.Partition.Train : DatasetSplitter.Assign(text, split!);
            var line = row.LineNumberFrom;
            if (row.ColCount != columnCount)
            {
                wrongColumnCount.Add(line);
                return (text, partition);
            }

            foreach (var (index, accumulator) in numeric)
            {
                accumulator.Add(row[index].Span, line);
            }

            foreach (var (index, accumulator) in categorical)
            {
                accumulator.Add(row[index].Span, line);
            }

            AddLabel(row[labelIndex].Span, line, text is not null && partition == DatasetSplitter.Partition.Train);
            var hash = XxHash3.HashToUInt64(MemoryMarshal.AsBytes(row.Span));
            duplicates.Add(hash, line);
            if (sample.Wants(hash))
            {
                var fields = new string?[numeric.Length];
                for (var i = 0; i < numeric.Length; i++)
                {
                    fields[i] = row[numeric[i].Index].ToString();
                }

                sample.Add(hash, fields);
            }

            return (text, partition);
        }

        /// <summary>Adds a part of the file read by another worker.</summary>
        public void Merge(Pass other)
        {
            Rows += other.Rows;
            positives += other.positives;
            negatives += other.negatives;
            trainRows += other.trainRows;
            trainNotUsable += other.trainNotUsable;
            trainSeveralValues |= other.trainSeveralValues
                || (trainFirstValue is not null && other.trainFirstValue is not null && !string.Equals(trainFirstValue, other.trainFirstValue, StringComparison.Ordinal));
            trainFirstValue ??= other.trainFirstValue;
            splitting |= other.splitting;
            labelMissing.Merge(other.labelMissing);
            labelInvalid.Merge(other.labelInvalid);
            wrongColumnCount.Merge(other.wrongColumnCount);
            duplicates.Merge(other.duplicates);
            sample.Merge(other.sample);
            classes?.Merge(other.classes!);
            targets?.Merge(other.targets!);
            for (var i = 0; i < numeric.Length; i++)
            {
                numeric[i].Accumulator.Merge(other.numeric[i].Accumulator);
            }

            for (var i = 0; i < categorical.Length; i++)
            {
                categorical[i].Accumulator.Merge(other.categorical[i].Accumulator);
            }
        }

        /// <summary>The same as <see cref="Add(SepReader.Row, SplitSpec?)"/> for a row already split into fields (Parquet).</summary>
        public void AddFields(string?[] fields, int line, DatasetSplitter.Partition? partition)
        {
            Rows++;
            splitting |= partition is not null;
            foreach (var (index, accumulator) in numeric)
            {
                accumulator.Add(fields[index].AsSpan(), line);
            }

            foreach (var (index, accumulator) in categorical)
            {
                accumulator.Add(fields[index].AsSpan(), line);
            }

            AddLabel(fields[labelIndex].AsSpan(), line, partition == DatasetSplitter.Partition.Train);
            var hash = XxHash3.HashToUInt64(MemoryMarshal.AsBytes(string.Join('\u001f', fields).AsSpan()));
            duplicates.Add(hash, line);
            if (sample.Wants(hash))
            {
                sample.Add(hash, [.. numeric.Select(n => fields[n.Index])]);
            }
        }

        private void AddLabel(ReadOnlySpan<char> label, int line, bool inTraining)
        {
            if (label.Trim().IsEmpty)
            {
                labelMissing.Add(line);
            }
            else if (classes is not null)
            {
                classes.Add(label, line);
                if (inTraining)
                {
                    AddTrainLabel(label.Trim());
                    return;
                }
            }
            else if (targets is not null)
            {
                if (LabelValues.TryParseValue(label, out var target))
                {
                    targets.Add(target, line);
                    if (inTraining)
                    {
                        // The value as the shortest text that reads back to it: equal texts, equal values.
                        Span<char> text = stackalloc char[32];
                        target.TryFormat(text, out var written, "R", CultureInfo.InvariantCulture);
                        AddTrainLabel(text[..written]);
                        return;
                    }
                }
                else
                {
                    labelInvalid.Add(line);
                }
            }
            else if (!LabelValues.TryParseBinary(label, out var positive))
            {
                labelInvalid.Add(line);
            }
            else
            {
                if (positive)
                {
                    positives++;
                }
                else
                {
                    negatives++;
                }

                if (inTraining)
                {
                    AddTrainLabel(positive ? "1" : "0");
                    return;
                }
            }

            if (inTraining)
            {
                // Missing, or not a label the task reads.
                trainRows++;
                trainNotUsable++;
            }
        }

        /// <summary>Counts a usable training label, by its value as the task reads it (a string only for the first).</summary>
        private void AddTrainLabel(ReadOnlySpan<char> value)
        {
            trainRows++;
            if (trainFirstValue is null)
            {
                trainFirstValue = value.ToString();
            }
            else if (!trainSeveralValues && !value.SequenceEqual(trainFirstValue))
            {
                trainSeveralValues = true;
            }
        }

        public IEnumerable<DataFinding> Findings(ModelSpec model)
        {
            var policy = model.Validation;
            string Severity(string rule) => policy.Severity.TryGetValue(rule, out var s) ? s : DataRules.DefaultSeverity[rule];
            string Ratio(double value) => (value * 100).ToString("F2", CultureInfo.InvariantCulture) + "%";

            if (wrongColumnCount.Count > 0)
            {
                yield return new DataFinding("*", DataRules.ColumnCount, $"{wrongColumnCount.Count} row(s) do not have the header's {columnCount} fields.", wrongColumnCount.Lines, Observed: $"{wrongColumnCount.Count} row(s)", Expected: $"{columnCount} fields");
            }

            var readRows = Rows - wrongColumnCount.Count;
            foreach (var (_, a) in numeric)
            {
                var name = a.Feature.Name;
                if (a.TypeErrors.Count > 0)
                {
                    yield return new DataFinding(name, DataRules.Type, $"{a.TypeErrors.Count} value(s) of '{name}' are not numbers.", a.TypeErrors.Lines, Observed: $"{a.TypeErrors.Count} non-numeric", Expected: "numbers");
                }

                if (a.NonFinite.Count > 0)
                {
                    yield return new DataFinding(name, DataRules.NonFinite, $"{a.NonFinite.Count} value(s) of '{name}' are NaN or infinite.", a.NonFinite.Lines, Severity(DataRules.NonFinite), $"{a.NonFinite.Count}", "finite numbers");
                }

                if (a.OutOfRange.Count > 0)
                {
                    var range = $"[{a.Feature.Range?.Min?.ToString(CultureInfo.InvariantCulture) ?? "-inf"}, {a.Feature.Range?.Max?.ToString(CultureInfo.InvariantCulture) ?? "inf"}]";
                    yield return new DataFinding(name, DataRules.OutOfRange, $"{a.OutOfRange.Count} value(s) of '{name}' are outside {range}.", a.OutOfRange.Lines, Severity(DataRules.OutOfRange), $"{a.OutOfRange.Count} (min {a.Sketch.Min.ToString("G6", CultureInfo.InvariantCulture)}, max {a.Sketch.Max.ToString("G6", CultureInfo.InvariantCulture)})", range);
                }

                foreach (var finding in MissingAndConstant(name, a.Missing, readRows, a.Feature.MaxMissingRatio, a.Sketch.Count > 1 && a.Sketch.Min == a.Sketch.Max, Severity, Ratio))
                {
                    yield return finding;
                }
            }

            foreach (var (_, a) in categorical)
            {
                var name = a.Feature.Name;
                if (a.Unknown.Count > 0)
                {
                    yield return new DataFinding(name, DataRules.UnknownCategory, $"{a.Unknown.Count} value(s) of '{name}' are not allowed categories, such as {string.Join(", ", a.UnknownValues.Select(v => $"'{v}'"))}.", a.Unknown.Lines, Severity(DataRules.UnknownCategory), string.Join(", ", a.UnknownValues), string.Join(", ", a.Feature.Categories!));
                }

                foreach (var finding in MissingAndConstant(name, a.Missing, readRows, a.Feature.MaxMissingRatio, a.Count > 1 && a.Distinct == 1, Severity, Ratio))
                {
                    yield return finding;
                }
            }

            if (labelInvalid.Count > 0)
            {
                var expected = LabelValues.Expected(model.Task);
                yield return new DataFinding(model.Label, DataRules.LabelValue, $"{labelInvalid.Count} row(s) have a label that is not {expected}.", labelInvalid.Lines, Observed: $"{labelInvalid.Count} row(s)", Expected: expected);
            }

            if (labelMissing.Count > 0)
            {
                yield return new DataFinding(model.Label, DataRules.LabelMissing, $"{labelMissing.Count} row(s) have no label.", labelMissing.Lines, Observed: $"{labelMissing.Count} row(s)", Expected: "a label on every row");
            }

            foreach (var finding in LabelDistributionFindings(model, Severity, Ratio))
            {
                yield return finding;
            }

            if (duplicates.Ratio > policy.MaxDuplicateRatio)
            {
                yield return new DataFinding("*", DataRules.Duplicates, $"{Ratio(duplicates.Ratio)} of rows repeat an earlier row, above the maximum {Ratio(policy.MaxDuplicateRatio)}.", duplicates.Examples.Lines, Severity(DataRules.Duplicates), Ratio(duplicates.Ratio), "<= " + Ratio(policy.MaxDuplicateRatio));
            }

            if (Rows < policy.MinRows)
            {
                yield return new DataFinding("*", DataRules.RowCount, $"The file has {Rows} data row(s); at least {policy.MinRows} are needed.", [], Observed: Rows.ToString(CultureInfo.InvariantCulture), Expected: ">= " + policy.MinRows.ToString(CultureInfo.InvariantCulture));
            }
        }

        public DatasetProfile Profile(string sha256)
        {
            var features = new Dictionary<string, FeatureProfile>(StringComparer.Ordinal);
            for (var i = 0; i < numeric.Length; i++)
            {
                var a = numeric[i].Accumulator;
                features[a.Feature.Name] = new FeatureProfile(FeatureTypes.Numeric, a.Sketch.Count, a.Missing.Count, a.Statistics(), null, sample.Values(i));
            }

            foreach (var (_, a) in categorical)
            {
                features[a.Feature.Name] = new FeatureProfile(FeatureTypes.Categorical, a.Count, a.Missing.Count, null, a.Statistics());
            }

            var label = (classes, targets) switch
            {
                ({ } c, _) => new LabelProfile(c.Counts(), labelMissing.Count + labelInvalid.Count),
                (_, { } t) => new LabelProfile(new Dictionary<string, long>(), labelMissing.Count + labelInvalid.Count, t.Statistics()),
                _ => new LabelProfile(new Dictionary<string, long>(StringComparer.Ordinal) { ["1"] = positives, ["0"] = negatives }, labelMissing.Count + labelInvalid.Count),
            };
            return new DatasetProfile(Rows, sha256, features, label, duplicates.Ratio);
        }

        /// <summary>
        /// Class balance for classifiers: the smallest class's share of the labelled rows against
        /// the spec's minimum (one class only is always a finding). A regression target must take
        /// at least two values.
        /// </summary>
        private IEnumerable<DataFinding> LabelDistributionFindings(ModelSpec model, Func<string, string> severity, Func<double, string> ratio)
        {
            var minimum = model.Validation.MinClassShare;
            if (targets is not null)
            {
                if (targets.Sketch.Count > 0 && targets.Sketch.Min == targets.Sketch.Max)
                {
                    var value = targets.Sketch.Min.ToString("G6", CultureInfo.InvariantCulture);
                    yield return new DataFinding(model.Label, DataRules.LabelValue, $"Every labelled row has '{model.Label}' = {value}; a regression model needs at least two values.", [], Observed: "1 distinct value", Expected: "2 or more");
                }

                yield break;
            }

            var counts = classes?.Counts() ?? new Dictionary<string, long>(StringComparer.Ordinal) { ["positive"] = positives, ["negative"] = negatives };
            var labelled = counts.Values.Sum();
            if (labelled == 0)
            {
                yield break;
            }

            var present = counts.Where(c => c.Value > 0).ToList();
            if (present.Count < 2)
            {
                var only = present.Count == 1 ? $"'{present[0].Key}'" : "none";
                yield return new DataFinding(model.Label, DataRules.ClassBalance, $"Every labelled row is of one class ({only}); a classifier needs at least two.", [], severity(DataRules.ClassBalance), "1 class", "2 or more");
                yield break;
            }

            var (smallest, count) = counts.OrderBy(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).First();
            var share = count / (double)labelled;
            if (share < minimum)
            {
                var which = classes is null ? $"The {smallest} class" : $"Class '{smallest}'";
                yield return new DataFinding(model.Label, DataRules.ClassBalance, $"{which} is {ratio(share)} of labelled rows, below the minimum {ratio(minimum)}.", [], severity(DataRules.ClassBalance), ratio(share), ">= " + ratio(minimum));
            }
        }

        /// <summary>This dataset's counts in the bins of a baseline profile, for PSI.</summary>
        public (IReadOnlyList<long>? Baseline, IReadOnlyList<long>? Current) Rebin(FeatureSpec feature, FeatureProfile baseline)
        {
            if (feature.IsNumeric)
            {
                var accumulator = numeric.Single(n => n.Accumulator.Feature.Name == feature.Name).Accumulator;
                if (baseline.Numeric is null || accumulator.Sketch.Count == 0)
                {
                    return (null, null);
                }

                return (baseline.Numeric.Histogram.Counts, accumulator.Sketch.CountsFor(baseline.Numeric.Histogram.Edges));
            }

            var categories = categorical.Single(c => c.Accumulator.Feature.Name == feature.Name).Accumulator;
            if (baseline.Categorical is null || categories.Count == 0)
            {
                return (null, null);
            }

            // The baseline's top categories, then everything else as one "other" bin, on both sides.
            var top = baseline.Categorical.Top;
            var current = top.Select(c => categories.CountOf(c.Value)).ToList();
            current.Add(categories.Count - current.Sum());
            var expected = top.Select(c => c.Count).ToList();
            expected.Add(baseline.Categorical.Other);
            return (expected, current);
        }

        private static IEnumerable<DataFinding> MissingAndConstant(
            string name, Examples missing, long rows, double maxMissingRatio, bool constant, Func<string, string> severity, Func<double, string> ratio)
        {
            var missingRatio = rows == 0 ? 0 : missing.Count / (double)rows;
            if (missingRatio > maxMissingRatio)
            {
                yield return new DataFinding(name, DataRules.MissingRatio, $"'{name}' is missing on {ratio(missingRatio)} of rows, above its maximum {ratio(maxMissingRatio)}.", missing.Lines, severity(DataRules.MissingRatio), ratio(missingRatio), "<= " + ratio(maxMissingRatio));
            }

            if (constant)
            {
                yield return new DataFinding(name, DataRules.Constant, $"'{name}' has the same value on every row; it cannot help the model.", [], severity(DataRules.Constant), "1 distinct value", "2 or more");
            }
        }
    }
}
