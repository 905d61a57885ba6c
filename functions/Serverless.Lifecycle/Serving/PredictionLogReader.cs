using System.Globalization;
using System.Text.Json;
using Azure.Storage.Blobs.Models;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Serving;

/// <summary>
/// Reads the prediction log back for a time window: the hourly folders the window touches,
/// every record whose time falls in it. Rollout checks and monitoring read through it.
/// </summary>
public sealed class PredictionLogReader(LifecycleStorage storage)
{
    public async IAsyncEnumerable<PredictionRecord> ReadAsync(
        string model, DateTimeOffset from, DateTimeOffset to, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        await storage.EnsureCreatedAsync(cancellationToken);
        var container = storage.Container(StorageNames.PredictionsContainer);
        var hour = PredictionLog.HourOf(from);
        for (; hour <= to; hour = hour.AddHours(1))
        {
            var prefix = string.Create(CultureInfo.InvariantCulture, $"{model}/{hour.UtcDateTime:yyyy/MM/dd/HH}/");
            await foreach (var blob in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, cancellationToken))
            {
                var content = await container.GetBlobClient(blob.Name).DownloadContentAsync(cancellationToken);
                foreach (var line in content.Value.Content.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    var record = JsonSerializer.Deserialize<PredictionRecord>(line, PredictionLog.JsonOptions);
                    if (record is not null && record.Time >= from && record.Time <= to)
                    {
                        yield return record;
                    }
                }
            }
        }
    }

    /// <summary>
    /// The newest <paramref name="count"/> served predictions, reading back an hour at a time for at
    /// most <paramref name="lookback"/>; oldest first. Memory holds at most those records.
    /// </summary>
    public async Task<IReadOnlyList<PredictionRecord>> ReadLatestAsync(string model, int count, DateTimeOffset now, TimeSpan lookback, CancellationToken cancellationToken = default)
    {
        var newest = new PriorityQueue<PredictionRecord, DateTimeOffset>();
        var hourEnd = now;
        var hourStart = PredictionLog.HourOf(now);
        while (hourEnd > now - lookback)
        {
            await foreach (var record in ReadAsync(model, hourStart, hourEnd, cancellationToken))
            {
                if (!record.Served || record.Error is not null)
                {
                    continue;
                }

                newest.Enqueue(record, record.Time);
                if (newest.Count > count)
                {
                    newest.Dequeue();
                }
            }

            if (newest.Count >= count)
            {
                break;
            }

            hourEnd = hourStart.AddTicks(-1);
            hourStart = hourStart.AddHours(-1);
        }

        var records = new List<PredictionRecord>(newest.Count);
        while (newest.TryDequeue(out var record, out _))
        {
            records.Add(record);
        }

        return records;
    }
}
