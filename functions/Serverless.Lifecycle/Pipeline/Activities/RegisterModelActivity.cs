using System.Text.Json;
using Microsoft.DurableTask;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Pipeline.Activities;

/// <summary>
/// Registers the candidate as the next version: reserve the number, write the ONNX file and the
/// card, then mark the version ready with the SHA-256 of both, then append its audit event. Crash-safe at every step: a retry
/// finds the run's reservation and finishes it, so a run never creates two versions, and the audit
/// event travels in the row's completing write, so it is appended exactly once.
/// </summary>
public sealed class RegisterModelActivity(ModelRegistry registry, ModelArtifactStore artifacts, TimeProvider clock)
    : TaskActivity<RegisterInput, RegisteredVersion>
{
    public override async Task<RegisteredVersion> RunAsync(TaskActivityContext context, RegisterInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var onnx = input.Job.Onnx ?? throw new InvalidDataException($"Job {input.Job.JobId} reported no ONNX artifact.");
        var reserved = await registry.ReserveVersionAsync(input.Spec.Name, input.RunId, CancellationToken.None);
        if (reserved.Status == ModelVersionStatus.Ready)
        {
            // An earlier attempt completed the row; completing again appends its audit event if that attempt died first.
            var done = await registry.CompleteVersionAsync(reserved, reserved.Sha256!, reserved.CardSha256, reserved.Metrics, CancellationToken.None);
            return new RegisteredVersion(done.Model, done.Version, done.Sha256!);
        }

        var (sha, size) = await artifacts.WriteModelAsync(BlobPath.Parse(onnx.Path), onnx.Sha256, reserved, CancellationToken.None);
        var card = new ModelCard(
            reserved.Model,
            reserved.Version,
            input.RunId,
            clock.GetUtcNow(),
            input.Spec,
            input.Dataset,
            input.Job.Algorithm ?? input.Spec.Trainer.Algorithm,
            input.Job.Hyperparameters ?? input.Spec.Trainer.Hyperparameters,
            input.Job.Seed ?? input.Spec.Trainer.Seed,
            input.Job.TrainerVersion,
            input.Job.Hardware,
            input.Job.ValidationMetrics,
            input.Evaluation.Metrics,
            input.Evaluation.Verdict,
            input.Job.Parity,
            sha,
            size,
            input.ProfilePath,
            new CardLineage(
                input.Trigger,
                input.Reason,
                ModelArtifactStore.Sha256Hex(JsonSerializer.SerializeToUtf8Bytes(input.Spec, SpecJson.Options)),
                input.Trials ?? [],
                input.Evaluation.Slices ?? [],
                input.Evaluation.Champion,
                input.Evaluation.LoadMs,
                input.Evaluation.LatencyP99Ms),
            input.Job.Device,
            input.Job.TrainingRowsPerSecond,
            input.Imported,
            input.Evaluation.Importance);
        var cardSha = await artifacts.WriteCardAsync(reserved, card, CancellationToken.None);
        var ready = await registry.CompleteVersionAsync(reserved, sha, cardSha, input.Evaluation.Metrics, CancellationToken.None);
        return new RegisteredVersion(ready.Model, ready.Version, sha);
    }
}
