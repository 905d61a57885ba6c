using System.Globalization;
using System.Text;
using nietras.SeparatedValues;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Monitoring;

/// <summary>
/// The dataset an automatic retraining trains on. With <see cref="TrainingDataPolicies.NewestWithFeedback"/>
/// it writes a new dataset version: the newest CSV dataset's rows, then one row per logged
/// prediction (served by any version) that has feedback, its inputs with the feedback as the
/// label. The new version is recorded like an upload, so it starts no run of its own.
/// </summary>
public sealed class TrainingDataPolicy(DatasetStore datasets, PredictionLogReader log, FeedbackStore feedback, LifecycleStorage storage, TimeProvider clock)
{
    /// <summary>Production rows reach back at most this far.</summary>
    public static readonly TimeSpan MaxLookback = TimeSpan.FromDays(30);

    public async Task<(DatasetVersion Dataset, string Note)> PrepareAsync(ModelSpec spec, DatasetVersion newest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(newest);
        if (spec.Retraining.TrainingData != TrainingDataPolicies.NewestWithFeedback)
        {
            return (newest, $"on {newest.Path}");
        }

        if (!newest.Path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
        {
            return (newest, $"on {newest.Path} (production rows are added to CSV datasets only)");
        }

        var now = clock.GetUtcNow();
        var since = newest.UploadedAt > now - MaxLookback ? newest.UploadedAt : now - MaxLookback;
        var truth = await feedback.LabelsAsync(spec.Name, since, cancellationToken);
        if (truth.Count == 0)
        {
            return (newest, $"on {newest.Path} (no production rows with feedback yet)");
        }

        // Streamed through a temporary file: the newest dataset's text is copied through, production
        // rows are appended in its column order; memory does not grow with the dataset.
        await using var combined = new FileStream(Path.GetTempFileName(), FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        long added = 0;
        var unreadable = new UnreadableLines();
        await using (var source = await storage.Blob(BlobPath.Parse(newest.Path)).OpenReadAsync(cancellationToken: cancellationToken))
        using (var reader = new StreamReader(source, Encoding.UTF8))
        await using (var writer = new StreamWriter(combined, new UTF8Encoding(false), leaveOpen: true))
        {
            var headerLine = await reader.ReadLineAsync(cancellationToken) ?? throw new InvalidDataException($"{newest.Path} is empty.");
            using var headerReader = Sep.New(',').Reader(o => o with { HasHeader = false, Unescape = true }).FromText(headerLine);
            headerReader.MoveNext();
            var header = Enumerable.Range(0, headerReader.Current.ColCount).Select(i => headerReader.Current[i].ToString().Trim().TrimStart('\uFEFF')).ToArray();
            await writer.WriteLineAsync(headerLine);
            var buffer = new char[81920];
            int read;
            var endsWithNewline = true;
            while ((read = await reader.ReadAsync(buffer, cancellationToken)) > 0)
            {
                await writer.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                endsWithNewline = buffer[read - 1] == '\n';
            }

            if (!endsWithNewline)
            {
                await writer.WriteLineAsync();
            }

            await foreach (var record in log.ReadAsync(spec.Name, since, now, unreadable, cancellationToken))
            {
                if (!record.Served || record.Error is not null || !truth.TryGetValue((record.RequestId, record.Row), out var label))
                {
                    continue;
                }

                var fields = header.Select(column => column == spec.Label ? label
                    : record.Inputs.TryGetValue(column, out var value) ? Format(value) : "");
                await writer.WriteLineAsync(string.Join(',', fields.Select(DatasetSplitter.Quote)));
                added++;
            }
        }

        combined.Position = 0;
        var version = await datasets.UploadAsync(spec.Name, combined, cancellationToken);
        var skipped = unreadable.Count == 0 ? "" : $" ({unreadable.Summary.TrimEnd('.')})";
        return (version, string.Create(CultureInfo.InvariantCulture, $"on {version.Path}: {newest.Path} plus {added} production row(s) with feedback since {since:yyyy-MM-dd HH:mm} UTC{skipped}"));
    }

    private static string Format(object? value) => value switch
    {
        null => "",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        // Read back from the log, numbers are doubles and strings strings (LoggedInputs); only
        // booleans, objects and arrays stay JSON, and no feature has such values.
        System.Text.Json.JsonElement => "",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };
}
