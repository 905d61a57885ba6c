using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Tests.Serving;

/// <summary>A small model trained for serving tests: its spec (registered), its ONNX bytes and its test split as CSV.</summary>
internal sealed record TrainedSample(ModelSpec Spec, byte[] Onnx, string TestCsv);

internal static class ServedVersions
{
    /// <summary>Trains the churn sample on 600 rows under <paramref name="model"/> and registers its spec (no version yet).</summary>
    public static async Task<TrainedSample> TrainSampleAsync(ModelRegistry registry, string model)
    {
        using var data = new Training.TrainingData(rows: 600);
        var spec = data.Spec with { Name = model };
        var onnx = Trainer.TabularTrainer.Train(spec, data.Train, data.Validation).Onnx;
        var testCsv = await File.ReadAllTextAsync(data.Test);
        await registry.PutSpecAsync(spec, "test", CancellationToken.None);
        return new TrainedSample(spec, onnx, testCsv);
    }

    /// <summary>
    /// Registers a trained ONNX file as a ready version the way the pipeline does: artifact, card, then the
    /// registry row with the SHA-256 of both. <paramref name="profilePath"/> goes in the card as its baseline profile.
    /// </summary>
    public static async Task<ModelVersion> RegisterAsync(LifecycleStorage storage, ModelRegistry registry, ModelSpec spec, byte[] onnx, string? profilePath = null)
    {
        var reserved = await registry.ReserveVersionAsync(spec.Name, $"run-{Guid.NewGuid():N}", CancellationToken.None);
        var sha = ModelArtifactStore.Sha256Hex(onnx);
        await storage.Blob(BlobPath.Parse(reserved.ModelPath)).UploadAsync(new BinaryData(onnx), overwrite: true);
        var card = new ModelCard(
            spec.Name, reserved.Version, reserved.RunId, DateTimeOffset.UtcNow, spec,
            new DatasetVersion(spec.Name, "datasets/x.csv", "etag", new string('0', 64), 1, DateTimeOffset.UtcNow),
            TrainerAlgorithms.LightGbm, new Dictionary<string, double>(), 1, "test", "cpu",
            new Dictionary<string, double>(), new Dictionary<string, double>(), new GateVerdict(true, []), null, sha, onnx.Length, profilePath);
        var cardSha = await new ModelArtifactStore(storage).WriteCardAsync(reserved, card, CancellationToken.None);
        return await registry.CompleteVersionAsync(reserved, sha, cardSha, new Dictionary<string, double>(), CancellationToken.None);
    }

    /// <summary>
    /// Changes the stored card.json of <paramref name="version"/> as someone with write access to the
    /// models container could: still a valid card, but its spec now rejects unknown features.
    /// </summary>
    public static async Task TamperCardAsync(LifecycleStorage storage, ModelVersion version)
    {
        var blob = storage.Blob(BlobPath.Parse(version.CardPath));
        var card = System.Text.Json.Nodes.JsonNode.Parse((await blob.DownloadContentAsync()).Value.Content.ToString())!;
        var serving = card["spec"]!["serving"]!.AsObject();
        var before = (string?)serving["unknownFeatures"];
        serving["unknownFeatures"] = before == InputPolicies.Reject ? InputPolicies.Ignore : InputPolicies.Reject;
        await blob.UploadAsync(new BinaryData(card.ToJsonString()), overwrite: true);
    }
}
