using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;
using Serverless.Lifecycle.Training;
using Serverless.Trainer;

// The built-in ML.NET trainer, breaking the one rule of the trainer contract BROKEN_RULE names
// (the conformance kit's rules): usage, trains, result, model, once or failure.
var rule = Environment.GetEnvironmentVariable("BROKEN_RULE");
var jobIndex = Array.IndexOf(args, "--job");
var job = jobIndex >= 0 && jobIndex + 1 < args.Length ? args[jobIndex + 1] : Environment.GetEnvironmentVariable("TRAINER_JOB");
switch (rule)
{
    case "usage" when job is null:
        return 0;
    case "result" when job is not null:
        return 0;
}

var options = new StorageOptions { ConnectionString = Environment.GetEnvironmentVariable("Storage__ConnectionString"), CreateLayout = false };
using var storage = new LifecycleStorage(Options.Create(options));
var jobs = new TrainingJobStore(storage);
var spec = job is null ? null : await jobs.ReadSpecAsync(BlobPath.Parse(job), CancellationToken.None);
if (rule == "once" && spec is not null && await jobs.TryReadResultAsync(spec.RunId, spec.JobId, CancellationToken.None) is { } earlier)
{
    // Trains "again": a second result over the first.
    await storage.Blob(TrainingJobPaths.Result(spec.RunId, spec.JobId))
        .UploadAsync(BinaryData.FromObjectAsJson(earlier with { DurationSeconds = earlier.DurationSeconds + 1 }, SpecJson.Options), overwrite: true);
    return 0;
}

var code = await TrainerProgram.RunAsync(args, [new MlNetTrainer()], "broken-trainer");
switch (rule)
{
    case "trains" when job is not null:
        return 4;
    case "model" when spec is not null && code == 0:
        // The file no longer has the SHA-256 the result reports.
        var onnx = storage.Blob(TrainingJobPaths.Onnx(spec.RunId, spec.JobId));
        var bytes = (await onnx.DownloadContentAsync()).Value.Content.ToArray();
        await onnx.UploadAsync(BinaryData.FromBytes([.. bytes, 0]), overwrite: true);
        return 0;
    case "failure" when code == 1:
        return 0;
    default:
        return code;
}
