using System.Text;
using Microsoft.DurableTask;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Pipeline.Activities;

/// <summary>
/// Scores the held-out test split with ONNX Runtime (the same engine that serves), computes the
/// metrics with ML.NET's evaluator and applies the spec's gate. The verdict is stored pass or fail.
/// </summary>
public sealed class EvaluateModelActivity(LifecycleStorage storage, ModelArtifactStore artifacts) : TaskActivity<EvaluateInput, EvaluationResult>
{
    public override async Task<EvaluationResult> RunAsync(TaskActivityContext context, EvaluateInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var artifact = input.Job.Onnx ?? throw new InvalidDataException($"Job {input.Job.JobId} reported no ONNX artifact.");
        var bytes = await artifacts.ReadVerifiedAsync(BlobPath.Parse(artifact.Path), artifact.Sha256, CancellationToken.None);

        LabeledBatch test;
        await using (var stream = await storage.Blob(BlobPath.Parse(input.Split.TestPath)).OpenReadAsync())
        using (var reader = new StreamReader(stream, Encoding.UTF8))
        {
            test = LabeledBatch.ReadCsv(reader, input.Spec);
        }

        using var model = new OnnxModel(bytes, input.Spec);
        var predictions = model.Predict(test.Features);
        var metrics = BinaryMetrics.Compute(test.Labels, predictions);
        var verdict = EvaluationGate.Decide(input.Spec.Evaluation.Gate, metrics);
        var result = new EvaluationResult(metrics, verdict, test.Labels.Length);
        await storage.Blob(RunPaths.Evaluation(input.RunId)).UploadAsync(BinaryData.FromObjectAsJson(result, SpecJson.Options), overwrite: true);
        return result;
    }
}
