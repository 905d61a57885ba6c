using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Tests.Serving;

/// <summary>Registers a trained ONNX file as a ready version the way the pipeline does: artifact, card, then the registry row.</summary>
internal static class ServedVersions
{
    public static async Task<ModelVersion> RegisterAsync(LifecycleStorage storage, ModelRegistry registry, ModelSpec spec, byte[] onnx)
    {
        var reserved = await registry.ReserveVersionAsync(spec.Name, $"run-{Guid.NewGuid():N}", CancellationToken.None);
        var sha = ModelArtifactStore.Sha256Hex(onnx);
        await storage.Blob(BlobPath.Parse(reserved.ModelPath)).UploadAsync(new BinaryData(onnx), overwrite: true);
        var card = new ModelCard(
            spec.Name, reserved.Version, reserved.RunId, DateTimeOffset.UtcNow, spec,
            new DatasetVersion(spec.Name, "datasets/x.csv", "etag", new string('0', 64), 1, DateTimeOffset.UtcNow),
            TrainerAlgorithms.LightGbm, new Dictionary<string, double>(), 1, "test", "cpu",
            new Dictionary<string, double>(), new Dictionary<string, double>(), new GateVerdict(true, []), null, sha, onnx.Length);
        await new ModelArtifactStore(storage).WriteCardAsync(reserved, card, CancellationToken.None);
        return await registry.CompleteVersionAsync(reserved, sha, new Dictionary<string, double>(), CancellationToken.None);
    }
}
