namespace Serverless.Lifecycle.Serving;

/// <summary>The named outputs every exported binary model carries, as ML.NET names its columns.</summary>
public static class OnnxOutputs
{
    public const string PredictedLabel = "PredictedLabel";
    public const string Probability = "Probability";
    public const string Score = "Score";
}
