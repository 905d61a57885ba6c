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

    private readonly Buckets positive = new();
    private readonly Buckets negative = new();
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
            positive.Increment(Index(value));
        }
        else
        {
            negative.Increment(Index(-value));
        }
    }

    /// <summary>Adds another sketch's values: the lattice is shared, so buckets add index by index.</summary>
    public void Merge(QuantileSketch other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Count == 0)
        {
            return;
        }

        Count += other.Count;
        Min = Math.Min(Min, other.Min);
        Max = Math.Max(Max, other.Max);
        zero += other.zero;
        positive.Merge(other.positive);
        negative.Merge(other.negative);
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

    /// <summary>
    /// The bucket of a magnitude: the i with γ^(i-1) &lt; m &lt;= γ^i. Hot (once per numeric value), so
    /// instead of a logarithm it estimates i from the double's exponent and a table of log2 over
    /// the mantissa's top 12 bits (off by at most one bucket), then settles it by comparing with
    /// the bucket boundaries, which are exactly the values <see cref="SnapToBoundary"/> returns.
    /// </summary>
    private static int Index(double magnitude)
    {
        var bits = BitConverter.DoubleToInt64Bits(magnitude);
        var exponent = (int)((bits >> 52) & 0x7FF);
        var index = exponent is 0 or 0x7FF
            ? (int)Math.Ceiling(Math.Log(magnitude) / LogGamma)
            : (int)Math.Ceiling((exponent - 1023 + Log2Mantissa[(int)((bits >> 40) & 0xFFF)]) * BucketsPerOctave);
        if (index <= MinTableIndex || index >= MaxTableIndex)
        {
            // Outside the table (rare magnitudes): the same settling against boundaries computed here.
            while (magnitude > Math.Pow(Gamma, index))
            {
                index++;
            }

            while (magnitude <= Math.Pow(Gamma, index - 1))
            {
                index--;
            }

            return index;
        }

        while (magnitude > Boundaries[index - MinTableIndex])
        {
            index++;
        }

        while (magnitude <= Boundaries[index - 1 - MinTableIndex])
        {
            index--;
        }

        return index;
    }

    private static readonly double BucketsPerOctave = Math.Log(2) / LogGamma;

    // log2(1 + k/4096) for the mantissa's top 12 bits: a lower bound of log2 of the mantissa.
    private static readonly double[] Log2Mantissa = Enumerable.Range(0, 4096).Select(k => Math.Log2(1 + (k / 4096.0))).ToArray();

    // γ^i for the indexes of magnitudes from the zero threshold (about 10^-12) to 10^15; beyond
    // them, boundaries are computed as needed. 0.05 MB of doubles, computed once.
    private static readonly int MinTableIndex = (int)Math.Floor(Math.Log(ZeroThreshold) / LogGamma) - 2;
    private static readonly int MaxTableIndex = (int)Math.Ceiling(Math.Log(1e15) / LogGamma) + 2;
    private static readonly double[] Boundaries = Enumerable.Range(MinTableIndex, MaxTableIndex - MinTableIndex + 1).Select(i => Math.Pow(Gamma, i)).ToArray();

    private static double Represent(double lower, double upper) => lower >= 0
        ? 2 * upper / (Gamma + 1)
        : -2 * -lower / (Gamma + 1);

    /// <summary>Buckets from the most negative to the most positive: (upper bound, lower bound, count).</summary>
    private IEnumerable<(double Upper, double Lower, long Count)> BucketsAscending()
    {
        foreach (var (index, count) in negative.Descending())
        {
            yield return (-Math.Pow(Gamma, index - 1), -Math.Pow(Gamma, index), count);
        }

        if (zero > 0)
        {
            yield return (ZeroThreshold, ZeroThreshold, zero);
        }

        foreach (var (index, count) in positive.Ascending())
        {
            yield return (Math.Pow(Gamma, index), Math.Pow(Gamma, index - 1), count);
        }
    }

    /// <summary>Counts by bucket index in one array that grows to the range of indexes seen.</summary>
    private sealed class Buckets
    {
        private long[] counts = [];
        private int offset;

        public void Increment(int index)
        {
            var slot = index - offset;
            if ((uint)slot >= (uint)counts.Length)
            {
                slot = Grow(index);
            }

            counts[slot]++;
        }

        public void Merge(Buckets other)
        {
            foreach (var (index, count) in other.Ascending())
            {
                var slot = index - offset;
                if ((uint)slot >= (uint)counts.Length)
                {
                    slot = Grow(index);
                }

                counts[slot] += count;
            }
        }

        public IEnumerable<(int Index, long Count)> Ascending()
        {
            for (var slot = 0; slot < counts.Length; slot++)
            {
                if (counts[slot] > 0)
                {
                    yield return (slot + offset, counts[slot]);
                }
            }
        }

        public IEnumerable<(int Index, long Count)> Descending()
        {
            for (var slot = counts.Length - 1; slot >= 0; slot--)
            {
                if (counts[slot] > 0)
                {
                    yield return (slot + offset, counts[slot]);
                }
            }
        }

        private int Grow(int index)
        {
            if (counts.Length == 0)
            {
                counts = new long[64];
                offset = index - 32;
                return index - offset;
            }

            var low = Math.Min(offset, index - 16);
            var high = Math.Max(offset + counts.Length, index + 17);
            var grown = new long[high - low];
            Array.Copy(counts, 0, grown, offset - low, counts.Length);
            counts = grown;
            offset = low;
            return index - offset;
        }
    }
}
