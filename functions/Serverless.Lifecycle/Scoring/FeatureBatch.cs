using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Scoring;

/// <summary>
/// Rows to score, held column by column in the layout the ONNX graph takes (one [rows, 1]
/// tensor per feature), so building the inputs copies nothing per value.
/// </summary>
public sealed class FeatureBatch
{
    private readonly Dictionary<string, float[]> numeric = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string[]> categorical = new(StringComparer.Ordinal);
    private readonly ModelSpec spec;

    public FeatureBatch(ModelSpec spec, int rows)
    {
        ArgumentNullException.ThrowIfNull(spec);
        this.spec = spec;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        Rows = rows;
        foreach (var feature in spec.Features)
        {
            if (feature.IsNumeric)
            {
                numeric[feature.Name] = new float[rows];
            }
            else
            {
                categorical[feature.Name] = new string[rows];
            }
        }
    }

    public int Rows { get; }

    /// <summary>The spec whose features the batch holds.</summary>
    public ModelSpec Spec => spec;

    public IReadOnlyDictionary<string, float[]> Numeric => numeric;

    public IReadOnlyDictionary<string, string[]> Categorical => categorical;

    /// <summary>Missing numeric values are NaN (the model's imputer replaces them).</summary>
    public void SetNumeric(string feature, int row, float value) => numeric[feature][row] = value;

    /// <summary>Missing categorical values are the empty string (an unseen category to the one-hot encoder).</summary>
    public void SetCategorical(string feature, int row, string value) => categorical[feature][row] = value;

    /// <summary>Copies row <paramref name="row"/> into row <paramref name="targetRow"/> of <paramref name="target"/> (a batch of the same spec).</summary>
    public void CopyRowTo(int row, FeatureBatch target, int targetRow)
    {
        ArgumentNullException.ThrowIfNull(target);
        foreach (var (name, values) in numeric)
        {
            target.numeric[name][targetRow] = values[row];
        }

        foreach (var (name, values) in categorical)
        {
            target.categorical[name][targetRow] = values[row];
        }
    }

    /// <summary>A batch of the same spec with a copy of <paramref name="count"/> rows from <paramref name="start"/>.</summary>
    public FeatureBatch Slice(int start, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start + count, Rows);
        var slice = new FeatureBatch(spec, count);
        foreach (var (name, values) in numeric)
        {
            Array.Copy(values, start, slice.numeric[name], 0, count);
        }

        foreach (var (name, values) in categorical)
        {
            Array.Copy(values, start, slice.categorical[name], 0, count);
        }

        return slice;
    }

    /// <summary>
    /// The same rows with one feature's values reordered: row i takes the value of row
    /// <paramref name="order"/>[i]. The other columns are this batch's own arrays, shared, not copied
    /// (the shuffled batch is only scored); permutation importance scores one of these per shuffle.
    /// </summary>
    public FeatureBatch WithShuffled(string feature, int[] order)
    {
        ArgumentNullException.ThrowIfNull(order);
        ArgumentOutOfRangeException.ThrowIfNotEqual(order.Length, Rows);
        var shuffled = new FeatureBatch(spec, Rows, numeric, categorical);
        if (numeric.TryGetValue(feature, out var values))
        {
            shuffled.numeric[feature] = [.. order.Select(i => values[i])];
        }
        else if (categorical.TryGetValue(feature, out var categories))
        {
            shuffled.categorical[feature] = [.. order.Select(i => categories[i])];
        }
        else
        {
            throw new ArgumentException($"'{feature}' is not a feature of model {spec.Name}.", nameof(feature));
        }

        return shuffled;
    }

    private FeatureBatch(ModelSpec spec, int rows, Dictionary<string, float[]> numeric, Dictionary<string, string[]> categorical)
    {
        this.spec = spec;
        Rows = rows;
        this.numeric = new(numeric, StringComparer.Ordinal);
        this.categorical = new(categorical, StringComparer.Ordinal);
    }

    /// <summary>A one-row batch with a copy of row <paramref name="row"/>.</summary>
    public FeatureBatch Row(int row)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, Rows);
        var one = new FeatureBatch(spec, 1);
        CopyRowTo(row, one, 0);
        return one;
    }
}
