using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Storage;

namespace Serverless.Tests;

/// <summary>
/// The Azurite instance the tests run against. <c>./test.sh</c> starts one on free loopback
/// ports and passes its connection string in AZURITE_CONNECTION_STRING.
/// </summary>
public static class Azurite
{
    public const string ConnectionStringVariable = "AZURITE_CONNECTION_STRING";

    public static string ConnectionString =>
        Environment.GetEnvironmentVariable(ConnectionStringVariable)
        ?? throw new InvalidOperationException(
            $"{ConnectionStringVariable} is not set. Run ./test.sh, which starts Azurite and sets it, or start Azurite yourself and set it.");

    public static StorageOptions Options => new() { ConnectionString = ConnectionString };

    public static LifecycleStorage CreateStorage() => new(Microsoft.Extensions.Options.Options.Create(Options));

    /// <summary>A model name no other test uses, so tests share the storage account without colliding.</summary>
    public static string UniqueModelName(string prefix = "m") => $"{prefix}-{Guid.NewGuid():N}"[..20];
}
