namespace Serverless.Lifecycle.Storage;

/// <summary>The storage layout of the architecture: containers and tables by purpose.</summary>
public static class StorageNames
{
    public const string DatasetsContainer = "datasets";
    public const string RunsContainer = "runs";
    public const string ModelsContainer = "models";
    public const string PredictionsContainer = "predictions";
    public const string BatchInputContainer = "batch-input";
    public const string BatchOutputContainer = "batch-output";
    public const string MonitoringContainer = "monitoring";

    public const string SpecsTable = "ModelSpecs";
    public const string VersionsTable = "ModelVersions";
    public const string AliasesTable = "ModelAliases";
    public const string AuditTable = "AuditEvents";
    public const string DatasetsTable = "Datasets";
    public const string FeedbackTable = "Feedback";
    public const string RolloutsTable = "Rollouts";
    public const string MonitoringTable = "MonitoringReports";
    public const string TriggersTable = "RetrainingTriggers";
    public const string ScoringKeysTable = "ScoringKeys";

    public static readonly IReadOnlyList<string> Containers = [DatasetsContainer, RunsContainer, ModelsContainer, PredictionsContainer, BatchInputContainer, BatchOutputContainer, MonitoringContainer];
    public static readonly IReadOnlyList<string> Tables = [SpecsTable, VersionsTable, AliasesTable, AuditTable, DatasetsTable, FeedbackTable, RolloutsTable, MonitoringTable, TriggersTable, ScoringKeysTable];
}
