using System.Text.Json;
using Microsoft.DurableTask;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Pipeline.Activities;

/// <summary>Input of the first step of a reproduce run: the version, and the dataset its card recorded.</summary>
public sealed record LineageInput(string RunId, string Model, int Version, DatasetVersion Dataset);

/// <summary>What of a version's recorded lineage no longer holds; empty when all of it does.</summary>
public sealed record LineageCheck(IReadOnlyList<ReproductionDifference> Differences);

/// <summary>
/// The first step of a reproduce run: before anything is trained, checks that what the version
/// recorded about its making still holds. The spec on its card (read as stored, and checked against
/// the card's SHA-256 in the registry) must still hash to the SHA-256 recorded when it was
/// registered, and its dataset blob must still exist. Whether the dataset's bytes are the recorded
/// ones is left to the validate step, which reads every byte anyway and compares its SHA-256.
/// </summary>
public sealed class CheckLineageActivity(ModelRegistry registry, ModelArtifactStore artifacts, LifecycleStorage storage) : TaskActivity<LineageInput, LineageCheck>
{
    public override async Task<LineageCheck> RunAsync(TaskActivityContext context, LineageInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var differences = new List<ReproductionDifference>();
        var version = await registry.GetVersionAsync(input.Model, input.Version, CancellationToken.None);
        try
        {
            var card = await artifacts.ReadCardBytesAsync(version, CancellationToken.None);
            var recorded = JsonSerializer.Deserialize<ModelCard>(card, SpecJson.Options)?.Lineage?.SpecSha256;
            var stored = ModelArtifactStore.StoredSpecSha256(card);
            if (recorded is null)
            {
                differences.Add(new(ReproductionDifferences.Spec, $"version {input.Version}'s card records no SHA-256 of its spec, so the spec cannot be shown to be the one it was trained with"));
            }
            else if (!string.Equals(recorded, stored, StringComparison.OrdinalIgnoreCase))
            {
                differences.Add(new(ReproductionDifferences.Spec, $"the spec on version {input.Version}'s card hashes to {stored}; {recorded} was recorded when it was registered"));
            }
        }
        catch (Exception ex) when (ModelArtifactStore.ArtifactFault(ex) is { } fault)
        {
            differences.Add(new(ReproductionDifferences.Spec, $"version {input.Version}'s card cannot be read as registered ({fault})"));
        }

        if (!await storage.Blob(BlobPath.Parse(input.Dataset.Path)).ExistsAsync())
        {
            differences.Add(new(ReproductionDifferences.Dataset, $"{input.Dataset.Path} (SHA-256 {input.Dataset.Sha256}) is gone"));
        }

        return new LineageCheck(differences);
    }
}
