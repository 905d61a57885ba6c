namespace Serverless.Trainer;

/// <summary>What every trainer checks of a training split's labels before it fits, with one wording.</summary>
public static class TrainingLabels
{
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
            throw new TrainingFailedException(
                $"The training split's '{label}' must be finite numbers that are not all equal ({values.Count} row(s), {values.Count(v => !float.IsFinite(v))} missing or not finite).");
        }
    }

    public static void CheckBinary(string label, IReadOnlyCollection<bool> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (!labels.Any(l => l) || !labels.Any(l => !l))
        {
            throw new TrainingFailedException($"The training split has {labels.Count} row(s) and only one class of '{label}'; a binary model needs both.");
        }
    }
}
