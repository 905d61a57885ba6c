using System.Globalization;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Logging;
using nietras.SeparatedValues;
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
    public const int ChunkRows = 1000;

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

        var columns = spec.Features.Select(f => Array.IndexOf(header, f.Name)).ToArray();
        var predictionColumns = PredictionColumns(spec.Task, model.Onnx.Classes);
        var clashing = header.Intersect(predictionColumns.Append(ErrorColumn), StringComparer.Ordinal).ToList();
        if (clashing.Count > 0)
        {
            throw new InvalidDataException($"The file has column(s) {string.Join(", ", clashing)}, which the output adds; rename them so that nothing is overwritten.");
        }

        await using var target = await storage.Blob(output).OpenWriteAsync(overwrite: true, cancellationToken: cancellationToken);
        await using var writerText = new StreamWriter(target, new UTF8Encoding(false));
        using var writer = Sep.New(',').Writer(o => o with { Escape = true }).To(writerText);
        long rows = 0, rejected = 0;
        var rejections = new List<BatchRejection>();
        var chunk = new List<(long Line, string[] Fields, int FieldCount)>(ChunkRows);
        foreach (var row in reader)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // A row with too few or too many fields keeps the ones the header has room for, so the output still shows it.
            var fields = new string[header.Length];
            for (var c = 0; c < header.Length; c++)
            {
                fields[c] = c < row.ColCount ? row[c].ToString() : "";
            }

            chunk.Add((row.LineNumberFrom, fields, row.ColCount));
            if (chunk.Count == ChunkRows)
            {
                (rows, rejected) = Add((rows, rejected), ScoreChunk(chunk));
            }
        }

        (rows, rejected) = Add((rows, rejected), ScoreChunk(chunk));
        writer.Flush();
        await writerText.FlushAsync(cancellationToken);
        return new BatchScoringSummary(input.ToString(), etag, output.ToString(), spec.Name, model.Version.Version, rows, rows - rejected, rejected, rejections, null, started, clock.GetUtcNow());

        static (long, long) Add((long Rows, long Rejected) total, (long Rows, long Rejected) chunk) => (total.Rows + chunk.Rows, total.Rejected + chunk.Rejected);

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

        (long Rows, long Rejected) ScoreChunk(List<(long Line, string[] Fields, int FieldCount)> pending)
        {
            if (pending.Count == 0)
            {
                return (0, 0);
            }

            // Check every row first; the valid ones are scored together in one call.
            var errors = new string?[pending.Count];
            var valid = new List<int>(pending.Count);
            var batch = new FeatureBatch(spec, pending.Count);
            for (var i = 0; i < pending.Count; i++)
            {
                var fields = pending[i].Fields;
                if (pending[i].FieldCount != header.Length)
                {
                    errors[i] = $"The row has {pending[i].FieldCount} field(s); the header has {header.Length}.";
                    continue;
                }

                for (var f = 0; f < spec.Features.Count && errors[i] is null; f++)
                {
                    if (FeatureValues.SetText(batch, spec.Features[f], i, fields[columns[f]], spec.Serving) is { } problem)
                    {
                        errors[i] = $"{spec.Features[f].Name}: {problem}";
                    }
                }

                if (errors[i] is null)
                {
                    valid.Add(i);
                }
            }

            var scored = new ModelPrediction?[pending.Count];
            if (valid.Count > 0)
            {
                var subset = new FeatureBatch(spec, valid.Count);
                for (var j = 0; j < valid.Count; j++)
                {
                    batch.CopyRowTo(valid[j], subset, j);
                }

                var predictions = model.Onnx.Predict(subset);
                for (var j = 0; j < valid.Count; j++)
                {
                    scored[valid[j]] = predictions[j];
                }
            }

            for (var i = 0; i < pending.Count; i++)
            {
                // Rows are written synchronously into the blob's buffered stream; cancellation is checked per input row.
#pragma warning disable CA2016
                using var line = writer.NewRow();
#pragma warning restore CA2016
                for (var c = 0; c < header.Length; c++)
                {
                    line[header[c]].Set(pending[i].Fields[c]);
                }

                var values = scored[i] is { } prediction ? PredictionValues(spec.Task, prediction) : new string[predictionColumns.Count];
                for (var c = 0; c < predictionColumns.Count; c++)
                {
                    line[predictionColumns[c]].Set(values[c] ?? "");
                }

                line[ErrorColumn].Set(errors[i] ?? "");
                if (errors[i] is { } reason && rejections.Count < MaxListedRejections)
                {
                    rejections.Add(new BatchRejection(pending[i].Line, reason));
                }
            }

            var result = (pending.Count, errors.Count(e => e is not null));
            pending.Clear();
            return result;
        }
    }

    /// <summary>The columns batch output adds for a task (before <see cref="ErrorColumn"/>).</summary>
    public static IReadOnlyList<string> PredictionColumns(string task, IReadOnlyList<string> classes) => task switch
    {
        ModelTasks.Multiclass => ["predicted_label", "predicted_probability", .. classes.Select(c => $"probability_{c}")],
        ModelTasks.Regression => ["predicted_value"],
        _ => ["predicted_label", "predicted_probability", "predicted_score"],
    };

    private static string[] PredictionValues(string task, ModelPrediction p) => task switch
    {
        ModelTasks.Multiclass => [p.Class!, F(p.Probability), .. p.Probabilities!.Select(F)],
        ModelTasks.Regression => [F(p.Score)],
        _ => [p.Label ? "1" : "0", F(p.Probability), F(p.Score)],
    };

    private static string F(float value) => value.ToString("R", CultureInfo.InvariantCulture);
}
