using Azure;
using Microsoft.ML.OnnxRuntime;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Scoring;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;
using Serverless.Lifecycle.Training;

namespace Serverless.Lifecycle.Pipeline;

/// <summary>
/// What the pipeline checks of a trainer's result before it takes it, the built-in trainers' and a
/// trainer of the model's own alike; the trainer conformance kit runs the same check.
/// </summary>
public static class TrainingResultCheck
{
    /// <summary>
    /// The result as the pipeline takes it: a reported success that does not hold up becomes a failure
    /// naming why (a missing or non-finite validation metric, no ONNX artifact, a file that is not
    /// there or not the reported SHA-256, a graph ONNX Runtime cannot load or that does not fit the spec).
    /// </summary>
    public static async Task<TrainingJobResult> CheckAsync(TrainingJobSpec spec, TrainingJobResult result, ModelArtifactStore artifacts)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(artifacts);
        if (result.State != TrainingJobState.Succeeded)
        {
            return result.Error is null ? result with { Error = $"The trainer reported {result.State} without a reason." } : result;
        }

        foreach (var metric in MetricNames.RequiredValidation(spec.Model.Task))
        {
            if (!result.ValidationMetrics.TryGetValue(metric, out var value))
            {
                return Rejected(result, $"The trainer reported success without the validation metric '{metric}'.");
            }

            if (!double.IsFinite(value))
            {
                return Rejected(result, $"The trainer reported validation metric '{metric}' = {value}; it must be a finite number.");
            }
        }

        if (result.Onnx is not { } onnx)
        {
            return Rejected(result, "The trainer reported success without an ONNX artifact.");
        }

        byte[] bytes;
        try
        {
            bytes = await artifacts.ReadVerifiedAsync(BlobPath.Parse(onnx.Path), onnx.Sha256, CancellationToken.None);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return Rejected(result, $"The trainer reported ONNX file {onnx.Path}, which does not exist.");
        }
        catch (ArtifactIntegrityException ex)
        {
            return Rejected(result, $"The ONNX file does not match the trainer's report: {ex.Message}");
        }

        try
        {
            using var model = new OnnxModel(bytes, spec.EffectiveModel);
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or InvalidDataException)
        {
            return Rejected(result, $"ONNX Runtime cannot load {onnx.Path} for this spec: {ex.Message}");
        }

        return result;
    }

    /// <summary>The result as a failure; non-finite metrics are dropped so it travels through the orchestration as JSON.</summary>
    private static TrainingJobResult Rejected(TrainingJobResult result, string reason) =>
        result with
        {
            State = TrainingJobState.Failed,
            Error = reason,
            ValidationMetrics = result.ValidationMetrics.Where(m => double.IsFinite(m.Value)).ToDictionary(m => m.Key, m => m.Value, StringComparer.Ordinal),
        };
}
