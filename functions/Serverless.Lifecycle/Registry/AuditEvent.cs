namespace Serverless.Lifecycle.Registry;

/// <summary>One entry of the append-only audit trail: who did what to which version, when and why.</summary>
public sealed record AuditEvent(string Model, string Action, string Actor, string? Alias, int? From, int? To, string? Reason, DateTimeOffset At);

/// <summary>The actions the audit trail records.</summary>
public static class AuditActions
{
    public const string SpecRegistered = "spec-registered";
    public const string SpecUpdated = "spec-updated";
    public const string VersionRegistered = "version-registered";
    public const string AliasMoved = "alias-moved";
    public const string AliasDeleted = "alias-deleted";
    public const string Rollback = "rollback";

    /// <summary>A run's promotion found the alias moved since its gate (a newer run promoted first); nothing moved.</summary>
    public const string Superseded = "superseded";
    public const string Archived = "archived";
    public const string Deleted = "deleted";
    public const string Approved = "approved";
    public const string Rejected = "rejected";
}
