namespace Serverless.Lifecycle.Scoring;

/// <summary>
/// The named outputs of an exported model, as ML.NET names its columns. Binary models carry all
/// three; multiclass models <see cref="PredictedLabel"/> (the class) and <see cref="Score"/> (one
/// probability per class); regression models <see cref="Score"/> (the value).
/// </summary>
public static class OnnxOutputs
{
    public const string PredictedLabel = "PredictedLabel";
    public const string Probability = "Probability";
    public const string Score = "Score";
}

/// <summary>
/// Keys of the ONNX model's <c>metadata_props</c> the trainer writes, so a graph says what it
/// predicts without the registry: the task, and for multiclass the classes in score order.
/// </summary>
public static class OnnxMetadata
{
    public const string Task = "lifecycle.task";

    /// <summary>A JSON array of the class labels, in the order of the <see cref="OnnxOutputs.Score"/> vector.</summary>
    public const string Classes = "lifecycle.classes";
}
