using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Azure;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Logging;
using nietras.SeparatedValues;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Scoring;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Serving;

/// <summary>What one batch-scoring job did: which version scored which file, and every row it could not score.</summary>
public sealed record BatchScoringSummary(
    string Input,
    string InputETag,
    string? Output,
    string Model,
    int? Version,
    long Rows,
    long Scored,
    long Rejected,
    IReadOnlyList<BatchRejection> Rejections,
    string? Error,
    DateTimeOffset StartedAt,
    DateTimeOffset CompletedAt);

/// <summary>A row that was not scored: its line in the input and why.</summary>
public sealed record BatchRejection(long Line, string Reason);

/// <summary>
/// Scores a CSV uploaded to <c>batch-input/{model}/...</c> with the model's champion and writes
/// <c>batch-output/{model}/{name}.v{version}.csv</c> (the input's columns plus the prediction, or
/// the reason a row was not scored) and <c>{name}.summary.json</c>. Both files are streamed,
/// chunk by chunk, so memory does not grow with the file. A second delivery of the same upload
/// (same ETag) finds its summary and does nothing.
/// </summary>
public sealed partial class BatchScorer(LifecycleStorage storage, ModelServer server, TimeProvider clock)
{
    /// <summary>Rows scored per ONNX Runtime call.</summary>
    public const int ChunkRows = 4096;

    /// <summary>Rejections listed in the summary (all are counted, and each is in the output file).</summary>
    public const int MaxListedRejections = 100;

    public const string ErrorColumn = "error";

    public static BlobPath SummaryPath(string model, string relativeName) =>
        new(StorageNames.BatchOutputContainer, $"{model}/{Path.ChangeExtension(relativeName, null)}.summary.json");

    public static BlobPath OutputPath(string model, string relativeName, int version) =>
        new(StorageNames.BatchOutputContainer, string.Create(CultureInfo.InvariantCulture, $"{model}/{Path.ChangeExtension(relativeName, null)}.v{version}.csv"));

    /// <summary>Whether a blob of <c>batch-input</c> is a file under a model's folder, the only kind that can be scored.</summary>
    public static bool IsUnderAModel(string blobName)
    {
        ArgumentNullException.ThrowIfNull(blobName);
        var slash = blobName.IndexOf('/', StringComparison.Ordinal);
        return slash > 0 && slash < blobName.Length - 1 && !blobName.EndsWith('/');
    }

    /// <summary>What the hosts log for a file that <see cref="IsUnderAModel"/> refuses: it is left alone, as no retry would change it.</summary>
    [LoggerMessage(Level = LogLevel.Warning, Message = "batch-input/{Blob} is not under a model's folder (batch-input/{{model}}/...); it is not scored.")]
    public static partial void LogNotUnderAModel(ILogger logger, string blob);

    /// <summary>Scores <c>batch-input/{model}/{relativeName}</c>; returns its summary (also written next to the output).</summary>
    public async Task<BatchScoringSummary> ScoreAsync(string blobName, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(blobName);
        await storage.EnsureCreatedAsync(cancellationToken);
        var input = new BlobPath(StorageNames.BatchInputContainer, blobName);
        var slash = blobName.IndexOf('/', StringComparison.Ordinal);
        var started = clock.GetUtcNow();
        if (!IsUnderAModel(blobName))
        {
            throw new ArgumentException($"Batch input '{blobName}' is not under batch-input/{{model}}/.", nameof(blobName));
        }

        var model = blobName[..slash];
        var relative = blobName[(slash + 1)..];
        var inputBlob = storage.Blob(input);
        BlobProperties properties;
        try
        {
            properties = (await inputBlob.GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            throw new FileNotFoundException($"Batch input {input} does not exist.", input.ToString(), ex);
        }

        var etag = properties.ETag.ToString();
        var summaryBlob = storage.Blob(SummaryPath(model, relative));
        if (await summaryBlob.ExistsAsync(cancellationToken)
            && (await summaryBlob.DownloadContentAsync(cancellationToken)).Value.Content.ToObjectFromJson<BatchScoringSummary>(SpecJson.Options) is { } done
            && done.InputETag == etag)
        {
            return done;
        }

        BatchScoringSummary Failed(string why) => new(input.ToString(), etag, null, model, null, 0, 0, 0, [], why, started, clock.GetUtcNow());
        ModelLease? lease = null;
        BatchScoringSummary? summary = null;
        try
        {
            lease = await server.AcquireAsync(model, ReservedAliases.Champion, cancellationToken);
        }
        catch (Exception ex) when (ex is AliasNotFoundException or ModelNotFoundException or InvalidOperationException)
        {
            // Nothing to score with (no such model, no champion, an archived one): say so and stop.
            summary = Failed(ex is AliasNotFoundException ? $"Model '{model}' has no champion to score with." : ex.Message);
        }

        if (lease is not null)
        {
            using (lease)
            {
                try
                {
                    summary = await ScoreAsync(input, etag, lease.Model, relative, started, cancellationToken);
                }
                catch (InvalidDataException ex)
                {
                    // Not a CSV the model can read (a missing feature column, malformed quoting).
                    summary = Failed(ex.Message);
                }
            }
        }

        await summaryBlob.UploadAsync(BinaryData.FromObjectAsJson(summary!, SpecJson.Options), overwrite: true, cancellationToken);
        return summary!;
    }

    /// <summary>
    /// Reads, scores and writes at once, one chunk of <see cref="ChunkRows"/> in each stage: a reader
    /// parses rows into a chunk (each row's text kept as it came, its features in a batch), the model
    /// scores the chunk in one call, and a writer appends each row's text with its prediction (or the
    /// reason it was not scored) to the output blob. Bounded channels between the stages keep at most a
    /// few chunks in memory, so a file of any size streams through.
    /// </summary>
    private async Task<BatchScoringSummary> ScoreAsync(BlobPath input, string etag, LoadedModel model, string relative, DateTimeOffset started, CancellationToken cancellationToken)
    {
        var spec = model.Spec;
        var output = OutputPath(spec.Name, relative, model.Version.Version);
        await using var source = await storage.Blob(input).OpenReadAsync(new BlobOpenReadOptions(allowModifications: false), cancellationToken);
        using var text = new StreamReader(source, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        using var reader = OpenCsv(text);
        var header = reader.Header.ColNames.ToArray();
        var missing = spec.Features.Where(f => !header.Contains(f.Name)).Select(f => f.Name).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidDataException($"The file has no column for feature(s) {string.Join(", ", missing)}; its header is {string.Join(",", header)}.");
        }

        var predictionColumns = PredictionColumns(spec.Task, model.Onnx.Classes);
        var clashing = header.Intersect(predictionColumns.Append(ErrorColumn), StringComparer.Ordinal).ToList();
        if (clashing.Count > 0)
        {
            throw new InvalidDataException($"The file has column(s) {string.Join(", ", clashing)}, which the output adds; rename them so that nothing is overwritten.");
        }

        await using var target = await storage.Blob(output).OpenWriteAsync(overwrite: true, cancellationToken: cancellationToken);
        await using var writer = new StreamWriter(target, new UTF8Encoding(false), bufferSize: 1 << 16);
        await writer.WriteLineAsync(DatasetSplitter.Line(header.Concat(predictionColumns).Append(ErrorColumn)));

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // A few chunks of slack on each side, so the writer's block uploads and the reader's downloads do not stall the model.
        var parsed = Channel.CreateBounded<Chunk>(new BoundedChannelOptions(8) { SingleReader = true, SingleWriter = true });
        var scored = Channel.CreateBounded<Chunk>(new BoundedChannelOptions(8) { SingleReader = true, SingleWriter = true });
        var columns = spec.Features.Select(f => Array.IndexOf(header, f.Name)).ToArray();
        long rows = 0, rejected = 0;
        var rejections = new List<BatchRejection>();

        // The reader blocks on the blob's stream as it parses, so it has a thread of its own.
        var reading = Task.Factory.StartNew(() => Read(reader, header.Length, columns, spec, parsed.Writer, stop.Token), stop.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
        var scoring = Task.Run(
            async () =>
            {
                await foreach (var chunk in parsed.Reader.ReadAllAsync(stop.Token))
                {
                    chunk.Score(model.Onnx);
                    await scored.Writer.WriteAsync(chunk, stop.Token);
                }

                scored.Writer.Complete();
            },
            stop.Token);
        var writing = Task.Run(
            async () =>
            {
                var lines = new StringBuilder(ChunkRows * 96);
                await foreach (var chunk in scored.Reader.ReadAllAsync(stop.Token))
                {
                    lines.Clear();
                    for (var i = 0; i < chunk.Count; i++)
                    {
                        chunk.AppendRow(i, lines, spec.Task, predictionColumns.Count);
                        lines.Append('\n');
                        if (chunk.Errors[i] is { } reason)
                        {
                            rejected++;
                            if (rejections.Count < MaxListedRejections)
                            {
                                rejections.Add(new BatchRejection(chunk.Lines[i], reason));
                            }
                        }
                    }

                    await writer.WriteAsync(lines, stop.Token);
                    rows += chunk.Count;
                }
            },
            stop.Token);

        try
        {
            await Task.WhenAll(reading, scoring, writing);
        }
        catch
        {
            // One stage failed (or the work was cancelled): stop the others and report the first failure.
            await stop.CancelAsync();
            parsed.Writer.TryComplete();
            scored.Writer.TryComplete();
            await Task.WhenAll(reading, scoring, writing).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw new[] { reading, scoring, writing }.Select(t => t.Exception?.InnerException).FirstOrDefault(e => e is not null and not OperationCanceledException)
                ?? new OperationCanceledException(cancellationToken);
        }

        await writer.FlushAsync(cancellationToken);
        return new BatchScoringSummary(input.ToString(), etag, output.ToString(), spec.Name, model.Version.Version, rows, rows - rejected, rejected, rejections, null, started, clock.GetUtcNow());

        static SepReader OpenCsv(TextReader text)
        {
            try
            {
                return Sep.New(',').Reader(o => o with { Unescape = true, DisableColCountCheck = true }).From(text);
            }
            catch (ArgumentException ex)
            {
                // Sep refuses a header that names a column twice.
                throw new InvalidDataException($"The file's header cannot be read: {ex.Message}", ex);
            }
        }
    }

    /// <summary>Parses rows into chunks: each row's text as it came, its features checked and set in the chunk's batch.</summary>
    private static async Task Read(SepReader reader, int headerLength, int[] columns, ModelSpec spec, ChannelWriter<Chunk> chunks, CancellationToken cancellationToken)
    {
        var categories = new CategoryStrings();
        var chunk = new Chunk(spec);
        foreach (var row in reader)
        {
            cancellationToken.ThrowIfCancellationRequested();
            chunk.Add(row, headerLength, columns, spec, categories);
            if (chunk.Count == ChunkRows)
            {
                await chunks.WriteAsync(chunk, cancellationToken);
                chunk = new Chunk(spec);
            }
        }

        if (chunk.Count > 0)
        {
            await chunks.WriteAsync(chunk, cancellationToken);
        }

        chunks.Complete();
    }

    /// <summary>
    /// One category value per distinct spelling, so a million rows do not make a million copies of
    /// "month-to-month". Bounded: past <see cref="MaxDistinct"/> values new ones are not kept.
    /// </summary>
    private sealed class CategoryStrings
    {
        private const int MaxDistinct = 100_000;
        private readonly Dictionary<string, string> known = new(StringComparer.Ordinal);

        public string Get(ReadOnlySpan<char> value)
        {
            var lookup = known.GetAlternateLookup<ReadOnlySpan<char>>();
            if (lookup.TryGetValue(value, out var existing))
            {
                return existing;
            }

            var made = value.ToString();
            if (known.Count < MaxDistinct)
            {
                known[made] = made;
            }

            return made;
        }
    }

    /// <summary>Up to <see cref="ChunkRows"/> rows on their way through the stages.</summary>
    private sealed class Chunk(ModelSpec spec)
    {
        private readonly StringBuilder text = new(ChunkRows * 64);
        private readonly int[] starts = new int[ChunkRows + 1];
        private readonly int[] valid = new int[ChunkRows];
        private readonly FeatureBatch batch = new(spec, ChunkRows);
        private string[]?[] padded = [];
        private ModelPrediction[] predictions = [];
        private int validCount;

        public int Count { get; private set; }

        public long[] Lines { get; } = new long[ChunkRows];

        public string?[] Errors { get; } = new string?[ChunkRows];

        public void Add(SepReader.Row row, int headerLength, int[] columns, ModelSpec spec, CategoryStrings categories)
        {
            var i = Count++;
            Lines[i] = row.LineNumberFrom;
            Errors[i] = null;
            valid[i] = -1;
            starts[i] = text.Length;

            // The row's text before its fields are read: unescaping rewrites them in place.
            text.Append(row.Span);
            starts[i + 1] = text.Length;
            if (row.ColCount != headerLength)
            {
                // Kept as fields, padded or cut to the header, so the output still shows the row.
                if (padded.Length == 0)
                {
                    padded = new string[]?[ChunkRows];
                }

                var fields = new string[headerLength];
                for (var c = 0; c < headerLength; c++)
                {
                    fields[c] = c < row.ColCount ? row[c].ToString() : "";
                }

                padded[i] = fields;
                Errors[i] = $"The row has {row.ColCount} field(s); the header has {headerLength}.";
                return;
            }

            for (var f = 0; f < spec.Features.Count; f++)
            {
                if (FeatureValues.SetText(batch, spec.Features[f], validCount, row[columns[f]].Span, spec.Serving, categories.Get) is { } problem)
                {
                    Errors[i] = $"{spec.Features[f].Name}: {problem}";
                    return;
                }
            }

            valid[i] = validCount++;
        }

        public void Score(OnnxModel model)
        {
            if (validCount == 0)
            {
                return;
            }

            // The valid rows fill the batch from its start: a full chunk is scored as it is, otherwise those rows are copied out.
            predictions = [.. model.Predict(validCount < ChunkRows ? batch.Slice(0, validCount) : batch)];
        }

        public void AppendRow(int i, StringBuilder line, string task, int predictionColumns)
        {
            if (padded.Length > 0 && padded[i] is { } fields)
            {
                line.Append(DatasetSplitter.Line(fields));
            }
            else
            {
                line.Append(text, starts[i], starts[i + 1] - starts[i]);
            }

            if (valid[i] >= 0)
            {
                AppendPrediction(line, task, predictions[valid[i]]);
            }
            else
            {
                line.Append(',', predictionColumns);
            }

            line.Append(',').Append(Errors[i] is { } error ? DatasetSplitter.Quote(error) : "");
        }
    }

    /// <summary>The prediction's columns (<see cref="PredictionColumns"/>), each after a comma, formatted in place.</summary>
    private static void AppendPrediction(StringBuilder line, string task, ModelPrediction p)
    {
        var invariant = CultureInfo.InvariantCulture;
        switch (task)
        {
            case ModelTasks.Multiclass:
                line.Append(',').Append(DatasetSplitter.Quote(p.Class!)).Append(invariant, $",{p.Probability:R}");
                foreach (var probability in p.Probabilities!)
                {
                    line.Append(invariant, $",{probability:R}");
                }

                break;
            case ModelTasks.Regression:
                line.Append(invariant, $",{p.Score:R}");
                break;
            default:
                line.Append(p.Label ? ",1" : ",0").Append(invariant, $",{p.Probability:R},{p.Score:R}");
                break;
        }
    }

    /// <summary>The columns batch output adds for a task (before <see cref="ErrorColumn"/>).</summary>
    public static IReadOnlyList<string> PredictionColumns(string task, IReadOnlyList<string> classes) => task switch
    {
        ModelTasks.Multiclass => ["predicted_label", "predicted_probability", .. classes.Select(c => $"probability_{c}")],
        ModelTasks.Regression => ["predicted_value"],
        _ => ["predicted_label", "predicted_probability", "predicted_score"],
    };
}
