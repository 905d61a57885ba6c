using Microsoft.ML;
using Microsoft.ML.Data;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Scoring;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Evaluation;

/// <summary>
/// A task's metrics computed by ML.NET's evaluators from ONNX Runtime's predictions, under
/// <see cref="MetricNames"/>: binary (AUC, accuracy, F1, precision, recall, log-loss), multiclass
/// (macro and micro accuracy, log-loss), regression (RMSE, MAE, R²).
/// </summary>
public static class TaskMetrics
{
    /// <summary>
    /// The metrics of <paramref name="rows"/> of a labelled batch. Rows whose metrics are undefined
    /// (a binary slice with one class, a regression slice of one row) get none, so a gate check
    /// on them fails as not measured rather than passing on a made-up value.
    /// </summary>
    public static IReadOnlyDictionary<string, double> Compute(string task, LabeledBatch labels, IReadOnlyList<ModelPrediction> predictions, IReadOnlyList<string> classes, IReadOnlyList<int> rows)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(rows);
        var subset = rows.Select(i => predictions[i]).ToList();
        switch (task)
        {
            case ModelTasks.Multiclass:
                return rows.Count == 0 ? new Dictionary<string, double>() : Multiclass(rows.Select(i => labels.Classes[i]).ToList(), subset, classes);
            case ModelTasks.Regression:
                var values = rows.Select(i => labels.Values[i]).ToList();
                return values.Count < 2 || values.All(v => v == values[0]) ? new Dictionary<string, double>() : Regression(values, subset);
            default:
                var binary = rows.Select(i => labels.Labels[i]).ToList();
                return binary.Count == 0 || binary.All(l => l) || !binary.Exists(l => l) ? new Dictionary<string, double>() : Binary(binary, subset);
        }
    }

    public static IReadOnlyDictionary<string, double> Binary(IReadOnlyList<bool> labels, IReadOnlyList<ModelPrediction> predictions)
    {
        var ml = Context(labels.Count, predictions);
        var rows = labels.Select((label, i) => new BinaryRow
        {
            Label = label,
            Score = predictions[i].Score,
            Probability = predictions[i].Probability,
            PredictedLabel = predictions[i].Label,
        });
        var metrics = ml.BinaryClassification.Evaluate(ml.Data.LoadFromEnumerable(rows));
        return new Dictionary<string, double>(StringComparer.Ordinal)
        {
            [MetricNames.Auc] = metrics.AreaUnderRocCurve,
            [MetricNames.Accuracy] = metrics.Accuracy,
            [MetricNames.F1] = metrics.F1Score,
            [MetricNames.Precision] = metrics.PositivePrecision,
            [MetricNames.Recall] = metrics.PositiveRecall,
            [MetricNames.LogLoss] = metrics.LogLoss,
        };
    }

    /// <summary>
    /// Multiclass metrics. A label the model does not know (a class absent from its training
    /// split) is added as a class the model gives probability 0: it counts as a miss, and its
    /// log-loss is ML.NET's clipped maximum.
    /// </summary>
    public static IReadOnlyDictionary<string, double> Multiclass(IReadOnlyList<string> labels, IReadOnlyList<ModelPrediction> predictions, IReadOnlyList<string> classes)
    {
        ArgumentNullException.ThrowIfNull(classes);
        var ml = Context(labels.Count, predictions);
        var all = classes.Concat(labels.Except(classes, StringComparer.Ordinal).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)).ToList();
        // LoadFromEnumerable reads a key column's values as 0-based indexes (it stores index + 1).
        var keys = all.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => (uint)p.i, StringComparer.Ordinal);
        var rows = labels.Select((label, i) =>
        {
            var score = new float[all.Count];
            var probabilities = predictions[i].Probabilities
                ?? throw new ArgumentException($"Prediction {i} has no class probabilities; it is not a multiclass prediction.", nameof(predictions));
            for (var k = 0; k < probabilities.Count; k++)
            {
                score[k] = probabilities[k];
            }

            return new MulticlassRow { Label = keys[label], Score = score, PredictedLabel = keys.GetValueOrDefault(predictions[i].Class ?? "") };
        });

        // The label and score columns' sizes are the number of classes, known only now.
        var schema = SchemaDefinition.Create(typeof(MulticlassRow));
        schema[nameof(MulticlassRow.Label)].ColumnType = new KeyDataViewType(typeof(uint), all.Count);
        schema[nameof(MulticlassRow.PredictedLabel)].ColumnType = new KeyDataViewType(typeof(uint), all.Count);
        schema[nameof(MulticlassRow.Score)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, all.Count);
        var metrics = ml.MulticlassClassification.Evaluate(ml.Data.LoadFromEnumerable(rows, schema));
        return new Dictionary<string, double>(StringComparer.Ordinal)
        {
            [MetricNames.MacroAccuracy] = metrics.MacroAccuracy,
            [MetricNames.MicroAccuracy] = metrics.MicroAccuracy,
            [MetricNames.LogLoss] = metrics.LogLoss,
        };
    }

    public static IReadOnlyDictionary<string, double> Regression(IReadOnlyList<float> labels, IReadOnlyList<ModelPrediction> predictions)
    {
        var ml = Context(labels.Count, predictions);
        var rows = labels.Select((label, i) => new RegressionRow { Label = label, Score = predictions[i].Score });
        var metrics = ml.Regression.Evaluate(ml.Data.LoadFromEnumerable(rows));
        return new Dictionary<string, double>(StringComparer.Ordinal)
        {
            [MetricNames.Rmse] = metrics.RootMeanSquaredError,
            [MetricNames.Mae] = metrics.MeanAbsoluteError,
            [MetricNames.R2] = metrics.RSquared,
        };
    }

    private static MLContext Context(int labels, IReadOnlyList<ModelPrediction> predictions)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        if (labels != predictions.Count || labels == 0)
        {
            throw new ArgumentException($"Need as many predictions as labels, and at least one; got {predictions.Count} and {labels}.", nameof(predictions));
        }

        return new MLContext(seed: 0);
    }

    private sealed class BinaryRow
    {
        public bool Label { get; set; }

        public float Score { get; set; }

        public float Probability { get; set; }

        public bool PredictedLabel { get; set; }
    }

    private sealed class MulticlassRow
    {
        public uint Label { get; set; }

        public float[] Score { get; set; } = [];

        public uint PredictedLabel { get; set; }
    }

    private sealed class RegressionRow
    {
        public float Label { get; set; }

        public float Score { get; set; }
    }
}
