namespace Serverless.Lifecycle.Serving;

/// <summary>One row's prediction: the predicted label, its probability and the raw score.</summary>
public sealed record ModelPrediction(bool Label, float Probability, float Score);
