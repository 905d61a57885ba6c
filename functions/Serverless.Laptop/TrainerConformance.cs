using System.Diagnostics;
using System.Text;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;
using Serverless.Lifecycle.Training;

namespace Serverless.Laptop;

/// <summary>Whether a trainer keeps one rule of the contract.</summary>
public enum ConformanceVerdict
{
    Passed,
    Failed,

    /// <summary>Not checked: a rule it needs failed first.</summary>
    NotChecked,
}

/// <summary>One rule of the trainer contract and what the trainer did about it.</summary>
public sealed record ConformanceOutcome(string Rule, ConformanceVerdict Verdict, string Detail);

/// <summary>
/// The trainer conformance kit: runs a trainer (any command) against the trainer contract the way
/// the product does (the command, <c>--job</c> and <c>TRAINER_JOB</c>, storage settings in the
/// environment), on a job cut from the given data and spec, and checks each rule of
/// <see cref="Rules"/>. The result check is the pipeline's own (<see cref="TrainingResultCheck"/>).
/// </summary>
public sealed class TrainerConformance(LifecycleStorage storage, StorageOptions storageOptions, TimeSpan timeout)
{
    /// <summary>The rules, in the order they are checked: name, and what the trainer must do.</summary>
    public static readonly IReadOnlyList<(string Rule, string Says)> Rules =
    [
        ("usage", "Started without a job (no --job, no TRAINER_JOB), it exits with code 2."),
        ("trains", "Given a job (--job runs/{run}/jobs/{job}/job.json, also in TRAINER_JOB), it exits with code 0."),
        ("result", "It writes result.json beside job.json: its jobId, state succeeded, the duration, hardware and trainer version, and model.onnx among its artifacts."),
        ("model", "The result passes the pipeline's check: the task's validation metrics, finite; model.onnx there with the reported SHA-256; loading in ONNX Runtime and fitting the spec."),
        ("once", "The same job started again exits with code 0 and leaves one result: result.json and model.onnx as they were."),
        ("failure", "A job it cannot train (a training split without the label column) exits with code 1, with a result of state failed that says why."),
    ];

    private const string JobId = "job";
    private const string FailingJobId = "job-failing";

    /// <summary>Checks every rule for <paramref name="command"/> on <paramref name="csv"/> (a labelled dataset) under <paramref name="spec"/>.</summary>
    public async Task<IReadOnlyList<ConformanceOutcome>> RunAsync(IReadOnlyList<string> command, ModelSpec spec, string csv, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(spec);
        await storage.EnsureCreatedAsync(cancellationToken);
        var runId = $"conformance-{DateTime.UtcNow:yyyyMMddHHmmss}-{Guid.NewGuid():N}"[..36];
        var (job, failing) = await PrepareAsync(runId, spec, csv, cancellationToken);
        var jobs = new TrainingJobStore(storage);
        var outcomes = new List<ConformanceOutcome>();
        void Add(string rule, bool passed, string detail) => outcomes.Add(new(rule, passed ? ConformanceVerdict.Passed : ConformanceVerdict.Failed, detail));
        void Skip(string rule, string needs) => outcomes.Add(new(rule, ConformanceVerdict.NotChecked, $"needs '{needs}' to pass first"));

        var usage = await RunTrainerAsync(command, jobPath: null, cancellationToken);
        Add("usage", usage.ExitCode == 2, usage.Describe("without a job"));

        var first = await RunTrainerAsync(command, TrainingJobPaths.Spec(runId, JobId).ToString(), cancellationToken);
        Add("trains", first.ExitCode == 0, first.Describe($"on job {runId}/{JobId}"));

        var result = await jobs.TryReadResultAsync(runId, JobId, cancellationToken);
        var resultProblem = ResultProblem(result);
        Add("result", resultProblem is null, resultProblem ?? $"result.json: {result!.State}, {result.ValidationMetrics.Count} metric(s), trainer {result.TrainerVersion} on {result.Hardware}");

        if (resultProblem is null)
        {
            var checkedResult = await TrainingResultCheck.CheckAsync(job, result!, new ModelArtifactStore(storage));
            Add("model", checkedResult.State == TrainingJobState.Succeeded, checkedResult.Error ?? $"model.onnx ({result!.Onnx!.SizeBytes} bytes, SHA-256 {result.Onnx.Sha256[..12]}…) loads and fits the spec; {string.Join(", ", result.ValidationMetrics.Select(m => $"{m.Key} {m.Value:G4}"))}");

            var before = await FilesAsync(runId, JobId, cancellationToken);
            var again = await RunTrainerAsync(command, TrainingJobPaths.Spec(runId, JobId).ToString(), cancellationToken);
            var after = await FilesAsync(runId, JobId, cancellationToken);
            var changed = new[] { TrainingJobPaths.ResultFileName, TrainingJobPaths.OnnxFileName }.Where((name, i) => !before[i].AsSpan().SequenceEqual(after[i])).ToList();
            Add(
                "once",
                again.ExitCode == 0 && changed.Count == 0,
                again.ExitCode != 0 ? again.Describe("started again on the same job") : changed.Count > 0 ? $"started again, it rewrote {string.Join(" and ", changed)} with other content" : "started again, it left the result as it was");
        }
        else
        {
            Skip("model", "result");
            Skip("once", "result");
        }

        var failed = await RunTrainerAsync(command, TrainingJobPaths.Spec(runId, FailingJobId).ToString(), cancellationToken);
        var failure = await jobs.TryReadResultAsync(runId, FailingJobId, cancellationToken);
        Add(
            "failure",
            failed.ExitCode == 1 && failure is { State: TrainingJobState.Failed, Error.Length: > 0 },
            failed.ExitCode != 1 ? failed.Describe($"on job {runId}/{FailingJobId} (a training split without '{spec.Label}')")
                : failure is null ? "it wrote no result.json for the job it could not train"
                : failure.State != TrainingJobState.Failed ? $"its result says {failure.State}"
                : failure.Error is not { Length: > 0 } ? "its failed result does not say why"
                : $"exit code 1; it says: {failure.Error}");
        return outcomes;
    }

    /// <summary>The job (the data split by the spec) and one it cannot train, written as the pipeline writes jobs.</summary>
    private async Task<(TrainingJobSpec Job, TrainingJobSpec Failing)> PrepareAsync(string runId, ModelSpec spec, string csv, CancellationToken cancellationToken)
    {
        using var train = new StringWriter();
        using var validation = new StringWriter();
        using var test = new StringWriter();
        using (var reader = new StreamReader(csv, Encoding.UTF8))
        {
            DatasetSplitter.Split(reader, spec.Split, train, validation, test);
        }

        var paths = new Dictionary<string, BlobPath>
        {
            ["train"] = RunPaths.Split(runId, "train"),
            ["validation"] = RunPaths.Split(runId, "validation"),
            ["unlabelled"] = RunPaths.Split(runId, "train-unlabelled"),
        };
        await storage.Blob(paths["train"]).UploadAsync(BinaryData.FromString(train.ToString()), overwrite: true, cancellationToken);
        await storage.Blob(paths["validation"]).UploadAsync(BinaryData.FromString(validation.ToString()), overwrite: true, cancellationToken);
        await storage.Blob(paths["unlabelled"]).UploadAsync(BinaryData.FromString(WithoutColumn(train.ToString(), spec.Label)), overwrite: true, cancellationToken);

        var bytes = await File.ReadAllBytesAsync(csv, cancellationToken);
        var dataset = new DatasetVersion(spec.Name, $"conformance/{Path.GetFileName(csv)}", "\"local\"", ModelArtifactStore.Sha256Hex(bytes), bytes.Length, DateTimeOffset.UtcNow);
        var job = new TrainingJobSpec(
            JobId, runId, spec, dataset, paths["train"].ToString(), paths["validation"].ToString(), TrainingJobPaths.Prefix(runId, JobId),
            DateTimeOffset.UtcNow.Add(timeout), spec.Trainer.Algorithm, spec.Trainer.Hyperparameters, spec.Trainer.Seed);
        var failing = job with { JobId = FailingJobId, TrainPath = paths["unlabelled"].ToString(), OutputPrefix = TrainingJobPaths.Prefix(runId, FailingJobId) };
        var jobs = new TrainingJobStore(storage);
        await jobs.WriteSpecOnceAsync(job, cancellationToken);
        await jobs.WriteSpecOnceAsync(failing, cancellationToken);
        return (job, failing);
    }

    /// <summary>The CSV without one column (the label): rows split on commas, which the sample's unquoted fields allow.</summary>
    private static string WithoutColumn(string csv, string column)
    {
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var index = Array.IndexOf(lines[0].TrimEnd('\r').Split(','), column);
        return index < 0 ? csv : string.Join('\n', lines.Select(l => string.Join(',', l.TrimEnd('\r').Split(',').Where((_, i) => i != index)))) + "\n";
    }

    private static string? ResultProblem(TrainingJobResult? result) => result switch
    {
        null => "it wrote no result.json beside job.json",
        { JobId: var id } when id != JobId => $"result.json names job '{id}', not '{JobId}'",
        { State: not TrainingJobState.Succeeded } => $"its result says {result.State}: {result.Error}",
        { TrainerVersion: not { Length: > 0 } } or { Hardware: not { Length: > 0 } } => "result.json lacks trainerVersion or hardware",
        { DurationSeconds: var d } when !(d >= 0) || double.IsInfinity(d) => $"result.json's durationSeconds is {d}",
        { Onnx: null } => $"result.json lists no {TrainingJobPaths.OnnxFileName} among its artifacts",
        _ => null,
    };

    private async Task<byte[][]> FilesAsync(string runId, string jobId, CancellationToken cancellationToken) =>
        [await ReadAsync(TrainingJobPaths.Result(runId, jobId), cancellationToken), await ReadAsync(TrainingJobPaths.Onnx(runId, jobId), cancellationToken)];

    private async Task<byte[]> ReadAsync(BlobPath path, CancellationToken cancellationToken)
    {
        var blob = storage.Blob(path);
        return (await blob.ExistsAsync(cancellationToken)).Value ? (await blob.DownloadContentAsync(cancellationToken)).Value.Content.ToArray() : [];
    }

    /// <summary>How one start of the trainer ended: its exit code (null when it ran past the timeout and was stopped) and the last lines it wrote.</summary>
    private sealed record TrainerRun(int? ExitCode, string Tail, TimeSpan Timeout)
    {
        public string Describe(string what) =>
            ExitCode is { } code ? $"{what}: exit code {code}{(Tail.Length == 0 ? "" : $"; it wrote: {Tail}")}" : $"{what}: still running after {Timeout.TotalSeconds:0} s, stopped";
    }

    private async Task<TrainerRun> RunTrainerAsync(IReadOnlyList<string> command, string? jobPath, CancellationToken cancellationToken)
    {
        var start = LocalProcessTrainingDispatcher.StartInfo(command, jobPath, storageOptions, new Dictionary<string, string>());
        if (jobPath is null)
        {
            start.Environment.Remove(ContainerAppsJobDispatcher.JobEnvironmentVariable);
        }

        var tail = new Queue<string>();
        void Keep(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (tail)
            {
                tail.Enqueue(line);
                if (tail.Count > 5)
                {
                    tail.Dequeue();
                }
            }
        }

        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return new TrainerRun(-1, $"'{command[0]}' could not be started: {ex.Message}", timeout);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(bounded.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            return new TrainerRun(null, "", timeout);
        }

        process.WaitForExit();
        lock (tail)
        {
            return new TrainerRun(process.ExitCode, string.Join(" | ", tail), timeout);
        }
    }
}
