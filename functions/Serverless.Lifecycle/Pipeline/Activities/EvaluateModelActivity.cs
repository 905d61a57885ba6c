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
using Serverless.Lifecycle.Training;

namespace Serverless.Lifecycle.Pipeline.Activities;

/// <summary>
/// Scores the candidate and the current champion with ONNX Runtime (the engine that serves) on
/// the same held-out test split, overall and per slice, with ML.NET's evaluators; checks that the
/// candidate loads with the inputs and outputs serving needs and scores a single row within the
/// spec's latency budget; then applies the gate. The result is stored pass or fail. What the run
/// scored already is not scored again: the candidate's test scores from the built-in trainer's job
/// (a trainer of the model's own is not taken at its word: its candidate is scored here), and the
/// champion scored while the job trained, while it is still the champion.
/// </summary>
public sealed class EvaluateModelActivity(LifecycleStorage storage, ModelArtifactStore artifacts, ModelRegistry registry) : TaskActivity<EvaluateInput, EvaluationResult>
{
    public override async Task<EvaluationResult> RunAsync(TaskActivityContext context, EvaluateInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var spec = input.Spec;
        var artifact = input.Job.Onnx ?? throw new InvalidDataException($"Job {input.Job.JobId} reported no ONNX artifact.");
        var bytes = await artifacts.ReadVerifiedAsync(BlobPath.Parse(artifact.Path), artifact.Sha256, CancellationToken.None);
        var scored = spec.Trainer.IsCustom ? null : await ReadTestEvaluationAsync(input.RunId, input.Job.JobId);

        // Scored in the job: only the rows the latency check times are read here.
        var test = await ChampionScoring.ReadTestAsync(storage, input.Split.TestPath, spec, scored is null ? int.MaxValue : ModelEvaluator.LatencySamples);

        var loading = Stopwatch.StartNew();
        using var model = new OnnxModel(bytes, spec);
        var loadMs = loading.Elapsed.TotalMilliseconds;
        var candidate = scored?.Candidate ?? ModelEvaluator.EvaluateCandidate(model, test);
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

        var champion = await ChampionScoring.ScoreAsync(storage, artifacts, registry, spec, input.Split.TestPath, input.Champion);
        var verdict = EvaluationGate.Decide(spec.Evaluation.Gate, candidate, champion, serving);
        var result = new EvaluationResult(candidate.Metrics, verdict, scored?.Rows ?? test.Rows, candidate.Slices, champion, loadMs, latency, candidate.Importance);
        await storage.Blob(RunPaths.Evaluation(input.RunId)).UploadAsync(BinaryData.FromObjectAsJson(result, SpecJson.Options), overwrite: true);
        return result;
    }

    /// <summary>The candidate's scores from its job, or null when the job did not write them (a search trial, an import, an earlier trainer).</summary>
    private async Task<TestEvaluation?> ReadTestEvaluationAsync(string runId, string jobId)
    {
        try
        {
            var content = await storage.Blob(TrainingJobPaths.TestEvaluation(runId, jobId)).DownloadContentAsync();
            return content.Value.Content.ToObjectFromJson<TestEvaluation>(SpecJson.Options);
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }
}
