using Azure.Core;
using Azure.Core.Pipeline;
using Microsoft.DurableTask;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Monitoring;
using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Pipeline.Activities;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;
using Serverless.Lifecycle.Training;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Registry;

/// <summary>A crash at each step of a registration, then the retried activity, as Durable retries it after a host dies.</summary>
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

    /// <summary>The registration's writes, in order; a crash is injected right after one of them lands.</summary>
    public static readonly string[] Steps = ["reserve the number", "write model.onnx", "write card.json", "complete the row", "append the audit event"];

    private static bool IsStep(int step, Request request)
    {
        var path = request.Uri.Path;
        var method = request.Method.ToString();
        return step switch
        {
            0 => method == "POST" && path.EndsWith("/" + StorageNames.VersionsTable, StringComparison.Ordinal),
            1 => method == "PUT" && path.EndsWith("/model.onnx", StringComparison.Ordinal) && path.Contains("/" + StorageNames.ModelsContainer + "/", StringComparison.Ordinal),
            2 => method == "PUT" && path.EndsWith("/card.json", StringComparison.Ordinal),
            3 => method == "PUT" && path.Contains("/" + StorageNames.VersionsTable + "(", StringComparison.Ordinal),
            _ => method == "POST" && path.EndsWith("/" + StorageNames.AuditTable, StringComparison.Ordinal),
        };
    }

    /// <summary>Lets the first request that <paramref name="matches"/> land, then kills the "process": the caller never learns it succeeded.</summary>
    private sealed class CrashAfter(Func<Request, bool> matches, string what) : HttpPipelinePolicy
    {
        public CrashAfter(int step)
            : this(request => IsStep(step, request), Steps[step])
        {
        }

        public bool Crashed { get; private set; }

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            await ProcessNextAsync(message, pipeline);
            Check(message);
        }

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            ProcessNext(message, pipeline);
            Check(message);
        }

        private void Check(HttpMessage message)
        {
            if (!Crashed && message.Response.Status < 300 && matches(message.Request))
            {
                Crashed = true;
                throw new ProcessCrashedException($"crashed after: {what}");
            }
        }
    }

    private sealed class ProcessCrashedException(string message) : Exception(message);

    [Fact]
    public async Task Register_CrashAtEachStepThenRetried_TenRegistrations_GiveTenVersionsWithOneAuditEventEach()
    {
        var spec = ModelSpecValidator.Parse(File.ReadAllText(RepoPaths.SampleSpec)).Spec! with { Name = Azurite.UniqueModelName("crash10") };
        await new ModelRegistry(storage, TimeProvider.System).PutSpecAsync(spec, "test", CancellationToken.None);
        await storage.EnsureCreatedAsync();
        var onnx = new byte[] { 7, 8, 9 };
        var sha = ModelArtifactStore.Sha256Hex(onnx);
        var evaluation = new EvaluationResult(new Dictionary<string, double> { ["auc"] = 0.8 }, new GateVerdict(true, []), 10);
        var dataset = new DatasetVersion(spec.Name, "datasets/x.csv", "\"0x1\"", new string('0', 64), 1, DateTimeOffset.UnixEpoch);

        for (var i = 0; i < 10; i++)
        {
            var runId = $"{spec.Name}-run{i}";
            var onnxPath = TrainingJobPaths.Onnx(runId, runId + "-train");
            await storage.Blob(onnxPath).UploadAsync(new BinaryData(onnx));
            var job = new TrainingJobResult(runId + "-train", TrainingJobState.Succeeded, null, new Dictionary<string, double>(), [new TrainingArtifact("model.onnx", onnxPath.ToString(), sha, onnx.Length)], null, 1, "cpu", "1");
            var input = new RegisterInput(runId, spec, dataset, job, evaluation, null, RunTriggers.Upload);

            // The first attempt dies right after step i % 5 lands; the retry runs in a "new process" (fresh clients).
            var crash = new CrashAfter(i % Steps.Length);
            using (var dying = new LifecycleStorage(Microsoft.Extensions.Options.Options.Create(Azurite.Options), crash))
            {
                var doomed = new RegisterModelActivity(new ModelRegistry(dying, TimeProvider.System), new ModelArtifactStore(dying), TimeProvider.System);
                await Assert.ThrowsAsync<ProcessCrashedException>(() => doomed.RunAsync(new Context(), input));
                Assert.True(crash.Crashed);
            }

            var retried = new RegisterModelActivity(new ModelRegistry(storage, TimeProvider.System), new ModelArtifactStore(storage), TimeProvider.System);
            await retried.RunAsync(new Context(), input);
        }

        var registry = new ModelRegistry(storage, TimeProvider.System);
        var versions = await registry.ListVersionsAsync(spec.Name, CancellationToken.None);
        Assert.Equal(Enumerable.Range(1, 10), versions.Select(v => v.Version).Order());
        Assert.All(versions, v => Assert.Equal(ModelVersionStatus.Ready, v.Status));
        Assert.Equal(10, versions.Select(v => v.RunId).Distinct().Count());
        var registered = (await registry.ListAuditAsync(spec.Name, CancellationToken.None)).Where(e => e.Action == AuditActions.VersionRegistered).ToList();
        Assert.Equal(Enumerable.Range(1, 10), registered.Select(e => e.To!.Value).Order());
    }

    [Fact]
    public async Task AliasMove_CrashAfterTheRowWasWritten_TheRetryAppendsTheOneMissingAuditEvent()
    {
        var spec = ModelSpecValidator.Parse(File.ReadAllText(RepoPaths.SampleSpec)).Spec! with { Name = Azurite.UniqueModelName("crashalias") };
        var registry = new ModelRegistry(storage, TimeProvider.System);
        await registry.PutSpecAsync(spec, "test", CancellationToken.None);
        var v1 = await Serving.ServedVersions.RegisterAsync(storage, registry, spec, [1, 2, 3]);

        // Dies right after the alias row is written, before its audit event.
        var crash = new CrashAfter(
            request => request.Method.ToString() is "POST" or "PUT" && request.Uri.Path.Contains("/" + StorageNames.AliasesTable, StringComparison.Ordinal),
            "the alias row was written");
        using (var dying = new LifecycleStorage(Microsoft.Extensions.Options.Options.Create(Azurite.Options), crash))
        {
            await Assert.ThrowsAsync<ProcessCrashedException>(() => new ModelRegistry(dying, TimeProvider.System).SetAliasAsync(spec.Name, ReservedAliases.Champion, v1.Version, null, "pipeline run r", "promote", CancellationToken.None));
        }

        Assert.Equal(v1.Version, (await registry.ResolveAsync(spec.Name, ReservedAliases.Champion, CancellationToken.None)).Version);
        Assert.DoesNotContain(await registry.ListAuditAsync(spec.Name, CancellationToken.None), e => e.Action == AuditActions.AliasMoved);

        await registry.SetAliasAsync(spec.Name, ReservedAliases.Champion, v1.Version, null, "pipeline run r", "promote", CancellationToken.None);
        await registry.SetAliasAsync(spec.Name, ReservedAliases.Champion, v1.Version, null, "pipeline run r", "promote", CancellationToken.None);

        var moved = Assert.Single(await registry.ListAuditAsync(spec.Name, CancellationToken.None), e => e.Action == AuditActions.AliasMoved);
        Assert.Equal((ReservedAliases.Champion, (int?)null, (int?)v1.Version, "pipeline run r", "promote"), (moved.Alias, moved.From, moved.To, moved.Actor, moved.Reason));
    }
}
