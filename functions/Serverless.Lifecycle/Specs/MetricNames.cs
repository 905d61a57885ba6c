
namespace Serverless.Lifecycle.Specs;

/// <summary>The metric names the trainer reports, the gate checks and the registry stores.</summary>
public static class MetricNames
{
    public const string Auc = "auc";
    public const string Accuracy = "accuracy";
    public const string F1 = "f1";
    public const string Precision = "precision";
    public const string Recall = "recall";
    public const string LogLoss = "logLoss";
    public const string MacroAccuracy = "macroAccuracy";
    public const string MicroAccuracy = "microAccuracy";
    public const string Rmse = "rmse";
    public const string Mae = "mae";
    public const string R2 = "r2";

    /// <summary>What every training job of a task must report on its validation split.</summary>
    public static IReadOnlyList<string> RequiredValidation(string task) => task switch
    {
        ModelTasks.Multiclass => [MacroAccuracy, MicroAccuracy, LogLoss],
        ModelTasks.Regression => [Rmse, Mae, R2],
        _ => [Auc, Accuracy, F1, LogLoss],
    };

    /// <summary>What can be measured from logged predictions: the log keeps the label and its probability (or the value), not every class's probability.</summary>
    public static IReadOnlyList<string> MeasurableLive(string task) => task switch
    {
        ModelTasks.Multiclass => [MicroAccuracy],
        ModelTasks.Regression => [Rmse, Mae, R2],
        _ => [Auc, Accuracy, LogLoss],
    };

    /// <summary>The metric permutation importance measures by default: the task's ranking or probability-quality metric, which moves with every feature the model uses.</summary>
    public static string Importance(string task) => task switch
    {
        ModelTasks.Multiclass => LogLoss,
        ModelTasks.Regression => Rmse,
        _ => Auc,
    };

    /// <summary>True when a larger value is better (AUC, accuracy); false for losses and errors.</summary>
    public static bool HigherIsBetter(string metric) => metric is not (LogLoss or Rmse or Mae);
}
