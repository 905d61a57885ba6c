using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Identity;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Options;

namespace Serverless.Lifecycle.Storage;

/// <summary>
/// The blob containers and tables of the storage layout, created on first use. One instance
/// per process: the Azure SDK clients are thread-safe and meant to be shared.
/// </summary>
public sealed class LifecycleStorage : IDisposable
{
    private readonly BlobServiceClient blobs;
    private readonly TableServiceClient tables;
    private readonly SemaphoreSlim createLock = new(1, 1);
    private volatile bool created;

    public LifecycleStorage(IOptions<StorageOptions> options)
        : this(options, policy: null)
    {
    }

    /// <summary>With an extra pipeline policy on every request: how tests inject a crash right after a write lands.</summary>
    internal LifecycleStorage(IOptions<StorageOptions> options, HttpPipelinePolicy? policy)
    {
        ArgumentNullException.ThrowIfNull(options);
        var settings = options.Value;
        created = !settings.CreateLayout;
        var blobOptions = new BlobClientOptions();
        var tableOptions = new TableClientOptions();
        if (policy is not null)
        {
            blobOptions.AddPolicy(policy, HttpPipelinePosition.PerCall);
            tableOptions.AddPolicy(policy, HttpPipelinePosition.PerCall);
        }

        if (!string.IsNullOrWhiteSpace(settings.ConnectionString))
        {
            blobs = new BlobServiceClient(settings.ConnectionString, blobOptions);
            tables = new TableServiceClient(settings.ConnectionString, tableOptions);
        }
        else
        {
            TokenCredential credential = string.IsNullOrWhiteSpace(settings.ManagedIdentityClientId)
                ? new DefaultAzureCredential()
                : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(settings.ManagedIdentityClientId));
            blobs = new BlobServiceClient(settings.BlobServiceUri, credential, blobOptions);
            tables = new TableServiceClient(settings.TableServiceUri, credential, tableOptions);
        }
    }

    public void Dispose() => createLock.Dispose();

    public BlobContainerClient Container(string name) => blobs.GetBlobContainerClient(name);

    public BlobClient Blob(BlobPath path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return blobs.GetBlobContainerClient(path.Container).GetBlobClient(path.Name);
    }

    public TableClient Table(string name) => tables.GetTableClient(name);

    /// <summary>
    /// One light call to storage (does the models container exist), bounded by <paramref name="timeout"/>:
    /// null when storage answers, else why not, in a line. For readiness and status, not for control flow.
    /// </summary>
    public async Task<string?> ProbeAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(timeout);
        try
        {
            await blobs.GetBlobContainerClient(StorageNames.ModelsContainer).ExistsAsync(bounded.Token);
            return null;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"storage did not answer within {timeout.TotalSeconds:0} s";
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Unreachable, refused, or the identity has no token: any failure means storage does not answer.
            return StorageFaults.Describe(ex);
        }
    }

    /// <summary>
    /// Creates the containers and tables once per process; safe to call from every entry point.
    /// A failure (storage not up yet) is not remembered: the next call tries again.
    /// </summary>
    public async Task EnsureCreatedAsync(CancellationToken cancellationToken = default)
    {
        if (created)
        {
            return;
        }

        await createLock.WaitAsync(cancellationToken);
        try
        {
            if (!created)
            {
                await CreateLayoutAsync(cancellationToken);
                created = true;
            }
        }
        finally
        {
            createLock.Release();
        }
    }

    private async Task CreateLayoutAsync(CancellationToken cancellationToken)
    {
        foreach (var container in StorageNames.Containers)
        {
            await blobs.GetBlobContainerClient(container).CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        }

        foreach (var table in StorageNames.Tables)
        {
            await tables.CreateTableIfNotExistsAsync(table, cancellationToken);
        }
    }
}
