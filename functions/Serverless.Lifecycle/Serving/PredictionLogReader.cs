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
        var hour = new DateTimeOffset(from.UtcDateTime.Date.AddHours(from.UtcDateTime.Hour), TimeSpan.Zero);
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
}
