using Microsoft.Extensions.Logging;

namespace Serverless.Lifecycle.Pipeline;

internal static partial class PipelineLog
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Run {RunId} of model {ModelName} started by {Trigger}")]
    public static partial void RunStarted(ILogger logger, string runId, string modelName, string trigger);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning, Message = "Run {RunId} rejected its dataset with {ProblemCount} problem(s)")]
    public static partial void RunRejected(ILogger logger, string runId, int problemCount);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Run {RunId}: training failed: {Error}")]
    public static partial void TrainingFailed(ILogger logger, string runId, string error);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "Run {RunId}: the candidate of {ModelName} did not pass the gate")]
    public static partial void GateFailed(ILogger logger, string runId, string modelName);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Information, Message = "Run {RunId}: {ModelName} version {ModelVersion} registered and promoted to champion")]
    public static partial void RunSucceeded(ILogger logger, string runId, string modelName, int modelVersion);
}
