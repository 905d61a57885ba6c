using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.DurableTask;
using Microsoft.ML.OnnxRuntime;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Scoring;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Pipeline.Activities;

/// <summary>
/// Scores the candidate and the current champion with ONNX Runtime (the engine that serves) on
/// the same held-out test split, overall and per slice, with ML.NET's evaluators; checks that the
/// candidate loads with the inputs and outputs serving needs and scores a single row within the
/// spec's latency budget; then applies the gate. The result is stored pass or fail.
/// </summary>
public sealed class EvaluateModelActivity(LifecycleStorage storage, ModelArtifactStore artifacts, ModelRegistry registry) : TaskActivity<EvaluateInput, EvaluationResult>
{
    public override async Task<EvaluationResult> RunAsync(TaskActivityContext context, EvaluateInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var spec = input.Spec;
        var artifact = input.Job.Onnx ?? throw new InvalidDataException($"Job {input.Job.JobId} reported no ONNX artifact.");
        var bytes = await artifacts.ReadVerifiedAsync(BlobPath.Parse(artifact.Path), artifact.Sha256, CancellationToken.None);
        var test = await ReadTestAsync(input.Split.TestPath, spec);

        var loading = Stopwatch.StartNew();
        using var model = new OnnxModel(bytes, spec);
        var loadMs = loading.Elapsed.TotalMilliseconds;
        var candidate = ModelEvaluator.Evaluate(model, test, spec.Evaluation.Gate.Slices);
        var latency = ModelEvaluator.SingleRowLatencyP99Ms(model, test.Features);
        var budget = spec.Evaluation.LatencyBudgetMs;
        GateCheck[] serving =
        [
            new("schema", null, "matches", 0, true, $"the graph has an input per feature and the {string.Join(", ", OnnxModel.Outputs(spec.Task))} output(s) serving reads for {spec.Task}", Kind: GateCheckKinds.Serving),
            new(
                "latencyP99Ms", latency, "<=", budget, latency <= budget,
                string.Create(CultureInfo.InvariantCulture, $"single-row p99 {latency:G4} ms {(latency <= budget ? "meets" : "fails")} <= {budget:G4} ms ({ModelEvaluator.LatencySamples} rows; load {loadMs:F0} ms)"),
                Kind: GateCheckKinds.Serving),
        ];

        var champion = await EvaluateChampionAsync(spec, input.Split.TestPath);
        var verdict = EvaluationGate.Decide(spec.Evaluation.Gate, candidate, champion, serving);
        var result = new EvaluationResult(candidate.Metrics, verdict, test.Rows, candidate.Slices, champion, loadMs, latency);
        await storage.Blob(RunPaths.Evaluation(input.RunId)).UploadAsync(BinaryData.FromObjectAsJson(result, SpecJson.Options), overwrite: true);
        return result;
    }

    /// <summary>
    /// The champion on the same test split with its own spec, or null when the model has none yet.
    /// A champion whose own files are bad (card unreadable or missing, ONNX file failing its SHA-256
    /// or not loading) comes back unservable, and the gate's change checks do not apply to it; one
    /// that loads but cannot be scored on this split (its inputs are not in this data) comes back with
    /// the reason, and the gate fails every change check on it. Storage failures are thrown, for the retry.
    /// </summary>
    private async Task<EvaluatedModel?> EvaluateChampionAsync(ModelSpec spec, string testPath)
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
                var test = await ReadTestAsync(testPath, card.Spec);
                return ModelEvaluator.Evaluate(model, test, spec.Evaluation.Gate.Slices, version.Version);
            }
            catch (Exception ex) when (ex is InvalidDataException or OnnxRuntimeException or KeyNotFoundException or ArgumentException or IndexOutOfRangeException)
            {
                return new EvaluatedModel(version.Version, new Dictionary<string, double>(), [], $"{ex.GetType().Name}: {ex.Message}");
            }
        }
    }

    private async Task<LabeledBatch> ReadTestAsync(string testPath, ModelSpec spec)
    {
        await using var stream = await storage.Blob(BlobPath.Parse(testPath)).OpenReadAsync();
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return LabeledBatch.ReadCsv(reader, spec);
    }
}
