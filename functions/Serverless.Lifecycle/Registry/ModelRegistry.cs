using System.Globalization;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Registry;

/// <summary>
/// The model registry on Azure Tables, as the rest of the lifecycle uses it. What it keeps is split
/// by kind: <see cref="SpecStore"/> (specs), <see cref="VersionStore"/> (versions),
/// <see cref="AliasStore"/> (aliases and promotions) and <see cref="AuditTrail"/> (the append-only
/// history of every change). This class answers the questions that span them (resolving a
/// reference, retiring a version no alias points at, recording a decision) and passes the rest on.
/// Every write is conditional on an ETag or an insert, so concurrent writers cannot lose an update.
/// </summary>
public sealed class ModelRegistry
{
    /// <summary>An expected ETag meaning "the alias must not exist yet": the move is an insert that loses to a concurrent one.</summary>
    public const string AbsentETag = AliasStore.AbsentETag;

    private readonly LifecycleStorage storage;
    private readonly TimeProvider clock;

    public ModelRegistry(LifecycleStorage storage, TimeProvider clock)
    {
        this.storage = storage;
        this.clock = clock;
        Audit = new AuditTrail(storage, clock);
        Specs = new SpecStore(storage, Audit, clock);
        Versions = new VersionStore(storage, Audit, clock);
        Aliases = new AliasStore(storage, Versions, Audit, clock);
    }

    public SpecStore Specs { get; }

    public VersionStore Versions { get; }

    public AliasStore Aliases { get; }

    public AuditTrail Audit { get; }

    /// <inheritdoc cref="SpecStore.PutSpecAsync(ModelSpec, string, CancellationToken)"/>
    public Task<bool> PutSpecAsync(ModelSpec spec, string actor, CancellationToken cancellationToken) => Specs.PutSpecAsync(spec, actor, cancellationToken);

    /// <inheritdoc cref="SpecStore.PutSpecAsync(ModelSpec, string, string?, CancellationToken)"/>
    public Task<(bool Created, string ETag)> PutSpecAsync(ModelSpec spec, string actor, string? expectedETag, CancellationToken cancellationToken) =>
        Specs.PutSpecAsync(spec, actor, expectedETag, cancellationToken);

    public Task<(ModelSpec Spec, string ETag)> GetSpecWithETagAsync(string model, CancellationToken cancellationToken) => Specs.GetSpecWithETagAsync(model, cancellationToken);

    public Task<ModelSpec?> TryGetSpecAsync(string model, CancellationToken cancellationToken) => Specs.TryGetSpecAsync(model, cancellationToken);

    public Task<ModelSpec> GetSpecAsync(string model, CancellationToken cancellationToken) => Specs.GetSpecAsync(model, cancellationToken);

    public Task<IReadOnlyList<ModelSpec>> ListSpecsAsync(CancellationToken cancellationToken) => Specs.ListSpecsAsync(cancellationToken);

    /// <inheritdoc cref="VersionStore.ReserveAsync"/>
    public Task<ModelVersion> ReserveVersionAsync(string model, string runId, CancellationToken cancellationToken) => Versions.ReserveAsync(model, runId, cancellationToken);

    /// <inheritdoc cref="VersionStore.CompleteAsync"/>
    public Task<ModelVersion> CompleteVersionAsync(ModelVersion reserved, string sha256, string? cardSha256, IReadOnlyDictionary<string, double> metrics, CancellationToken cancellationToken) =>
        Versions.CompleteAsync(reserved, sha256, cardSha256, metrics, cancellationToken);

    /// <inheritdoc cref="VersionStore.RecordServingProblemAsync"/>
    public Task RecordServingProblemAsync(string model, int version, string? problem, CancellationToken cancellationToken) =>
        Versions.RecordServingProblemAsync(model, version, problem, cancellationToken);

    /// <summary>All versions of a model, newest first.</summary>
    public Task<IReadOnlyList<ModelVersion>> ListVersionsAsync(string model, CancellationToken cancellationToken) => Versions.ListAsync(model, cancellationToken);

    public Task<ModelVersion> GetVersionAsync(string model, int version, CancellationToken cancellationToken) => Versions.GetAsync(model, version, cancellationToken);

    public Task<IReadOnlyList<AliasState>> ListAliasesAsync(string model, CancellationToken cancellationToken) => Aliases.ListAsync(model, cancellationToken);

    public Task<AliasState?> TryGetAliasAsync(string model, string alias, CancellationToken cancellationToken) => Aliases.TryGetAsync(model, alias, cancellationToken);

    /// <inheritdoc cref="AliasStore.SetAsync"/>
    public Task<AliasState> SetAliasAsync(
        string model, string alias, int version, string? expectedETag, string actor, string? reason, CancellationToken cancellationToken, string action = AuditActions.AliasMoved) =>
        Aliases.SetAsync(model, alias, version, expectedETag, actor, reason, cancellationToken, action);

    public Task DeleteAliasAsync(string model, string alias, string? expectedETag, string actor, CancellationToken cancellationToken) =>
        Aliases.DeleteAsync(model, alias, expectedETag, actor, cancellationToken);

    /// <inheritdoc cref="AliasStore.RollbackChampionAsync"/>
    public async Task<(AliasState Alias, int From)> RollbackChampionAsync(string model, string actor, string reason, CancellationToken cancellationToken, string? expectedETag = null)
    {
        await GetSpecAsync(model, cancellationToken);
        return await Aliases.RollbackChampionAsync(model, actor, reason, cancellationToken, expectedETag);
    }

    /// <inheritdoc cref="AliasStore.PromoteAsync"/>
    public Task<AliasState> PromoteAsync(string model, string alias, int version, int? gatedAgainst, string actor, string reason, CancellationToken cancellationToken) =>
        Aliases.PromoteAsync(model, alias, version, gatedAgainst, actor, reason, cancellationToken);

    /// <summary>
    /// Records, once per version (a retry appends nothing more), that a run did not promote its version
    /// because the alias moved to <paramref name="current"/> after its gate and the candidate did not
    /// pass the gate again against it.
    /// </summary>
    public async Task RecordSupersededAsync(string model, string alias, int version, int current, string actor, string reason, CancellationToken cancellationToken)
    {
        var registered = await GetVersionAsync(model, version, cancellationToken);
        var key = RowKeys.NewestFirst(registered.CreatedAt) + "-superseded-" + version.ToString(CultureInfo.InvariantCulture);
        await Audit.AppendAsync((key, new AuditEvent(model, AuditActions.Superseded, actor, alias, current, version, reason, clock.GetUtcNow())), cancellationToken);
    }

    /// <summary>Records a person's (or the timeout's) decision on a run's candidate in the audit trail.</summary>
    public Task RecordApprovalAsync(string model, string runId, bool approved, string actor, string reason, CancellationToken cancellationToken) =>
        Audit.AppendAsync(model, approved ? AuditActions.Approved : AuditActions.Rejected, actor, null, null, $"run {runId}: {reason}", cancellationToken);

    /// <summary>Archives a ready version: it keeps its artifacts and history but takes no alias and is not served. Refused while it carries an alias.</summary>
    public Task<ModelVersion> ArchiveVersionAsync(string model, int version, string actor, string? reason, CancellationToken cancellationToken) =>
        Versions.RetireAsync(model, version, ModelVersionStatus.Archived, actor, reason, ct => Aliases.OnVersionAsync(model, version, ct), cancellationToken);

    /// <summary>
    /// Deletes a ready or archived version's ONNX file. Refused while it carries an alias. The
    /// version is marked deleted before its file goes, so nothing serves it in between; calling
    /// again after a crash finishes the deletion.
    /// </summary>
    public async Task<ModelVersion> DeleteVersionAsync(string model, int version, string actor, string? reason, CancellationToken cancellationToken)
    {
        var deleted = await Versions.RetireAsync(model, version, ModelVersionStatus.Deleted, actor, reason, ct => Aliases.OnVersionAsync(model, version, ct), cancellationToken);
        await storage.Blob(BlobPath.Parse(deleted.ModelPath)).DeleteIfExistsAsync(cancellationToken: cancellationToken);
        return deleted;
    }

    /// <summary>Resolves an alias (<c>champion</c>, <c>latest</c>) or a version (<c>3</c>, <c>v3</c>) to a ready version.</summary>
    public async Task<ModelVersion> ResolveAsync(string model, string reference, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reference);
        if (ModelReference.IsVersion(reference) && int.TryParse(reference.TrimStart('v'), NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return await GetVersionAsync(model, number, cancellationToken);
        }

        if (reference == ReservedAliases.Latest)
        {
            var versions = await ListVersionsAsync(model, cancellationToken);
            return versions.FirstOrDefault(v => v.Status == ModelVersionStatus.Ready) ?? throw new AliasNotFoundException(model, reference);
        }

        var alias = await TryGetAliasAsync(model, reference, cancellationToken) ?? throw new AliasNotFoundException(model, reference);
        return await GetVersionAsync(model, alias.Version, cancellationToken);
    }

    public Task<IReadOnlyList<AuditEvent>> ListAuditAsync(string model, CancellationToken cancellationToken) => Audit.ListAsync(model, cancellationToken);
}
