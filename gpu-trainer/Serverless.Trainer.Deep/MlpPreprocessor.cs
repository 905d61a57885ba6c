using System.Globalization;
using Serverless.Lifecycle.Scoring;
using Serverless.Lifecycle.Specs;

namespace Serverless.Trainer.Deep;

/// <summary>
/// The deep model's input layer, fitted on the training split: numeric features imputed with their
/// mean and standardized (mean 0, standard deviation 1; a constant feature is only centred), then each
/// categorical feature one-hot encoded over its most frequent categories (an empty value, or one not
/// among them, is all zeros). <see cref="Transform"/> computes in float32 exactly what the exported
/// graph computes (<see cref="MlpOnnx"/>): the numeric block first, in the spec's order, then each
/// categorical block in the spec's order.
/// </summary>
public sealed class MlpPreprocessor
{
    /// <summary>At most this many categories per feature get a column; rarer ones share the all-zero row.</summary>
    public const int MaxCategories = 1000;

    private MlpPreprocessor(IReadOnlyList<string> numeric, float[] means, float[] scales, IReadOnlyList<(string Feature, string[] Categories)> categorical)
    {
        Numeric = numeric;
        Means = means;
        Scales = scales;
        Categorical = categorical;
        Width = numeric.Count + categorical.Sum(c => c.Categories.Length);
    }

    public IReadOnlyList<string> Numeric { get; }

    public float[] Means { get; }

    /// <summary>Each numeric feature's standard deviation (1 when it is 0 or undefined).</summary>
    public float[] Scales { get; }

    public IReadOnlyList<(string Feature, string[] Categories)> Categorical { get; }

    /// <summary>Columns of the transformed matrix.</summary>
    public int Width { get; }

    public static MlpPreprocessor Fit(ModelSpec spec, FeatureBatch train)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(train);
        var numeric = spec.Features.Where(f => f.IsNumeric).Select(f => f.Name).ToList();
        var means = new float[numeric.Count];
        var scales = new float[numeric.Count];
        for (var i = 0; i < numeric.Count; i++)
        {
            // Mean and population standard deviation of the finite values present, in double (Welford).
            var (count, mean, squares) = (0L, 0.0, 0.0);
            foreach (var value in train.Numeric[numeric[i]])
            {
                if (float.IsFinite(value))
                {
                    count++;
                    var delta = value - mean;
                    mean += delta / count;
                    squares += delta * (value - mean);
                }
            }

            means[i] = count == 0 ? 0f : (float)mean;
            var deviation = count == 0 ? 0 : Math.Sqrt(squares / count);
            scales[i] = deviation > 1e-12 && double.IsFinite(deviation) ? (float)deviation : 1f;
        }

        var categorical = spec.Features.Where(f => !f.IsNumeric).Select(f => (f.Name, Categories(train.Categorical[f.Name]))).ToList();
        return new MlpPreprocessor(numeric, means, scales, categorical);
    }

    /// <summary>The rows as one row-major [rows, <see cref="Width"/>] matrix.</summary>
    public float[] Transform(FeatureBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var matrix = new float[(long)batch.Rows * Width];
        for (var i = 0; i < Numeric.Count; i++)
        {
            var (values, mean, scale) = (batch.Numeric[Numeric[i]], Means[i], Scales[i]);
            for (var row = 0; row < batch.Rows; row++)
            {
                // As the graph: Where(IsNaN(x), mean, x), then Sub(mean), then Div(scale), each in float32.
                var value = float.IsNaN(values[row]) ? mean : values[row];
                matrix[((long)row * Width) + i] = (value - mean) / scale;
            }
        }

        var offset = Numeric.Count;
        foreach (var (feature, categories) in Categorical)
        {
            var index = categories.Select((c, k) => (c, k)).ToDictionary(p => p.c, p => p.k, StringComparer.Ordinal);
            var values = batch.Categorical[feature];
            for (var row = 0; row < batch.Rows; row++)
            {
                if (values[row] is { } value && index.TryGetValue(value, out var k))
                {
                    matrix[((long)row * Width) + offset + k] = 1f;
                }
            }

            offset += categories.Length;
        }

        return matrix;
    }

    /// <summary>The non-empty categories, most frequent first (ties in ordinal order), at most <see cref="MaxCategories"/>.</summary>
    private static string[] Categories(string[] values) =>
        values.Where(v => !string.IsNullOrEmpty(v))
            .GroupBy(v => v, StringComparer.Ordinal)
            .OrderByDescending(g => g.Count())
            .ThenBy(g => g.Key, StringComparer.Ordinal)
            .Take(MaxCategories)
            .Select(g => g.Key)
            .ToArray();

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Numeric.Count} numeric, {Categorical.Count} categorical, {Width} columns");
}
