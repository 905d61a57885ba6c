using Microsoft.DurableTask;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Pipeline.Activities;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;
using Serverless.Lifecycle.Training;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Registry;

/// <summary>A crash between writing the artifacts and completing the registry row, then the retried activity.</summary>
public sealed class RegistrationCrashTests : IDisposable
{
    private readonly LifecycleStorage storage = Azurite.CreateStorage();

    public void Dispose() => storage.Dispose();

    private sealed class Context : TaskActivityContext
    {
        public override TaskName Name => nameof(RegisterModelActivity);

        public override string InstanceId => "run";
    }

    [Fact]
    public async Task Register_RetriedAfterACrashBeforeTheRowWasCompleted_RegistersExactlyOneVersion()
    {
        var spec = ModelSpecValidator.Parse(File.ReadAllText(RepoPaths.SampleSpec)).Spec! with { Name = Azurite.UniqueModelName("crash") };
        var registry = new ModelRegistry(storage, TimeProvider.System);
        var artifacts = new ModelArtifactStore(storage);
        await registry.PutSpecAsync(spec, "test", CancellationToken.None);
        await storage.EnsureCreatedAsync();
        var runId = spec.Name + "-run";
        var onnx = new byte[] { 1, 2, 3, 4 };
        var onnxPath = TrainingJobPaths.Onnx(runId, runId + "-train");
        await storage.Blob(onnxPath).UploadAsync(new BinaryData(onnx));
        var sha = ModelArtifactStore.Sha256Hex(onnx);
        var job = new TrainingJobResult(runId + "-train", TrainingJobState.Succeeded, null, new Dictionary<string, double>(), [new TrainingArtifact("model.onnx", onnxPath.ToString(), sha, onnx.Length)], null, 1, "cpu", "1");
        var evaluation = new EvaluationResult(new Dictionary<string, double> { ["auc"] = 0.8 }, new GateVerdict(true, []), 10);
        var dataset = new DatasetVersion(spec.Name, "datasets/x.csv", "\"0x1\"", new string('0', 64), 1, DateTimeOffset.UnixEpoch);
        var input = new RegisterInput(runId, spec, dataset, job, evaluation, null, RunTriggers.Upload);

        // The first attempt reserved the number and wrote the model, then its process died.
        var reserved = await registry.ReserveVersionAsync(spec.Name, runId, CancellationToken.None);
        await artifacts.WriteModelAsync(onnxPath, sha, reserved, CancellationToken.None);
        Assert.Equal(ModelVersionStatus.Pending, Assert.Single(await registry.ListVersionsAsync(spec.Name, CancellationToken.None)).Status);
        await Assert.ThrowsAsync<AliasNotFoundException>(() => registry.ResolveAsync(spec.Name, "latest", CancellationToken.None));

        var activity = new RegisterModelActivity(registry, artifacts, TimeProvider.System);
        var first = await activity.RunAsync(new Context(), input);
        var again = await activity.RunAsync(new Context(), input);

        var version = Assert.Single(await registry.ListVersionsAsync(spec.Name, CancellationToken.None));
        Assert.Equal((reserved.Version, ModelVersionStatus.Ready, sha), (version.Version, version.Status, version.Sha256));
        Assert.Equal(first, again);
        Assert.Equal(onnx, await artifacts.ReadModelAsync(version, CancellationToken.None));
        var card = await artifacts.ReadCardAsync(version, CancellationToken.None);
        Assert.Equal((runId, RunTriggers.Upload), (card.RunId, card.Lineage!.Trigger));
        Assert.Single(await registry.ListAuditAsync(spec.Name, CancellationToken.None), e => e.Action == AuditActions.VersionRegistered);
    }
}
