using System.Diagnostics;
using System.Reflection;
using Azure;
using Azure.Storage.Blobs.Models;
using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Observability;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Scoring;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;
using Serverless.Lifecycle.Training;

namespace Serverless.Trainer;

/// <summary>
/// Runs one training job end to end: read the spec, train, upload the ONNX file, write the result.
/// Idempotent: a job that already has a result is not trained again, and a committed artifact is
/// never overwritten with different bytes. Trains the algorithms of its <paramref name="trainers"/>
/// (by default the ML.NET ones); a job for another algorithm fails with a result that says where it belongs.
/// </summary>
public sealed class TrainingJobRunner(LifecycleStorage storage, TrainingJobStore jobs, ICompletionNotifier? notifier = null, IReadOnlyList<IAlgorithmTrainer>? trainers = null)
{
    private readonly IReadOnlyList<IAlgorithmTrainer> trainers = trainers ?? [new MlNetTrainer()];

    /// <summary>
    /// The trainer's version and, when it was built from a git checkout, the commit it was built from
    /// (<c>0.1.0+6852497a60c5</c>): what a card records, and what a reproduce run names when the bytes
    /// differ and the trainer that ran is another build. An image built without the repository's history
    /// has the version alone.
    /// </summary>
    public static string TrainerVersion { get; } = Describe(typeof(TrainingJobRunner).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion);

    private static string Describe(string? informational) => informational?.Split('+') switch
    {
        [var version, { Length: > 0 } commit, ..] => $"{version}+{commit[..Math.Min(12, commit.Length)]}",
        [var version, ..] when version.Length > 0 => version,
        _ => "0.0.0",
    };

    public async Task<TrainingJobResult> RunAsync(BlobPath specPath, CancellationToken cancellationToken)
    {
        await storage.EnsureCreatedAsync(cancellationToken);
        var job = await jobs.ReadSpecAsync(specPath, cancellationToken);

        // The job's span joins the trace of the run that started it.
        ActivityContext.TryParse(job.TraceParent, null, isRemote: true, out var parent);
        using var span = Telemetry.Source.StartActivity(TelemetryNames.Spans.Train, ActivityKind.Internal, parent);
        span?.SetTag(TelemetryNames.Tags.Run, job.RunId).SetTag(TelemetryNames.Tags.Job, job.JobId).SetTag(TelemetryNames.Tags.Model, job.Model.Name).SetTag(TelemetryNames.Tags.Algorithm, job.Algorithm);
        if (await jobs.TryReadResultAsync(job.RunId, job.JobId, cancellationToken) is { } existing)
        {
            // Reported before (a second start of the same job): report it again, train nothing.
            await NotifyAsync(job, existing, cancellationToken);
            return existing;
        }

        var clock = Stopwatch.StartNew();
        var timings = new PhaseTimer();
        TrainingJobResult result;
        var folder = Directory.CreateTempSubdirectory("train-");
        try
        {
            var train = Path.Combine(folder.FullName, "train.csv");
            var validation = Path.Combine(folder.FullName, "validation.csv");
            await storage.Blob(BlobPath.Parse(job.TrainPath)).DownloadToAsync(train, cancellationToken);
            await storage.Blob(BlobPath.Parse(job.ValidationPath)).DownloadToAsync(validation, cancellationToken);
            timings.Lap("download");

            var trainer = trainers.FirstOrDefault(t => t.Algorithms.Contains(job.Algorithm))
                ?? throw new TrainingFailedException(
                    $"This trainer ({typeof(TrainingJobRunner).Assembly.GetName().Name} or the program that hosts it) does not train '{job.Algorithm}'; it trains {string.Join(", ", trainers.SelectMany(t => t.Algorithms))}. "
                    + $"'{job.Algorithm}' runs on the {TrainerAlgorithms.Placement(job.Algorithm)} trainer; check which trainer the dispatcher starts for it.");
            var progress = new ProgressWriter(storage.Blob(TrainingJobPaths.Progress(job.RunId, job.JobId)), job.JobId);
            if (job.TrainLabels is { } labels)
            {
                TrainingLabels.Check(job.Model, labels);
            }

            var trained = trainer.Train(job.EffectiveModel, train, validation, job.TrainLabels, progress);
            progress.Flush();
            timings.Add(trained.Timings);
            // Written so that a NaN difference (a model that outputs NaN) fails too.
            if (!trained.Parity.LabelsIdentical || !(trained.Parity.MaxProbabilityDifference <= TabularTrainer.ParityTolerance))
            {
                result = Failed(job, clock, $"The ONNX export does not reproduce the trainer's own predictions: max probability difference {trained.Parity.MaxProbabilityDifference:G3}, labels identical: {trained.Parity.LabelsIdentical}.");
            }
            else
            {
                var artifact = await UploadOnceAsync(TrainingJobPaths.Onnx(job.RunId, job.JobId), trained.Onnx, cancellationToken);
                timings.Lap("upload");
                if (job.TestPath is not null)
                {
                    await ScoreTestAsync(job, trained.Onnx, folder.FullName, cancellationToken);
                    timings.Lap("test");
                }

                result = new TrainingJobResult(
                    job.JobId, TrainingJobState.Succeeded, null, trained.ValidationMetrics, [artifact], trained.Parity, clock.Elapsed.TotalSeconds, Hardware.Describe(), TrainerVersion,
                    job.Algorithm, job.Hyperparameters, job.Seed, timings.Seconds, trained.Device, trained.TrainingRowsPerSecond);
            }
        }
        catch (TrainingFailedException ex)
        {
            result = Failed(job, clock, ex.Message);
        }
#pragma warning disable CA1031 // Any failure of training itself becomes the job's reported failure, never a crash.
        catch (Exception ex) when (ex is not (RequestFailedException or OperationCanceledException))
#pragma warning restore CA1031
        {
            // ML.NET reports bad data and bad options, and ONNX Runtime a model it cannot load, with
            // exceptions; the same job would fail the same way again, so it reports instead of crashing
            // (a crash would look like a lost job and be started again). Storage errors still end
            // the process with exit code 3, so the pipeline retries the job.
            result = Failed(job, clock, $"{ex.GetType().Name}: {FirstLine(ex.Message)}");
        }
        finally
        {
            folder.Delete(recursive: true);
        }

        var stored = await jobs.WriteResultOnceAsync(job.RunId, result, cancellationToken);
        await NotifyAsync(job, stored, cancellationToken);
        return stored;
    }

    /// <summary>
    /// Scores the model on the test split where the job runs, as the evaluate step would (ONNX
    /// Runtime, the same evaluator and slices), and writes the scores before the result, so the
    /// evaluate step only compares. A split the model cannot be scored on writes nothing: the
    /// evaluate step then scores it and reports why, as it always has.
    /// </summary>
    private async Task ScoreTestAsync(TrainingJobSpec job, byte[] onnx, string folder, CancellationToken cancellationToken)
    {
        var file = Path.Combine(folder, "test.csv");
        await storage.Blob(BlobPath.Parse(job.TestPath!)).DownloadToAsync(file, cancellationToken);
        TestEvaluation evaluation;
        try
        {
            using var reader = new StreamReader(file);
            using var model = new OnnxModel(onnx, job.Model);
            var test = LabeledBatch.ReadCsv(reader, job.Model);
            evaluation = new TestEvaluation(test.Rows, ModelEvaluator.EvaluateCandidate(model, test));
        }
#pragma warning disable CA1031 // Not scoring here is never a failure of the job: the evaluate step scores instead.
        catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
        {
            await Console.Error.WriteLineAsync($"The test split was not scored in the job ({ex.GetType().Name}: {FirstLine(ex.Message)}); the evaluate step scores it.");
            return;
        }

        await storage.Blob(TrainingJobPaths.TestEvaluation(job.RunId, job.JobId)).UploadAsync(BinaryData.FromObjectAsJson(evaluation, SpecJson.Options), overwrite: true, cancellationToken);
    }

    private Task NotifyAsync(TrainingJobSpec job, TrainingJobResult result, CancellationToken cancellationToken) =>
        notifier?.NotifyAsync(job, result, cancellationToken) ?? Task.CompletedTask;

    private async Task<TrainingArtifact> UploadOnceAsync(BlobPath path, byte[] bytes, CancellationToken cancellationToken)
    {
        var sha = ModelArtifactStore.Sha256Hex(bytes);
        var blob = storage.Blob(path);
        try
        {
            await blob.UploadAsync(
                new BinaryData(bytes),
                new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } },
                cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            var existing = (await blob.DownloadContentAsync(cancellationToken)).Value.Content.ToArray();
            var existingSha = ModelArtifactStore.Sha256Hex(existing);
            if (existingSha != sha)
            {
                throw new TrainingFailedException($"{path} already holds a different model (SHA-256 {existingSha}); refusing to overwrite it.");
            }
        }

        return new TrainingArtifact(TrainingJobPaths.OnnxFileName, path.ToString(), sha, bytes.LongLength);
    }

    private static string FirstLine(string message)
    {
        var line = message.Split('\n', 2)[0].Trim();
        return line.Length <= 1000 ? line : line[..1000] + "…";
    }

    private static TrainingJobResult Failed(TrainingJobSpec job, Stopwatch clock, string error) =>
        new(job.JobId, TrainingJobState.Failed, error, new Dictionary<string, double>(), [], null, clock.Elapsed.TotalSeconds, Hardware.Describe(), TrainerVersion,
            job.Algorithm, job.Hyperparameters, job.Seed);
}
