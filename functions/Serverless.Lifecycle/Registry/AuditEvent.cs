namespace Serverless.Lifecycle.Registry;

/// <summary>One entry of the append-only audit trail: who did what to which version, when and why.</summary>
public sealed record AuditEvent(string Model, string Action, string Actor, string? Alias, int? From, int? To, string? Reason, DateTimeOffset At);
