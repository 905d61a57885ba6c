namespace Serverless.Lifecycle.Data;

/// <summary>An upload that carried no bytes; nothing is recorded for it.</summary>
public sealed class EmptyDatasetException(string model)
    : Exception($"The dataset uploaded for '{model}' is empty; send a CSV file with a header row.")
{
    public string Model { get; } = model;
}
