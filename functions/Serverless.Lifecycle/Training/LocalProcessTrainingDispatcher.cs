using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Training;

/// <summary>
/// Laptop mode's dispatcher: runs the gpu-trainer program (the same binary the container runs)
/// as a child process with the job spec's blob path. An execution id names the job, the process id
/// and when the process started, and each running trainer is recorded in
/// <see cref="TrainingOptions.LocalStateDirectory"/>: a host restarted after a crash (whose trainer
/// lives on as an orphan) sees that trainer as running, waits for it, and does not start a second
/// one on the same job folder. A process id reused by another program does not match the start.
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
        var custom = job.Model.Trainer;
        if (custom.IsCustom && custom.LocalCommand is null)
        {
            throw new InvalidOperationException(
                $"This model's trainer is the image '{custom.Image}', which runs in Azure; laptop mode runs trainer.localCommand, which the spec does not set (for example [\"/usr/bin/python3\", \"train.py\"]).");
        }

        // The deep model's jobs go to the deep trainer (the GPU job's program), the others to the ML.NET one.
        var deep = TrainerAlgorithms.Placement(job.Algorithm) == TrainerPlacements.Gpu;
        var (trainer, launcher) = deep ? (training.Value.DeepTrainerPath, training.Value.DeepTrainerLauncher) : (training.Value.TrainerPath, training.Value.TrainerLauncher);
        var (pathSetting, launcherSetting) = deep
            ? (nameof(TrainingOptions.DeepTrainerPath), nameof(TrainingOptions.DeepTrainerLauncher))
            : (nameof(TrainingOptions.TrainerPath), nameof(TrainingOptions.TrainerLauncher));
        if (!custom.IsCustom && (string.IsNullOrWhiteSpace(trainer) || !File.Exists(trainer)))
        {
            throw new InvalidOperationException(
                $"{TrainingOptions.SectionName}:{pathSetting} must name the built {(deep ? "deep trainer (Serverless.Trainer.Deep.dll), which trains " + job.Algorithm : "trainer (Serverless.Trainer.dll)")}; '{trainer}' does not exist.");
        }

        // A job already running in this host is not started twice.
        foreach (var id in running.Keys)
        {
            if (id.StartsWith(job.JobId + "@", StringComparison.Ordinal) && !exitCodes.ContainsKey(id))
            {
                return Task.FromResult(id);
            }
        }

        // Nor one that a trainer started by an earlier host (before a crash) is still running.
        if (ReadRecord(job.JobId) is { } recorded)
        {
            using var orphan = LiveProcess(recorded);
            if (orphan is not null)
            {
                OrphanAdopted(logger, job.JobId, orphan.Id);
                return Task.FromResult(recorded);
            }

            DeleteRecord(job.JobId);
        }

        // Through the launcher when there is one (it names the runtime), else dotnet for a .dll, else the program itself.
        // A trainer of the model's own is its local command, as it is.
        var builtIn = trainer ?? "";
        var isDll = builtIn.EndsWith(".dll", StringComparison.OrdinalIgnoreCase);
        string[] command = custom.LocalCommand is { } local ? [.. local]
            : launcher.Count > 0 ? [.. launcher, builtIn] : isDll ? ["dotnet", builtIn] : [builtIn];
        var start = StartInfo(command, TrainingJobPaths.Spec(job.RunId, job.JobId).ToString(), storage.Value, training.Value.Environment);

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { TrainerOutput(logger, job.JobId, e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { TrainerError(logger, job.JobId, e.Data); } };
        string? executionId = null;
        var listed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.Exited += (_, _) => _ = listed.Task.ContinueWith(
            _ =>
            {
                // The id (it holds the start time) is known once Start has returned.
                var id = executionId!;
                exitCodes[id] = process.ExitCode;
                TrainerExited(logger, job.JobId, process.ExitCode);
                running.TryRemove(id, out Process? _);
                DeleteRecord(job.JobId, id);
                process.Dispose();
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex) when (custom.LocalCommand is not null)
        {
            process.Dispose();
            throw new InvalidOperationException($"trainer.localCommand starts with '{command[0]}', which could not be started: {ex.Message}", ex);
        }
        catch (System.ComponentModel.Win32Exception ex) when (launcher.Count > 0)
        {
            process.Dispose();
            throw new InvalidOperationException($"{TrainingOptions.SectionName}:{launcherSetting} starts with '{launcher[0]}', which could not be started: {ex.Message}", ex);
        }

        executionId = ExecutionId(job, process.Id, StartStamp(process));
        WriteRecord(job.JobId, executionId);
        running[executionId] = process;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        TrainerStarted(logger, job.JobId, process.Id);

        // From here the exit handler may run (and dispose the process).
        listed.SetResult();
        return Task.FromResult(executionId);
    }

    public Task<JobExecutionStatus> GetStatusAsync(TrainingJobSpec job, string executionId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(executionId);
        if (exitCodes.TryGetValue(executionId, out var code))
        {
            return Task.FromResult(new JobExecutionStatus(JobExecutionState.Ended, $"trainer process exited with code {code}"));
        }

        if (running.ContainsKey(executionId))
        {
            return Task.FromResult(new JobExecutionStatus(JobExecutionState.Running));
        }

        // Started by an earlier host of this machine, which died: still running if the same process lives.
        using var orphan = LiveProcess(executionId);
        return Task.FromResult(orphan is not null
            ? new JobExecutionStatus(JobExecutionState.Running, $"trainer process {orphan.Id} started by an earlier host is still running")
            : new JobExecutionStatus(JobExecutionState.Ended, "trainer process is not running"));
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
        else if (LiveProcess(executionId) is { } orphan)
        {
            // A trainer an earlier host started: stopped the same way.
            using (orphan)
            {
                try
                {
                    orphan.Kill(entireProcessTree: true);
                }
                catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
                {
                    // It exited meanwhile, or it is not ours to stop.
                }
            }

            DeleteRecord(job.JobId, executionId);
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

    /// <summary><c>{jobId}@{processId}@{start stamp}</c>: the start stamp tells the process from a later one that got the same id.</summary>
    private static string ExecutionId(TrainingJobSpec job, int processId, long startStamp) =>
        string.Create(CultureInfo.InvariantCulture, $"{job.JobId}@{processId}@{startStamp}");

    /// <summary>
    /// When the process started, as a number that does not move: on Linux its start in clock ticks
    /// since boot (field 22 of <c>/proc/{pid}/stat</c>). <see cref="Process.StartTime"/> is not used
    /// there because .NET computes it from the boot time in wall-clock terms, which moves when the clock
    /// is set (a machine that syncs its clock after boot), so a live trainer would look like a stranger.
    /// Elsewhere the start time in UTC ticks. Zero when the process has exited already.
    /// </summary>
    private static long StartStamp(Process process)
    {
        if (OperatingSystem.IsLinux())
        {
            return BootRelativeStart(process.Id);
        }

        try
        {
            return process.StartTime.ToUniversalTime().Ticks;
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            // Exited already: no later host will need to recognize it.
            return 0;
        }
    }

    /// <summary>Field 22 (starttime) of <c>/proc/{pid}/stat</c>, read after the name in parentheses (which may hold spaces); 0 if gone.</summary>
    internal static long BootRelativeStart(int processId)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{processId.ToString(CultureInfo.InvariantCulture)}/stat");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return 0;
        }

        // After "pid (name) " come the fields from 3 (state) on, so starttime is the 20th of them.
        var fields = stat[(stat.LastIndexOf(')') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length > 19 && long.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var start) ? start : 0;
    }

    private static bool SameStart(Process process, long stamp)
    {
        if (OperatingSystem.IsLinux())
        {
            return BootRelativeStart(process.Id) == stamp;
        }

        // The start time is known to the second on every system.
        return Math.Abs(process.StartTime.ToUniversalTime().Ticks - stamp) < TimeSpan.TicksPerSecond;
    }

    /// <summary>
    /// The process an execution id names, while it still runs: the same process id with the same start
    /// stamp, so a later program that got the id is not taken for the trainer. Null
    /// otherwise; the caller disposes what it gets.
    /// </summary>
    private static Process? LiveProcess(string executionId)
    {
        var parts = executionId.Split('@');
        if (parts.Length < 3 || !int.TryParse(parts[^2], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid <= 0
            || !long.TryParse(parts[^1], NumberStyles.None, CultureInfo.InvariantCulture, out var stamp) || stamp == 0)
        {
            return null;
        }

        Process process;
        try
        {
            process = Process.GetProcessById(pid);
        }
        catch (ArgumentException)
        {
            // No such process.
            return null;
        }

        try
        {
            if (!process.HasExited && SameStart(process, stamp))
            {
                return process;
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            // It exited while it was looked at.
        }

        process.Dispose();
        return null;
    }

    private string RecordPath(string jobId)
    {
        var folder = training.Value.LocalStateDirectory is { Length: > 0 } configured ? configured : Path.Combine(Path.GetTempPath(), "serverless-lifecycle");
        var safe = string.Concat(jobId.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
        return Path.Combine(folder, "trainers", safe + ".id");
    }

    private string? ReadRecord(string jobId)
    {
        try
        {
            return File.Exists(RecordPath(jobId)) ? File.ReadAllText(RecordPath(jobId)).Trim() : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private void WriteRecord(string jobId, string executionId)
    {
        try
        {
            var path = RecordPath(jobId);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, executionId);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The trainer runs either way; only a restart's recognition of it is lost.
            RecordFailed(logger, ex, jobId);
        }
    }

    /// <summary>Deletes the job's record (only the given execution's, when named: a newer one is kept).</summary>
    private void DeleteRecord(string jobId, string? executionId = null)
    {
        try
        {
            if (executionId is null || ReadRecord(jobId) == executionId)
            {
                File.Delete(RecordPath(jobId));
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A stale record is harmless: it names a process that no longer runs.
        }
    }

    /// <summary>
    /// How a trainer is started on this machine, the trainer contract's way: the command, then
    /// <c>--job {path}</c> (also in <c>TRAINER_JOB</c>) when there is a job; the storage settings in the
    /// environment, never on the command line; output and errors redirected.
    /// </summary>
    public static ProcessStartInfo StartInfo(IReadOnlyList<string> command, string? jobPath, StorageOptions storage, IReadOnlyDictionary<string, string> environment)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(environment);
        var start = new ProcessStartInfo(command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var word in command.Skip(1))
        {
            start.ArgumentList.Add(word);
        }

        if (jobPath is not null)
        {
            start.ArgumentList.Add("--job");
            start.ArgumentList.Add(jobPath);
            start.Environment[ContainerAppsJobDispatcher.JobEnvironmentVariable] = jobPath;
        }

        SetIfPresent(start, "Storage__ConnectionString", Explicit(storage.ConnectionString));
        SetIfPresent(start, "Storage__BlobServiceUri", storage.BlobServiceUri?.ToString());
        SetIfPresent(start, "Storage__TableServiceUri", storage.TableServiceUri?.ToString());
        SetIfPresent(start, "Storage__ManagedIdentityClientId", storage.ManagedIdentityClientId);
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        return start;
    }

    /// <summary>
    /// Azurite's development connection string, spelled out. "UseDevelopmentStorage=true" is a
    /// shorthand the .NET SDK knows but other languages' SDKs may not (the Python SDK refuses it), so a
    /// trainer of the model's own gets the long form. The account key is the emulator's fixed, publicly
    /// documented development key; it opens nothing but a local emulator.
    /// </summary>
    public const string DevelopmentStorage =
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
        + "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;";

    private static string? Explicit(string? connectionString) =>
        connectionString?.Replace(" ", "", StringComparison.Ordinal).TrimEnd(';').Equals("UseDevelopmentStorage=true", StringComparison.OrdinalIgnoreCase) == true
            ? DevelopmentStorage
            : connectionString;

    private static void SetIfPresent(ProcessStartInfo start, string key, string? value)
    {
        if (!string.IsNullOrWhiteSpace(value))
        {
            start.Environment[key] = value;
        }
    }

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "Training job {JobId} is still being run by process {ProcessId}, which an earlier host started; waiting for it rather than starting a second trainer")]
    private static partial void OrphanAdopted(ILogger logger, string jobId, int processId);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Warning, Message = "Could not record the trainer process of job {JobId}; a restarted host would not recognize it")]
    private static partial void RecordFailed(ILogger logger, Exception exception, string jobId);

    [LoggerMessage(EventId = 2000, Level = LogLevel.Information, Message = "Training job {JobId} started as process {ProcessId}")]
    private static partial void TrainerStarted(ILogger logger, string jobId, int processId);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Trainer {JobId}: {Line}")]
    private static partial void TrainerOutput(ILogger logger, string jobId, string line);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Trainer {JobId} (stderr): {Line}")]
    private static partial void TrainerError(ILogger logger, string jobId, string line);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "Training job {JobId} process exited with code {ExitCode}")]
    private static partial void TrainerExited(ILogger logger, string jobId, int exitCode);
}
