using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Training;

namespace Serverless.Trainer;

/// <summary>
/// Writes a job's <see cref="TrainingProgress"/> to its <c>progress.json</c>: at most once a
/// second while it trains (a fast epoch does not become a storage call), and the last report
/// always. Progress is for people watching; a failed write is reported on stderr and training goes on.
/// </summary>
public sealed class ProgressWriter(BlobClient blob, string jobId) : IProgress<TrainingProgress>
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private readonly Lock gate = new();
    private TrainingProgress? pending;
    private DateTimeOffset lastWrite = DateTimeOffset.MinValue;

    public void Report(TrainingProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        lock (gate)
        {
            pending = value with { JobId = jobId };
            if (value.Finished || DateTimeOffset.UtcNow - lastWrite >= Interval)
            {
                WritePending();
            }
        }
    }

    /// <summary>Writes the last report if it has not been written yet.</summary>
    public void Flush()
    {
        lock (gate)
        {
            WritePending();
        }
    }

    private void WritePending()
    {
        if (pending is null)
        {
            return;
        }

        try
        {
            blob.Upload(new BinaryData(JsonSerializer.SerializeToUtf8Bytes(pending, SpecJson.Options)), overwrite: true);
        }
        catch (RequestFailedException ex)
        {
            Console.Error.WriteLine($"Could not write the training progress ({ex.Status}); training goes on: {ex.Message.Split('\n')[0]}");
        }

        pending = null;
        lastWrite = DateTimeOffset.UtcNow;
    }
}
