namespace Serverless.Lifecycle.Storage;

/// <summary>Storage cannot be reached and nothing this host holds may answer instead; the API answers 503.</summary>
public sealed class StorageUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
