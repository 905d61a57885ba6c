using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Scoring;
using Serverless.Lifecycle.Specs;
using TorchSharp;
using static TorchSharp.torch;

namespace Serverless.Trainer.Deep;

/// <summary>
/// The task's side of the network: how many outputs it has, the label as a tensor, the loss, the
/// validation metric, and what its outputs mean as <see cref="ModelPrediction"/>s (the same as the
/// exported graph's: <see cref="MlpOnnx"/>).
/// </summary>
public sealed class MlpLabels
{
    /// <summary>cross_entropy's default ignore index: a validation row whose class the training split lacks.</summary>
    private const long UnknownClass = -100;
    private readonly string task;

    private MlpLabels(string task, IReadOnlyList<string> classes, (float Mean, float Scale) target)
    {
        this.task = task;
        Classes = classes;
        Target = target;
    }

    /// <summary>The classes in the order of the outputs (multiclass; ordinal order); empty for other tasks.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>Regression: the training target's mean and standard deviation, which the network's output is scaled back by.</summary>
    public (float Mean, float Scale) Target { get; }

    public int Outputs => task == ModelTasks.Multiclass ? Classes.Count : 1;

    public string MetricName => task == ModelTasks.Regression ? MetricNames.Rmse : MetricNames.Accuracy;

    public static MlpLabels Fit(ModelSpec spec, LabeledBatch train)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(train);
        switch (spec.Task)
        {
            case ModelTasks.Multiclass:
                var classes = train.Classes.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
                TrainingLabels.CheckMulticlass(spec.Label, classes.Length);
                return new MlpLabels(spec.Task, classes, (0, 1));
            case ModelTasks.Regression:
                TrainingLabels.CheckRegression(spec.Label, train.Values);
                var mean = train.Values.Average(v => (double)v);
                var deviation = Math.Sqrt(train.Values.Average(v => (v - mean) * (v - mean)));
                return new MlpLabels(spec.Task, [], ((float)mean, (float)deviation));
            default:
                TrainingLabels.CheckBinary(spec.Label, train.Labels);
                return new MlpLabels(spec.Task, [], (0, 1));
        }
    }

    /// <summary>The batch's labels as the loss takes them: 0/1 floats, class indexes, or the standardized target.</summary>
    public Tensor Tensor(LabeledBatch batch, Device device)
    {
        ArgumentNullException.ThrowIfNull(batch);
        switch (task)
        {
            case ModelTasks.Multiclass:
                var index = Classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => (long)p.i, StringComparer.Ordinal);
                return torch.tensor(batch.Classes.Select(c => index.TryGetValue(c, out var i) ? i : UnknownClass).ToArray(), device: device);
            case ModelTasks.Regression:
                return torch.tensor(batch.Values.Select(v => (v - Target.Mean) / Target.Scale).ToArray(), device: device);
            default:
                return torch.tensor(batch.Labels.Select(l => l ? 1f : 0f).ToArray(), device: device);
        }
    }

    public Tensor Loss(Tensor output, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(output);
        return task switch
        {
            ModelTasks.Multiclass => nn.functional.cross_entropy(output, labels, ignore_index: UnknownClass),
            ModelTasks.Regression => nn.functional.mse_loss(output.squeeze(1), labels),
            _ => nn.functional.binary_cross_entropy_with_logits(output.squeeze(1), labels),
        };
    }

    /// <summary>Accuracy (binary, multiclass) or RMSE in the target's own units (regression).</summary>
    public double Metric(Tensor output, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(labels);
        switch (task)
        {
            case ModelTasks.Multiclass:
                var known = labels.ne(UnknownClass);
                var rows = known.sum().item<long>();
                return rows == 0 ? double.NaN : (double)output.argmax(1).eq(labels).logical_and(known).sum().item<long>() / rows;
            case ModelTasks.Regression:
                return Math.Sqrt(nn.functional.mse_loss(output.squeeze(1), labels).item<float>()) * Target.Scale;
            default:
                return output.squeeze(1).gt(0).eq(labels.gt(0.5)).to_type(ScalarType.Float32).mean().item<float>();
        }
    }

    /// <summary>The network's predictions in the exported graph's terms, in chunks, without gradients.</summary>
    public IReadOnlyList<ModelPrediction> Predict(nn.Module<Tensor, Tensor> network, Tensor x, int rows)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(x);
        const int Chunk = 65_536;
        var predictions = new List<ModelPrediction>(rows);
        using var noGrad = torch.no_grad();
        for (var start = 0; start < rows; start += Chunk)
        {
            using var scope = torch.NewDisposeScope();
            var output = network.forward(x.narrow(0, start, Math.Min(Chunk, rows - start)));
            switch (task)
            {
                case ModelTasks.Multiclass:
                    var logits = output.cpu().data<float>().ToArray();
                    var probabilities = nn.functional.softmax(output, 1).cpu().data<float>().ToArray();
                    for (var row = 0; row < logits.Length / Outputs; row++)
                    {
                        var own = probabilities.AsSpan(row * Outputs, Outputs).ToArray();
                        var top = ArgMax(logits.AsSpan(row * Outputs, Outputs));
                        predictions.Add(new ModelPrediction(false, own[top], own[top]) { Class = Classes[top], Probabilities = own });
                    }

                    break;
                case ModelTasks.Regression:
                    var values = output.squeeze(1).mul(Target.Scale).add(Target.Mean).cpu().data<float>().ToArray();
                    predictions.AddRange(values.Select(v => new ModelPrediction(false, float.NaN, v)));
                    break;
                default:
                    var logit = output.squeeze(1);
                    var scores = logit.cpu().data<float>().ToArray();
                    var probability = torch.sigmoid(logit).cpu().data<float>().ToArray();
                    predictions.AddRange(scores.Select((s, i) => new ModelPrediction(s > 0, probability[i], s)));
                    break;
            }
        }

        return predictions;
    }

    /// <summary>The first largest value's index, as ONNX's ArgMax picks it.</summary>
    private static int ArgMax(ReadOnlySpan<float> values)
    {
        var top = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[top])
            {
                top = i;
            }
        }

        return top;
    }
}
