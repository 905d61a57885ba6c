using Microsoft.ML.OnnxRuntime;
using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Serving;

/// <summary>
/// One loaded model version: a single <see cref="InferenceSession"/>, created once and shared by
/// all requests (its Run is thread-safe), fed through the <see cref="OrtValue"/> API straight
/// from the <see cref="FeatureBatch"/> buffers.
/// </summary>
public sealed class OnnxModel : IDisposable
{
    private readonly InferenceSession session;
    private readonly string[] inputNames;
    private readonly string[] outputNames;

    public OnnxModel(byte[] onnx, ModelSpec spec)
    {
        ArgumentNullException.ThrowIfNull(onnx);
        ArgumentNullException.ThrowIfNull(spec);
        Spec = spec;
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,

            // ML.NET's one-hot export declares [-1, 1, n] where ORT infers [-1, n]; ORT merges
            // the two leniently and warns on every load. Errors still surface.
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        session = new InferenceSession(onnx, options);

        var missing = spec.Features.Where(f => !session.InputMetadata.ContainsKey(f.Name)).Select(f => f.Name).ToList();
        if (missing.Count > 0)
        {
            session.Dispose();
            throw new InvalidDataException($"The ONNX graph has no input for feature(s) {string.Join(", ", missing)}; it does not match the spec.");
        }

        inputNames = spec.Features.Select(f => f.Name).ToArray();
        PredictedLabelOutput = FindOutput(session, OnnxOutputs.PredictedLabel);
        ProbabilityOutput = FindOutput(session, OnnxOutputs.Probability);
        ScoreOutput = FindOutput(session, OnnxOutputs.Score);
        outputNames = [PredictedLabelOutput, ProbabilityOutput, ScoreOutput];
    }

    public ModelSpec Spec { get; }

    public string PredictedLabelOutput { get; }

    public string ProbabilityOutput { get; }

    public string ScoreOutput { get; }

    public IReadOnlyList<ModelPrediction> Predict(FeatureBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var inputs = CreateInputs(batch, inputNames);
        try
        {
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, inputNames, inputs, outputNames);
            var labels = outputs[0].GetTensorDataAsSpan<bool>();
            var probabilities = outputs[1].GetTensorDataAsSpan<float>();
            var scores = outputs[2].GetTensorDataAsSpan<float>();
            var predictions = new ModelPrediction[batch.Rows];
            for (var row = 0; row < batch.Rows; row++)
            {
                predictions[row] = new ModelPrediction(labels[row], probabilities[row], scores[row]);
            }

            return predictions;
        }
        finally
        {
            foreach (var input in inputs)
            {
                input?.Dispose();
            }
        }
    }

    public void Dispose() => session.Dispose();

    /// <summary>One [rows, 1] tensor per named input from the batch's columns; the caller disposes them.</summary>
    public static OrtValue[] CreateInputs(FeatureBatch batch, IReadOnlyList<string> inputNames)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(inputNames);
        long[] shape = [batch.Rows, 1];
        var inputs = new OrtValue[inputNames.Count];
        try
        {
            for (var i = 0; i < inputNames.Count; i++)
            {
                var name = inputNames[i];
                if (batch.Numeric.TryGetValue(name, out var values))
                {
                    inputs[i] = OrtValue.CreateTensorValueFromMemory(values, shape);
                }
                else
                {
                    var strings = batch.Categorical[name];
                    var tensor = OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, shape);
                    inputs[i] = tensor;
                    for (var row = 0; row < strings.Length; row++)
                    {
                        tensor.StringTensorSetElementAt((strings[row] ?? "").AsSpan(), row);
                    }
                }
            }

            return inputs;
        }
        catch
        {
            foreach (var input in inputs)
            {
                input?.Dispose();
            }

            throw;
        }
    }

    /// <summary>The graph output ML.NET named after <paramref name="column"/> (<c>Score</c> or <c>Score.output</c>).</summary>
    public static string FindOutput(InferenceSession session, string column) =>
        (session ?? throw new ArgumentNullException(nameof(session))).OutputMetadata.Keys.FirstOrDefault(k => k == column || k.StartsWith(column + ".", StringComparison.Ordinal))
        ?? throw new InvalidDataException($"The ONNX graph has no '{column}' output (outputs: {string.Join(", ", session.OutputMetadata.Keys)}).");
}
