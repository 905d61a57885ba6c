using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Specs;

namespace Serverless.Trainer;

/// <summary>What every trainer checks of a training split's labels before it fits, with one wording.</summary>
public static class TrainingLabels
{
    /// <summary>
    /// The same checks on the labels as the pipeline's pass over the dataset counted them (a job's
    /// <c>TrainLabels</c>), so the split is not read for them again.
    /// </summary>
    public static void Check(ModelSpec spec, LabelFacts facts)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(facts);
        switch (spec.Task)
        {
            case ModelTasks.Multiclass:
                CheckMulticlass(spec.Label, facts.DistinctValues);
                break;
            case ModelTasks.Regression:
                if (facts.Rows == 0 || facts.NotUsable > 0 || facts.DistinctValues < 2)
                {
                    throw new TrainingFailedException(RegressionProblem(spec.Label, facts.Rows, facts.NotUsable));
                }

                break;
            default:
                if (facts.DistinctValues < 2)
                {
                    throw new TrainingFailedException(BinaryProblem(spec.Label, facts.Rows));
                }

                break;
        }
    }

    public static void CheckMulticlass(string label, int classes)
    {
        if (classes < 2)
        {
            throw new TrainingFailedException($"The training split has {classes} class(es) of '{label}'; a multiclass model needs at least two.");
        }
    }

    public static void CheckRegression(string label, IReadOnlyCollection<float> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0 || values.Any(v => !float.IsFinite(v)) || values.Distinct().Take(2).Count() < 2)
        {
            throw new TrainingFailedException(RegressionProblem(label, values.Count, values.Count(v => !float.IsFinite(v))));
        }
    }

    public static void CheckBinary(string label, IReadOnlyCollection<bool> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (!labels.Any(l => l) || !labels.Any(l => !l))
        {
            throw new TrainingFailedException(BinaryProblem(label, labels.Count));
        }
    }

    private static string RegressionProblem(string label, long rows, long notFinite) =>
        $"The training split's '{label}' must be finite numbers that are not all equal ({rows} row(s), {notFinite} missing or not finite).";

    private static string BinaryProblem(string label, long rows) =>
        $"The training split has {rows} row(s) and only one class of '{label}'; a binary model needs both.";
}
