using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;
using Serverless.Lifecycle.Training;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Training;

/// <summary>
/// Runs deep training jobs in the Debian 13 root file system (<see cref="DeepTrainerRootFs"/>):
/// each starts through laptop mode's dispatcher with <see cref="TrainingOptions.DeepTrainerLauncher"/>
/// set, as a user would.
/// </summary>
public static class DeepTrainerHost
{
    public static string TrainerPath => DeepTrainerRootFs.TrainerPath;

    public static IReadOnlyList<string> Launcher => DeepTrainerRootFs.Launcher;

    /// <summary>Writes the job (splits and spec) to Azurite, starts it through the dispatcher, and waits for its result.</summary>
    public static async Task<DeepJob> TrainAsync(LifecycleStorage storage, ModelSpec spec, string trainCsv, string validationCsv, string runId, string jobId, bool useLauncher = true)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(spec);
        Assert.True(File.Exists(TrainerPath), $"{TrainerPath} is not built");
        var jobs = new TrainingJobStore(storage);
        await storage.EnsureCreatedAsync(CancellationToken.None);
        var train = new BlobPath(StorageNames.RunsContainer, $"{runId}/split/train.csv");
        var validation = new BlobPath(StorageNames.RunsContainer, $"{runId}/split/validation.csv");
        await storage.Blob(train).UploadAsync(BinaryData.FromString(trainCsv), overwrite: true);
        await storage.Blob(validation).UploadAsync(BinaryData.FromString(validationCsv), overwrite: true);
        var dataset = new DatasetVersion(spec.Name, $"datasets/{spec.Name}/x.csv", "\"0x1\"", new string('0', 64), 1, DateTimeOffset.UnixEpoch);
        var job = await jobs.WriteSpecOnceAsync(
            new TrainingJobSpec(jobId, runId, spec, dataset, train.ToString(), validation.ToString(), TrainingJobPaths.Prefix(runId, jobId),
                DateTimeOffset.UtcNow.AddHours(1), spec.Trainer.Algorithm, spec.Trainer.Hyperparameters, spec.Trainer.Seed),
            CancellationToken.None);

        var state = Directory.CreateTempSubdirectory("deep-trainer-state-");
        var options = new TrainingOptions { DeepTrainerPath = TrainerPath, LocalStateDirectory = state.FullName };
        if (useLauncher)
        {
            foreach (var word in Launcher)
            {
                options.DeepTrainerLauncher.Add(word);
            }
        }

        var log = new RecordingLogger<LocalProcessTrainingDispatcher>();
        using var dispatcher = new LocalProcessTrainingDispatcher(Options.Create(options), Options.Create(Azurite.Options), log);
        try
        {
            var execution = await dispatcher.StartAsync(job, CancellationToken.None);
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromMinutes(8))
            {
                if (await jobs.TryReadResultAsync(runId, jobId, CancellationToken.None) is { } result)
                {
                    var progress = await ReadProgressAsync(storage, runId, jobId);
                    return new DeepJob(result, result.Onnx is { } onnx ? (await storage.Blob(BlobPath.Parse(onnx.Path)).DownloadContentAsync()).Value.Content.ToArray() : null, progress, Output(log));
                }

                if ((await dispatcher.GetStatusAsync(job, execution, CancellationToken.None)).State == JobExecutionState.Ended
                    && await jobs.TryReadResultAsync(runId, jobId, CancellationToken.None) is null)
                {
                    Assert.Fail($"The deep trainer ended without a result:\n{Output(log)}");
                }

                await Task.Delay(250);
            }

            await dispatcher.StopAsync(job, execution, CancellationToken.None);
            Assert.Fail($"The deep trainer had no result after 8 minutes:\n{Output(log)}");
            throw new UnreachableException();
        }
        finally
        {
            state.Delete(recursive: true);
        }
    }

    private static async Task<TrainingProgress?> ReadProgressAsync(LifecycleStorage storage, string runId, string jobId)
    {
        var blob = storage.Blob(TrainingJobPaths.Progress(runId, jobId));
        return await blob.ExistsAsync()
            ? System.Text.Json.JsonSerializer.Deserialize<TrainingProgress>((await blob.DownloadContentAsync()).Value.Content.ToString(), SpecJson.Options)
            : null;
    }

    private static string Output(RecordingLogger<LocalProcessTrainingDispatcher> log) => string.Join('\n', log.Entries.Select(e => e.Message));
}

/// <summary>A deep job's result, its ONNX bytes (when it succeeded), its last progress report, and the trainer's output.</summary>
public sealed record DeepJob(TrainingJobResult Result, byte[]? Onnx, TrainingProgress? Progress, string Output);
