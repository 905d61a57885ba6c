using System.ComponentModel.DataAnnotations;

namespace Serverless.Lifecycle.Storage;

/// <summary>
/// Where the lifecycle keeps its blobs and tables. Locally a connection string (Azurite);
/// in Azure the service URIs and the app's managed identity, never a key.
/// </summary>
public sealed class StorageOptions : IValidatableObject
{
    public const string SectionName = "Storage";

    /// <summary>A storage connection string; for Azurite and local development only.</summary>
    public string? ConnectionString { get; set; }

    public Uri? BlobServiceUri { get; set; }

    public Uri? TableServiceUri { get; set; }

    /// <summary>Client id of the user-assigned managed identity; empty for the default credential chain.</summary>
    public string? ManagedIdentityClientId { get; set; }

    /// <summary>
    /// Whether this process creates the layout's containers and tables on first use (true). The trainer
    /// turns it off: in Azure its identity may only read and write its jobs' blobs in runs/, and the
    /// app made the layout before it wrote the job the trainer reads.
    /// </summary>
    public bool CreateLayout { get; set; } = true;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(ConnectionString) && (BlobServiceUri is null || TableServiceUri is null))
        {
            yield return new ValidationResult(
                $"Set {SectionName}:ConnectionString (local) or both {SectionName}:BlobServiceUri and {SectionName}:TableServiceUri (managed identity).",
                [nameof(ConnectionString), nameof(BlobServiceUri), nameof(TableServiceUri)]);
        }

        if (!string.IsNullOrWhiteSpace(ConnectionString) && ConnectionStringProblem(ConnectionString) is { } problem)
        {
            yield return new ValidationResult($"{SectionName}:ConnectionString is not a storage connection string: {problem}", [nameof(ConnectionString)]);
        }
    }

    /// <summary>Why the SDK cannot read <paramref name="connectionString"/>, or null; parsing it opens no connection.</summary>
    private static string? ConnectionStringProblem(string connectionString)
    {
        try
        {
            _ = new Azure.Storage.Blobs.BlobServiceClient(connectionString);
            return null;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException)
        {
            return ex.Message;
        }
    }
}
