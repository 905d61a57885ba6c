using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Scoring;

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

    // One RunOptions for every call: it only carries settings, and creating one per call costs
    // a native allocation on the single-row path.
    private readonly RunOptions runOptions = new();

    // Single-row requests, the latency-sensitive case, reuse input tensors created once over
    // pinned one-value buffers: a call copies the values in instead of creating six OrtValues.
    private readonly System.Collections.Concurrent.ConcurrentBag<SingleRowInputs> singleRowInputs = [];

    public OnnxModel(byte[] onnx, ModelSpec spec)
    {
        ArgumentNullException.ThrowIfNull(onnx);
        ArgumentNullException.ThrowIfNull(spec);
        Spec = spec;
        using var options = CreateSessionOptions();
        session = new InferenceSession(onnx, options);

        var (problems, roles) = OnnxContract.Check(session, spec);
        if (roles is null)
        {
            session.Dispose();
            throw new InvalidDataException($"The ONNX graph does not fit the spec: {string.Join(" ", problems.Select(p => $"{p.Path}: {p.Message}"))}");
        }

        inputNames = spec.Features.Select(f => f.Name).ToArray();
        this.roles = roles;
        Classes = roles.Classes;
        List<string> outputs = [];
        int Add(string? name)
        {
            if (name is null)
            {
                return -1;
            }

            outputs.Add(name);
            return outputs.Count - 1;
        }

        labelIndex = Add(roles.Label);
        probabilityIndex = Add(roles.Probability);
        scoreIndex = Add(roles.Score);
        outputNames = [.. outputs];
    }

    private readonly OnnxContract.Roles roles;
    private readonly int labelIndex;
    private readonly int probabilityIndex;
    private readonly int scoreIndex;

    public ModelSpec Spec { get; }

    /// <summary>A multiclass model's classes in the order of its probabilities; empty for other tasks.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>
    /// Session options chosen by measurement (docs/benchmarks.md): one intra-op thread that never
    /// spins. Requests already run in parallel, one per core; ONNX Runtime's default thread pool
    /// made every concurrent single-row request wait on spinning workers, which took 40% of the CPU
    /// under HTTP load and cut throughput by a third.
    /// </summary>
    public static SessionOptions CreateSessionOptions()
    {
        var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,

            // ML.NET's one-hot export declares [-1, 1, n] where ORT infers [-1, n]; ORT merges
            // the two leniently and warns on every load. Errors still surface.
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        return options;
    }

    /// <summary>The graph outputs serving reads for <paramref name="task"/> (see <see cref="OnnxOutputs"/>).</summary>
    public static string[] Outputs(string task) => task switch
    {
        ModelTasks.Multiclass => [OnnxOutputs.PredictedLabel, OnnxOutputs.Score],
        ModelTasks.Regression => [OnnxOutputs.Score],
        _ => [OnnxOutputs.PredictedLabel, OnnxOutputs.Probability, OnnxOutputs.Score],
    };

    public IReadOnlyList<ModelPrediction> Predict(FeatureBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        SingleRowInputs? reused = null;
        OrtValue[] inputs;
        if (batch.Rows == 1)
        {
            reused = singleRowInputs.TryTake(out var pooled) ? pooled : new SingleRowInputs(inputNames, batch);
            inputs = reused.Fill(batch);
        }
        else
        {
            inputs = CreateInputs(batch, inputNames);
        }

        try
        {
            using var outputs = session.Run(runOptions, inputNames, inputs, outputNames);
            var predictions = new ModelPrediction[batch.Rows];
            switch (Spec.Task)
            {
                case ModelTasks.Multiclass:
                    var probabilities = outputs[probabilityIndex].GetTensorDataAsSpan<float>();
                    var int64Classes = roles.LabelType == Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Int64 ? outputs[labelIndex].GetTensorDataAsSpan<long>() : default;
                    for (var row = 0; row < batch.Rows; row++)
                    {
                        var predicted = int64Classes.IsEmpty ? outputs[labelIndex].GetStringElement(row) : int64Classes[row].ToString(System.Globalization.CultureInfo.InvariantCulture);
                        var own = probabilities.Slice(row * Classes.Count, Classes.Count).ToArray();
                        var index = IndexOf(predicted);
                        predictions[row] = new ModelPrediction(false, own[index], own[index]) { Class = predicted, Probabilities = own };
                    }

                    break;
                case ModelTasks.Regression:
                    var values = outputs[scoreIndex].GetTensorDataAsSpan<float>();
                    for (var row = 0; row < batch.Rows; row++)
                    {
                        predictions[row] = new ModelPrediction(false, float.NaN, values[row]);
                    }

                    break;
                default:
                    // The positive class's probability is the last column of a [N, 2] output; an imported
                    // graph may leave out the label (probability >= 0.5) or the raw score (the probability).
                    var probability = outputs[probabilityIndex].GetTensorDataAsSpan<float>();
                    // One value per row, or two ([N, 2]: the negative class, then the positive).
                    var width = Math.Max(1, probability.Length / batch.Rows);
                    var scores = scoreIndex < 0 ? default : outputs[scoreIndex].GetTensorDataAsSpan<float>();
                    var bools = labelIndex >= 0 && roles.LabelType == Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Bool ? outputs[labelIndex].GetTensorDataAsSpan<bool>() : default;
                    var longs = labelIndex >= 0 && roles.LabelType == Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Int64 ? outputs[labelIndex].GetTensorDataAsSpan<long>() : default;
                    for (var row = 0; row < batch.Rows; row++)
                    {
                        var p = probability[(row * width) + width - 1];
                        var label = !bools.IsEmpty ? bools[row] : !longs.IsEmpty ? longs[row] != 0 : p >= 0.5f;
                        predictions[row] = new ModelPrediction(label, p, scores.IsEmpty ? p : scores[row]);
                    }

                    break;
            }

            return predictions;
        }
        finally
        {
            if (reused is not null)
            {
                singleRowInputs.Add(reused);
            }
            else
            {
                foreach (var input in inputs)
                {
                    input?.Dispose();
                }
            }
        }
    }

    /// <summary>One set of [1, 1] input tensors over buffers that stay pinned for the set's life.</summary>
    private sealed class SingleRowInputs : IDisposable
    {
        private readonly string[] names;
        private readonly float[]?[] numbers;
        private readonly OrtValue[] values;

        public SingleRowInputs(string[] names, FeatureBatch shape)
        {
            this.names = names;
            numbers = new float[]?[names.Length];
            values = new OrtValue[names.Length];
            long[] dims = [1, 1];
            for (var i = 0; i < names.Length; i++)
            {
                if (shape.Numeric.ContainsKey(names[i]))
                {
                    numbers[i] = new float[1];
                    values[i] = OrtValue.CreateTensorValueFromMemory(numbers[i]!, dims);
                }
                else
                {
                    values[i] = OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, dims);
                }
            }
        }

        public OrtValue[] Fill(FeatureBatch batch)
        {
            for (var i = 0; i < names.Length; i++)
            {
                if (numbers[i] is { } number)
                {
                    number[0] = batch.Numeric[names[i]][0];
                }
                else
                {
                    values[i].StringTensorSetElementAt((batch.Categorical[names[i]][0] ?? "").AsSpan(), 0);
                }
            }

            return values;
        }

        public void Dispose()
        {
            foreach (var value in values)
            {
                value.Dispose();
            }
        }
    }

    /// <summary>True once the session is released; scoring is then refused.</summary>
    public bool IsDisposed { get; private set; }

    public void Dispose()
    {
        IsDisposed = true;
        session.Dispose();
        runOptions.Dispose();
        while (singleRowInputs.TryTake(out var inputs))
        {
            inputs.Dispose();
        }
    }

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

    private int IndexOf(string predicted)
    {
        for (var i = 0; i < Classes.Count; i++)
        {
            if (string.Equals(Classes[i], predicted, StringComparison.Ordinal))
            {
                return i;
            }
        }

        throw new InvalidDataException($"The model predicted class '{predicted}', which is not in its class list ({string.Join(", ", Classes)}).");
    }

    /// <summary>The graph output ML.NET named after <paramref name="column"/> (<c>Score</c> or <c>Score.output</c>).</summary>
    public static string FindOutput(InferenceSession session, string column) =>
        (session ?? throw new ArgumentNullException(nameof(session))).OutputMetadata.Keys.FirstOrDefault(k => k == column || k.StartsWith(column + ".", StringComparison.Ordinal))
        ?? throw new InvalidDataException($"The ONNX graph has no '{column}' output (outputs: {string.Join(", ", session.OutputMetadata.Keys)}).");
}
