using System.Text.Json;
using System.Text.Json.Serialization;
using Serverless.Lifecycle.Scoring;
using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Serving;

/// <summary>
/// One logged prediction (one row of a request): what came in, what the model answered, and
/// how fast. Monitoring reads these; feedback joins them by <see cref="RequestId"/> and
/// <see cref="Row"/>. <see cref="Served"/> is false for a shadow prediction that was logged
/// but not returned.
/// </summary>
/// <param name="Inputs">Feature values: numbers (null when missing) and category strings.</param>
/// <param name="Label">The predicted label as the training data writes it: 1/0 (binary) or the class name (multiclass).</param>
/// <param name="Probability">Binary: the positive class's probability. Multiclass: the predicted class's.</param>
/// <param name="Value">Regression: the predicted value.</param>
/// <param name="Error">Set when scoring failed (a challenger during a rollout): no prediction, and why.</param>
public sealed record PredictionRecord(
    string RequestId,
    int Row,
    DateTimeOffset Time,
    string Model,
    int Version,
    string? Alias,
    string Route,
    [property: JsonConverter(typeof(InputsConverter))] IReadOnlyDictionary<string, object?> Inputs,
    string? Label,
    double? Probability,
    double? Value,
    double LatencyMs,
    bool Served = true,
    string? Error = null)
{
    /// <summary>A failed scoring: one record for the request, with the reason.</summary>
    public static PredictionRecord Failure(string requestId, DateTimeOffset time, string model, int version, string? alias, string route, double latencyMs, bool served, string error) =>
        new(requestId, 0, time, model, version, alias, route, new Dictionary<string, object?>(), null, null, null, latencyMs, served, error);

    /// <summary>One record per row of a scored batch.</summary>
    public static IEnumerable<PredictionRecord> For(
        string requestId, DateTimeOffset time, LoadedModel model, string? alias, string route, FeatureBatch batch, IReadOnlyList<ModelPrediction> predictions, double latencyMs, bool served = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(predictions);
        for (var row = 0; row < predictions.Count; row++)
        {
            var inputs = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var feature in model.Spec.Features)
            {
                inputs[feature.Name] = feature.IsNumeric
                    ? batch.Numeric[feature.Name][row] is var number && float.IsNaN(number) ? null : number
                    : batch.Categorical[feature.Name][row];
            }

            var p = predictions[row];
            var (label, probability, value) = model.Spec.Task switch
            {
                ModelTasks.Multiclass => (p.Class, (double?)p.Probability, (double?)null),
                ModelTasks.Regression => (null, null, p.Score),
                _ => (p.Label ? "1" : "0", p.Probability, (double?)null),
            };
            yield return new PredictionRecord(requestId, row, time, model.Version.Model, model.Version.Version, alias, route, inputs, label, probability, value, latencyMs, served);
        }
    }
}
