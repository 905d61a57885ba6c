using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Training;

/// <summary>
/// Laptop mode's dispatcher: runs the gpu-trainer program (the same binary the container runs)
/// as a child process with the job spec's blob path. Only processes started by this host are
/// known: after a restart every earlier execution counts as ended, so an unreported job is lost
/// and started again.
/// </summary>
public sealed partial class LocalProcessTrainingDispatcher(
    IOptions<TrainingOptions> training,
    IOptions<StorageOptions> storage,
    ILogger<LocalProcessTrainingDispatcher> logger) : ITrainingDispatcher, IDisposable
{
    private readonly ConcurrentDictionary<string, Process> running = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> exitCodes = new(StringComparer.Ordinal);

    public Task<string> StartAsync(TrainingJobSpec job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        var trainer = training.Value.TrainerPath;
        if (string.IsNullOrWhiteSpace(trainer) || !File.Exists(trainer))
        {
            throw new InvalidOperationException(
                $"{TrainingOptions.SectionName}:{nameof(TrainingOptions.TrainerPath)} must name the built gpu-trainer program; '{trainer}' does not exist.");
        }

        // A job already running in this host is not started twice.
        foreach (var id in running.Keys)
        {
            if (id.StartsWith(job.JobId + "@", StringComparison.Ordinal) && !exitCodes.ContainsKey(id))
            {
                return Task.FromResult(id);
            }
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
            var id = ExecutionId(job, process.Id);
            exitCodes[id] = process.ExitCode;
            TrainerExited(logger, job.JobId, process.ExitCode);
            running.TryRemove(id, out _);
            process.Dispose();
        };
        process.Start();
        var executionId = ExecutionId(job, process.Id);
        running[executionId] = process;
        if (exitCodes.ContainsKey(executionId))
        {
            // It exited before it was listed.
            running.TryRemove(executionId, out _);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        TrainerStarted(logger, job.JobId, process.Id);
        return Task.FromResult(executionId);
    }

    public Task<JobExecutionStatus> GetStatusAsync(TrainingJobSpec job, string executionId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(executionId);
        if (exitCodes.TryGetValue(executionId, out var code))
        {
            return Task.FromResult(new JobExecutionStatus(JobExecutionState.Ended, $"trainer process exited with code {code}"));
        }

        return Task.FromResult(running.ContainsKey(executionId)
            ? new JobExecutionStatus(JobExecutionState.Running)
            : new JobExecutionStatus(JobExecutionState.Ended, "trainer process is not running in this host"));
    }

    public Task StopAsync(TrainingJobSpec job, string executionId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(executionId);
        if (running.TryGetValue(executionId, out var process))
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (Exception ex) when (ex is InvalidOperationException or ObjectDisposedException)
            {
                // It exited on its own meanwhile.
            }
        }

        return Task.CompletedTask;
    }

    public void Dispose()
    {
        foreach (var process in running.Values)
        {
            process.Dispose();
        }
    }

    private static string ExecutionId(TrainingJobSpec job, int processId) => $"{job.JobId}@{processId.ToString(CultureInfo.InvariantCulture)}";

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
