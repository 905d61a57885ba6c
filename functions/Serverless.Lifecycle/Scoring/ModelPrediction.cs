namespace Serverless.Lifecycle.Scoring;

/// <summary>
/// One row's prediction.
/// <list type="bullet">
/// <item>Binary: <see cref="Label"/>, the positive class's <see cref="Probability"/> and the raw <see cref="Score"/>.</item>
/// <item>Multiclass: the predicted <see cref="Class"/>, its <see cref="Probability"/> (also in <see cref="Score"/>), and
/// every class's probability in <see cref="Probabilities"/>, in the order of <see cref="OnnxModel.Classes"/>.</item>
/// <item>Regression: the predicted value in <see cref="Score"/>; <see cref="Probability"/> is NaN.</item>
/// </list>
/// </summary>
public sealed record ModelPrediction(bool Label, float Probability, float Score)
{
    public string? Class { get; init; }

    public IReadOnlyList<float>? Probabilities { get; init; }
}
