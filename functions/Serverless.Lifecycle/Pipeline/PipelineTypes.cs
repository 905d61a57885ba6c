using Serverless.Lifecycle.Pipeline.Activities;

namespace Serverless.Lifecycle.Pipeline;

/// <summary>Every orchestrator and activity class, for the hosts that register them by type.</summary>
public static class PipelineTypes
{
    public static readonly IReadOnlyList<Type> Orchestrators = [typeof(TrainingPipelineOrchestrator), typeof(TrainingJobOrchestrator), typeof(RolloutOrchestrator)];

    public static readonly IReadOnlyList<Type> Activities =
    [
        typeof(CheckLineageActivity),
        typeof(ValidateDatasetActivity),
        typeof(SplitDatasetActivity),
        typeof(StartTrainingJobActivity),
        typeof(GetTrainingJobStatusActivity),
        typeof(StopTrainingJobActivity),
        typeof(ScoreChampionActivity),
        typeof(EvaluateModelActivity),
        typeof(RecordApprovalActivity),
        typeof(RegisterModelActivity),
        typeof(PromoteModelActivity),
        typeof(RecordSupersededActivity),
        typeof(StartRolloutActivity),
        typeof(EvaluateRolloutStepActivity),
        typeof(AdvanceRolloutActivity),
        typeof(FinishRolloutActivity),
    ];
}
