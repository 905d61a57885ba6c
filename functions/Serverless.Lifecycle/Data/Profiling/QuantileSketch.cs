namespace Serverless.Lifecycle.Data.Profiling;

/// <summary>
/// A streaming quantile sketch with relative-error guarantees and bounded memory, after
/// DDSketch (Masson, Rim, Lee, VLDB 2019): values fall into logarithmic buckets
/// (γ^(i-1), γ^i] with γ = (1+α)/(1-α), so any quantile is returned within relative error α.
/// Written here because no maintained .NET sketch library is available from the package source.
/// <para>
/// The bucket lattice is the same for every sketch, which is what makes the stored histograms
/// exact and comparable: histogram edges are placed on bucket boundaries, so every bucket
/// (and every value) falls wholly on one side of every edge, now and in any later window.
/// </para>
/// </summary>
public sealed class QuantileSketch
{
    /// <summary>Relative accuracy of quantiles: 0.5%.</summary>
    public const double RelativeAccuracy = 0.005;

    /// <summary>Values with a smaller magnitude are counted as zero.</summary>
    public const double ZeroThreshold = 1e-12;

    private static readonly double Gamma = (1 + RelativeAccuracy) / (1 - RelativeAccuracy);
    private static readonly double LogGamma = Math.Log(Gamma);

    private readonly Dictionary<int, long> positive = [];
    private readonly Dictionary<int, long> negative = [];
    private long zero;

    public long Count { get; private set; }

    public double Min { get; private set; } = double.PositiveInfinity;

    public double Max { get; private set; } = double.NegativeInfinity;

    public void Add(double value)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "Only finite values can be sketched.");
        }

        Count++;
        Min = Math.Min(Min, value);
        Max = Math.Max(Max, value);
        if (Math.Abs(value) <= ZeroThreshold)
        {
            zero++;
        }
        else if (value > 0)
        {
            Increment(positive, Index(value));
        }
        else
        {
            Increment(negative, Index(-value));
        }
    }

    /// <summary>The value at quantile <paramref name="q"/> (0..1), within <see cref="RelativeAccuracy"/>, clamped to [min, max].</summary>
    public double Quantile(double q)
    {
        if (Count == 0)
        {
            return double.NaN;
        }

        var rank = (long)Math.Floor(q * (Count - 1));
        long seen = 0;
        foreach (var (upper, lower, count) in BucketsAscending())
        {
            seen += count;
            if (seen > rank)
            {
                var value = lower == upper ? upper : Represent(lower, upper);
                return Math.Clamp(value, Min, Max);
            }
        }

        return Max;
    }

    /// <summary>The bucket boundary at or just above <paramref name="value"/>: where a histogram edge can go.</summary>
    public static double SnapToBoundary(double value)
    {
        if (Math.Abs(value) <= ZeroThreshold)
        {
            return ZeroThreshold;
        }

        return value > 0 ? Math.Pow(Gamma, Index(value)) : -Math.Pow(Gamma, Index(-value) - 1);
    }

    /// <summary>Counts per bin for the given ascending edges: bin k holds values in (edge[k-1], edge[k]]; the last bin is above the last edge.</summary>
    public long[] CountsFor(IReadOnlyList<double> edges)
    {
        ArgumentNullException.ThrowIfNull(edges);
        var counts = new long[edges.Count + 1];
        foreach (var (upper, _, count) in BucketsAscending())
        {
            var bin = 0;
            while (bin < edges.Count && upper > edges[bin] + (Math.Abs(edges[bin]) * 1e-12))
            {
                bin++;
            }

            counts[bin] += count;
        }

        return counts;
    }

    private static int Index(double magnitude) => (int)Math.Ceiling(Math.Log(magnitude) / LogGamma);

    private static double Represent(double lower, double upper) => lower >= 0
        ? 2 * upper / (Gamma + 1)
        : -2 * -lower / (Gamma + 1);

    /// <summary>Buckets from the most negative to the most positive: (upper bound, lower bound, count).</summary>
    private IEnumerable<(double Upper, double Lower, long Count)> BucketsAscending()
    {
        foreach (var (index, count) in negative.OrderByDescending(b => b.Key))
        {
            yield return (-Math.Pow(Gamma, index - 1), -Math.Pow(Gamma, index), count);
        }

        if (zero > 0)
        {
            yield return (ZeroThreshold, ZeroThreshold, zero);
        }

        foreach (var (index, count) in positive.OrderBy(b => b.Key))
        {
            yield return (Math.Pow(Gamma, index), Math.Pow(Gamma, index - 1), count);
        }
    }

    private static void Increment(Dictionary<int, long> buckets, int index)
    {
        buckets.TryGetValue(index, out var count);
        buckets[index] = count + 1;
    }
}
