using System.Text.Json;
using Azure.Storage.Blobs;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Training;

namespace Serverless.Trainer;

/// <summary>
/// Writes a job's <see cref="TrainingProgress"/> to its <c>progress.json</c> off the training
/// thread: one write at a time, at most about once a second, always of the latest report, each
/// bounded by <see cref="WriteTimeout"/>. <see cref="Flush"/> writes the last report before the
/// result. Progress is for people watching: a write that fails or times out is reported on stderr
/// and training goes on, neither stopped nor slowed by storage.
/// </summary>
public sealed class ProgressWriter(BlobClient blob, string jobId) : IProgress<TrainingProgress>
{
    public static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private readonly Lock gate = new();
    private TrainingProgress? pending;
    private Task writing = Task.CompletedTask;
    private DateTimeOffset lastWrite = DateTimeOffset.MinValue;

    public void Report(TrainingProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        lock (gate)
        {
            pending = value with { JobId = jobId };
            if (writing.IsCompleted && DateTimeOffset.UtcNow - lastWrite >= Interval)
            {
                writing = Task.Run(WritePendingAsync);
            }
        }
    }

    /// <summary>Waits for the write in flight, then writes the last report if it has not been written.</summary>
    public void Flush()
    {
        Task inFlight;
        lock (gate)
        {
            inFlight = writing;
        }

        inFlight.Wait(WriteTimeout + TimeSpan.FromSeconds(1));
        lock (gate)
        {
            writing = Task.Run(WritePendingAsync);
            inFlight = writing;
        }

        inFlight.Wait(WriteTimeout + TimeSpan.FromSeconds(1));
    }

    private async Task WritePendingAsync()
    {
        TrainingProgress? report;
        lock (gate)
        {
            (report, pending) = (pending, null);
            lastWrite = DateTimeOffset.UtcNow;
        }

        if (report is null)
        {
            return;
        }

        using var timeout = new CancellationTokenSource(WriteTimeout);
        try
        {
            await blob.UploadAsync(new BinaryData(JsonSerializer.SerializeToUtf8Bytes(report, SpecJson.Options)), overwrite: true, timeout.Token).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Whatever storage throws (a refusal, a timeout, retries exhausted), training goes on.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            await Console.Error.WriteLineAsync($"Could not write the training progress of epoch {report.Epoch}; training goes on: {ex.GetType().Name}: {ex.Message.Split('\n')[0]}").ConfigureAwait(false);
        }
    }
}
