using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Training;

/// <summary>
/// Laptop mode's dispatcher: runs the gpu-trainer program (the same binary the container runs)
/// as a child process with the job spec's blob path. A job already running in this process is
/// not started twice; a job that already reported is never started (see the start activity).
/// </summary>
public sealed partial class LocalProcessTrainingDispatcher(
    IOptions<TrainingOptions> training,
    IOptions<StorageOptions> storage,
    ILogger<LocalProcessTrainingDispatcher> logger) : ITrainingDispatcher, IDisposable
{
    private readonly ConcurrentDictionary<string, Process> running = new(StringComparer.Ordinal);

    public Task StartAsync(TrainingJobSpec job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        var trainer = training.Value.TrainerPath;
        if (string.IsNullOrWhiteSpace(trainer) || !File.Exists(trainer))
        {
            throw new InvalidOperationException(
                $"{TrainingOptions.SectionName}:{nameof(TrainingOptions.TrainerPath)} must name the built gpu-trainer program; '{trainer}' does not exist.");
        }

        if (running.TryGetValue(job.JobId, out var existing) && !existing.HasExited)
        {
            return Task.CompletedTask;
        }

        var isDll = trainer.EndsWith(".dll", StringComparison.OrdinalIgnoreCase);
        var start = new ProcessStartInfo(isDll ? "dotnet" : trainer)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (isDll)
        {
            start.ArgumentList.Add(trainer);
        }

        start.ArgumentList.Add("--job");
        start.ArgumentList.Add(TrainingJobPaths.Spec(job.RunId, job.JobId).ToString());

        // The storage connection travels in the environment, never on the command line.
        var settings = storage.Value;
        SetIfPresent(start, "Storage__ConnectionString", settings.ConnectionString);
        SetIfPresent(start, "Storage__BlobServiceUri", settings.BlobServiceUri?.ToString());
        SetIfPresent(start, "Storage__TableServiceUri", settings.TableServiceUri?.ToString());
        SetIfPresent(start, "Storage__ManagedIdentityClientId", settings.ManagedIdentityClientId);
        foreach (var (key, value) in training.Value.Environment)
        {
            start.Environment[key] = value;
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { TrainerOutput(logger, job.JobId, e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { TrainerError(logger, job.JobId, e.Data); } };
        process.Exited += (_, _) =>
        {
            TrainerExited(logger, job.JobId, process.ExitCode);
            running.TryRemove(new KeyValuePair<string, Process>(job.JobId, process));
            process.Dispose();
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        running[job.JobId] = process;
        TrainerStarted(logger, job.JobId, process.Id);
        return Task.CompletedTask;
    }

    /// <summary>Only processes started by this host are known: after a restart every unreported job counts as lost.</summary>
    public Task<bool?> IsRunningAsync(TrainingJobSpec job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        return Task.FromResult<bool?>(running.TryGetValue(job.JobId, out var process) && !process.HasExited);
    }

    public void Dispose()
    {
        foreach (var process in running.Values)
        {
            process.Dispose();
        }
    }

    private static void SetIfPresent(ProcessStartInfo start, string key, string? value)
    {
        if (!string.IsNullOrWhiteSpace(value))
        {
            start.Environment[key] = value;
        }
    }

    [LoggerMessage(EventId = 2000, Level = LogLevel.Information, Message = "Training job {JobId} started as process {ProcessId}")]
    private static partial void TrainerStarted(ILogger logger, string jobId, int processId);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Trainer {JobId}: {Line}")]
    private static partial void TrainerOutput(ILogger logger, string jobId, string line);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Trainer {JobId} (stderr): {Line}")]
    private static partial void TrainerError(ILogger logger, string jobId, string line);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "Training job {JobId} process exited with code {ExitCode}")]
    private static partial void TrainerExited(ILogger logger, string jobId, int exitCode);
}
