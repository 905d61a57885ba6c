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

    /// <summary>
    /// A JSON <see cref="OnnxOutputMap"/>: which outputs hold the label, probability and score of a graph
    /// that does not use ML.NET's names (an imported model; the import writes it).
    /// </summary>
    public const string Outputs = "lifecycle.outputs";

    /// <summary>
    /// <paramref name="onnx"/> with its <c>metadata_props</c> entry <paramref name="key"/> set to
    /// <paramref name="value"/> (replacing one there); the graph itself is untouched. OnnxSharp reads
    /// and writes the protobuf. Throws <see cref="InvalidDataException"/> for bytes that are not a model.
    /// </summary>
    public static byte[] With(byte[] onnx, string key, string value)
    {
        ArgumentNullException.ThrowIfNull(onnx);
        Onnx.ModelProto model;
        try
        {
            model = Onnx.ModelProto.Parser.ParseFrom(onnx);
        }
        catch (Google.Protobuf.InvalidProtocolBufferException ex)
        {
            throw new InvalidDataException($"The file is not an ONNX model: {ex.Message}", ex);
        }

        foreach (var existing in model.MetadataProps.Where(p => p.Key == key).ToList())
        {
            model.MetadataProps.Remove(existing);
        }

        model.MetadataProps.Add(new Onnx.StringStringEntryProto { Key = key, Value = value });
        return Google.Protobuf.MessageExtensions.ToByteArray(model);
    }
}
