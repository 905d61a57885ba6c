using System.Text;
using Microsoft.DurableTask;
using Microsoft.ML.OnnxRuntime;
using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Scoring;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Pipeline.Activities;

/// <summary>What the evaluate step and the champion's scoring during training share: reading a test split, and scoring the current champion on it.</summary>
internal static class ChampionScoring
{
    /// <summary>
    /// The champion on the test split with its own spec, or null when the model has none yet;
    /// <paramref name="known"/> (scored earlier in the run) is taken as it is while the same version
    /// is still the champion. A champion whose own files are bad (card unreadable or missing, ONNX
    /// file failing its SHA-256 or not loading) comes back unservable, and the gate's change checks do
    /// not apply to it; one that loads but cannot be scored on this split (its inputs are not in this
    /// data) comes back with the reason, and the gate fails every change check on it. Storage
    /// failures are thrown, for the retry.
    /// </summary>
    public static async Task<EvaluatedModel?> ScoreAsync(
        LifecycleStorage storage, ModelArtifactStore artifacts, ModelRegistry registry, ModelSpec spec, string testPath, ChampionScore? known = null)
    {
        ModelVersion version;
        try
        {
            version = await registry.ResolveAsync(spec.Name, ReservedAliases.Champion, CancellationToken.None);
        }
        catch (AliasNotFoundException)
        {
            return null;
        }

        if (known?.Champion is { } scored && scored.Version == version.Version)
        {
            return scored;
        }

        ModelCard card;
        OnnxModel model;
        try
        {
            card = await artifacts.ReadCardAsync(version, CancellationToken.None);
            var bytes = await artifacts.ReadModelAsync(version, CancellationToken.None);
            model = new OnnxModel(bytes, card.Spec);
        }
        catch (Exception ex) when (ModelArtifactStore.ArtifactFault(ex) is not null)
        {
            return new EvaluatedModel(version.Version, new Dictionary<string, double>(), [], $"{ex.GetType().Name}: {ex.Message}", Unservable: true);
        }

        using (model)
        {
            try
            {
                var test = await ReadTestAsync(storage, testPath, card.Spec);
                return ModelEvaluator.Evaluate(model, test, spec.Evaluation.Gate.Slices, version.Version);
            }
            catch (Exception ex) when (ex is InvalidDataException or OnnxRuntimeException or KeyNotFoundException or ArgumentException or IndexOutOfRangeException)
            {
                return new EvaluatedModel(version.Version, new Dictionary<string, double>(), [], $"{ex.GetType().Name}: {ex.Message}");
            }
        }
    }

    /// <summary>
    /// The test split (its first <paramref name="maxRows"/> rows) read against <paramref name="spec"/>:
    /// all of it is downloaded at once (the batch holds every row anyway, and reading a blob's stream
    /// row by row waits on storage for each block); a few rows are read from the stream's first block.
    /// </summary>
    public static async Task<LabeledBatch> ReadTestAsync(LifecycleStorage storage, string testPath, ModelSpec spec, int maxRows = int.MaxValue)
    {
        var blob = storage.Blob(BlobPath.Parse(testPath));
        await using var stream = maxRows == int.MaxValue ? (await blob.DownloadContentAsync()).Value.Content.ToStream() : await blob.OpenReadAsync();
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return LabeledBatch.ReadCsv(reader, spec, maxRows);
    }
}

/// <summary>
/// Scores the current champion on the run's test split while the run's job trains, so the
/// evaluate step only scores what the job did not and compares.
/// </summary>
public sealed class ScoreChampionActivity(LifecycleStorage storage, ModelArtifactStore artifacts, ModelRegistry registry) : TaskActivity<ScoreChampionInput, ChampionScore>
{
    public override async Task<ChampionScore> RunAsync(TaskActivityContext context, ScoreChampionInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return new ChampionScore(await ChampionScoring.ScoreAsync(storage, artifacts, registry, input.Spec, input.TestPath));
    }
}
