using System.Globalization;
using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Data.Profiling;

/// <summary>Up to five example line numbers of a finding, plus how many lines had it.</summary>
internal sealed class Examples
{
    public const int Max = 5;
    private readonly List<int> lines = [];

    public long Count { get; private set; }

    public IReadOnlyList<int> Lines => lines;

    public void Add(int line)
    {
        Count++;
        if (lines.Count < Max)
        {
            lines.Add(line);
        }
    }

    /// <summary>Adds another part's examples (rows read in parallel): counts add up, the earliest lines are kept.</summary>
    public void Merge(Examples other)
    {
        Count += other.Count;
        var merged = lines.Concat(other.lines).Order().Distinct().Take(Max).ToList();
        lines.Clear();
        lines.AddRange(merged);
    }
}

/// <summary>Streams one numeric feature: parse errors, missing, NaN/Inf, range, moments and a quantile sketch.</summary>
internal sealed class NumericAccumulator(FeatureSpec feature)
{
    private readonly double min = feature.Range?.Min ?? double.NegativeInfinity;
    private readonly double max = feature.Range?.Max ?? double.PositiveInfinity;
    private double mean;
    private double m2;

    public FeatureSpec Feature { get; } = feature;

    public QuantileSketch Sketch { get; } = new();

    public Examples TypeErrors { get; } = new();

    public Examples Missing { get; } = new();

    public Examples NonFinite { get; } = new();

    public Examples OutOfRange { get; } = new();

    public void Add(ReadOnlySpan<char> text, int line)
    {
        var trimmed = text.Trim();
        if (trimmed.IsEmpty)
        {
            Missing.Add(line);
            return;
        }

        if (!DecimalParser.TryParse(trimmed, out var value))
        {
            TypeErrors.Add(line);
            return;
        }

        Add(value, line);
    }

    public void Add(double value, int line)
    {
        if (!double.IsFinite(value))
        {
            NonFinite.Add(line);
            return;
        }

        if (value < min || value > max)
        {
            OutOfRange.Add(line);
        }

        // Welford's online mean and variance: one pass, numerically stable.
        Sketch.Add(value);
        var delta = value - mean;
        mean += delta / Sketch.Count;
        m2 += delta * (value - mean);
    }

    /// <summary>Combines another part of the same column (Chan et al.'s parallel variance).</summary>
    public void Merge(NumericAccumulator other)
    {
        TypeErrors.Merge(other.TypeErrors);
        Missing.Merge(other.Missing);
        NonFinite.Merge(other.NonFinite);
        OutOfRange.Merge(other.OutOfRange);
        long a = Sketch.Count, b = other.Sketch.Count;
        if (b > 0)
        {
            var delta = other.mean - mean;
            var n = (double)(a + b);
            mean += delta * b / n;
            m2 += other.m2 + (delta * delta * a * b / n);
        }

        Sketch.Merge(other.Sketch);
    }

    public NumericStatistics? Statistics(IReadOnlyList<double>? edges = null)
    {
        if (Sketch.Count == 0)
        {
            return null;
        }

        var quantiles = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var p in new[] { 1, 5, 25, 50, 75, 95, 99 })
        {
            quantiles[$"p{p}"] = Sketch.Quantile(p / 100.0);
        }

        edges ??= DecileEdges();
        var std = Sketch.Count > 1 ? Math.Sqrt(m2 / (Sketch.Count - 1)) : 0;
        return new NumericStatistics(Sketch.Min, Sketch.Max, mean, std, quantiles, new Histogram(edges, Sketch.CountsFor(edges)));
    }

    /// <summary>Edges at the deciles, snapped to the sketch's bucket lattice so counts are exact.</summary>
    private List<double> DecileEdges()
    {
        var edges = new SortedSet<double>();
        for (var decile = 1; decile <= 9; decile++)
        {
            var edge = QuantileSketch.SnapToBoundary(Sketch.Quantile(decile / 10.0));
            if (edge < Sketch.Max)
            {
                edges.Add(edge);
            }
        }

        return [.. edges];
    }
}

/// <summary>Streams one categorical feature: missing, categories outside the allowed set, frequencies.</summary>
internal sealed class CategoricalAccumulator(FeatureSpec feature)
{
    /// <summary>Distinct values tracked per column; past it new values are counted as other (memory stays bounded).</summary>
    public const int MaxTracked = 10_000;

    /// <summary>Categories listed in the profile; the rest are summed as other.</summary>
    public const int TopK = 20;

    private readonly HashSet<string>? allowed = feature.Categories is { } categories ? new HashSet<string>(categories, StringComparer.Ordinal) : null;
    private readonly Dictionary<string, Tally> tallies = new(StringComparer.Ordinal);

    // Most categorical columns have a handful of values: the first few are kept in a small array
    // and found by comparing characters, several times faster than hashing every value.
    private readonly (string Value, Tally Tally)[] recent = new (string, Tally)[8];
    private int recentCount;
    private long untracked;
    private bool capped;

    public FeatureSpec Feature { get; } = feature;

    public long Count { get; private set; }

    public Examples Missing { get; } = new();

    public Examples Unknown { get; } = new();

    public HashSet<string> UnknownValues { get; } = new(StringComparer.Ordinal);

    /// <summary>Distinct values tracked so far.</summary>
    public int Distinct => tallies.Count;

    /// <summary>How often <paramref name="value"/> was seen (0 if never, or past the tracking cap).</summary>
    public long CountOf(string value) => tallies.TryGetValue(value, out var tally) ? tally.Count : 0;

    /// <summary>How often a value was seen, and whether it is an allowed category: one lookup per value.</summary>
    private sealed class Tally(bool allowed)
    {
        public long Count;
        public readonly bool Allowed = allowed;
    }

    public void Add(ReadOnlySpan<char> text, int line)
    {
        var value = text.Trim();
        if (value.IsEmpty)
        {
            Missing.Add(line);
            return;
        }

        Count++;
        for (var i = 0; i < recentCount; i++)
        {
            if (value.SequenceEqual(recent[i].Value))
            {
                var known = recent[i].Tally;
                known.Count++;
                if (!known.Allowed)
                {
                    Unknown.Add(line);
                }

                return;
            }
        }

        bool isAllowed;
        if (tallies.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(value, out var tally))
        {
            tally.Count++;
            isAllowed = tally.Allowed;
        }
        else
        {
            isAllowed = allowed is null || allowed.GetAlternateLookup<ReadOnlySpan<char>>().Contains(value);
            if (tallies.Count < MaxTracked)
            {
                var key = value.ToString();
                var created = new Tally(isAllowed) { Count = 1 };
                tallies[key] = created;
                if (recentCount < recent.Length)
                {
                    recent[recentCount++] = (key, created);
                }
            }
            else
            {
                untracked++;
                capped = true;
            }
        }

        if (!isAllowed)
        {
            Unknown.Add(line);
            if (UnknownValues.Count < Examples.Max)
            {
                UnknownValues.Add(value.ToString());
            }
        }
    }

    /// <summary>Combines another part of the same column read in parallel.</summary>
    public void Merge(CategoricalAccumulator other)
    {
        Count += other.Count;
        Missing.Merge(other.Missing);
        Unknown.Merge(other.Unknown);
        foreach (var value in other.UnknownValues.Where(_ => UnknownValues.Count < Examples.Max))
        {
            UnknownValues.Add(value);
        }

        untracked += other.untracked;
        capped |= other.capped;
        foreach (var (value, tally) in other.tallies)
        {
            if (tallies.TryGetValue(value, out var mine))
            {
                mine.Count += tally.Count;
            }
            else if (tallies.Count < MaxTracked)
            {
                tallies[value] = new Tally(tally.Allowed) { Count = tally.Count };
            }
            else
            {
                untracked += tally.Count;
                capped = true;
            }
        }
    }

    /// <summary>Every tracked value's count, most frequent first (values past the tracking cap are left out).</summary>
    public IReadOnlyDictionary<string, long> Counts() =>
        tallies.OrderByDescending(c => c.Value.Count).ThenBy(c => c.Key, StringComparer.Ordinal).ToDictionary(c => c.Key, c => c.Value.Count, StringComparer.Ordinal);

    public CategoricalStatistics Statistics()
    {
        var top = tallies.OrderByDescending(c => c.Value.Count).ThenBy(c => c.Key, StringComparer.Ordinal).Take(TopK).ToList();
        var other = Count - top.Sum(c => c.Value.Count);
        return new CategoricalStatistics(tallies.Count + (capped ? 1 : 0), capped, top.Select(c => new CategoryCount(c.Key, c.Value.Count)).ToList(), other);
    }
}
