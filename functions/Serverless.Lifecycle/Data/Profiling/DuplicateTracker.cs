using System.Runtime.InteropServices;

namespace Serverless.Lifecycle.Data.Profiling;

/// <summary>
/// Estimates the share of rows that repeat an earlier row, in bounded memory: rows are sampled
/// by their own hash (a row and its duplicates are always sampled together), and the sampling
/// rate halves whenever the sample outgrows <see cref="Capacity"/>. Exact below that size.
/// Parts of a file read in parallel merge into one estimate.
/// </summary>
internal sealed class DuplicateTracker
{
    public const int Capacity = 1 << 18;

    private readonly Dictionary<ulong, Entry> seen = [];
    private readonly List<int> duplicateLines = [];
    private ulong modulus = 1;

    public long SampledRows { get; private set; }

    public long Duplicates { get; private set; }

    public double Ratio => SampledRows == 0 ? 0 : (double)Duplicates / SampledRows;

    /// <summary>Up to five lines that repeat an earlier row, and how many do.</summary>
    public Examples Examples
    {
        get
        {
            var examples = new Examples();
            foreach (var line in duplicateLines.Order().Take(Examples.Max))
            {
                examples.Add(line);
            }

            return examples;
        }
    }

    public void Add(ulong rowHash, int line)
    {
        if (rowHash % modulus != 0)
        {
            return;
        }

        SampledRows++;
        ref var entry = ref CollectionsMarshal.GetValueRefOrAddDefault(seen, rowHash, out var exists);
        if (exists)
        {
            entry.Count++;
            Duplicates++;
            Note(line);
            return;
        }

        entry = new Entry { Count = 1, FirstLine = line };
        if (seen.Count > Capacity)
        {
            Thin(modulus * 2);
        }
    }

    public void Merge(DuplicateTracker other)
    {
        Thin(Math.Max(modulus, other.modulus));
        foreach (var line in other.duplicateLines)
        {
            Note(line);
        }

        foreach (var (hash, theirs) in other.seen)
        {
            if (hash % modulus != 0)
            {
                continue;
            }

            ref var mine = ref CollectionsMarshal.GetValueRefOrAddDefault(seen, hash, out var exists);
            if (exists)
            {
                // The same row in both parts: the later first occurrence is a duplicate.
                Note(Math.Max(mine.FirstLine, theirs.FirstLine));
                mine.FirstLine = Math.Min(mine.FirstLine, theirs.FirstLine);
                mine.Count += theirs.Count;
            }
            else
            {
                mine = theirs;
            }
        }

        Recount();
        if (seen.Count > Capacity)
        {
            Thin(modulus * 2);
        }
    }

    private void Note(int line)
    {
        // Keep the earliest few; the list never grows past a small bound.
        if (duplicateLines.Count < Examples.Max * 4)
        {
            duplicateLines.Add(line);
        }
        else
        {
            duplicateLines.Sort();
            if (line < duplicateLines[^1])
            {
                duplicateLines[^1] = line;
            }
        }
    }

    private void Thin(ulong newModulus)
    {
        if (newModulus == modulus)
        {
            return;
        }

        modulus = newModulus;
        foreach (var key in seen.Keys.Where(k => k % modulus != 0).ToList())
        {
            seen.Remove(key);
        }

        Recount();
    }

    private void Recount()
    {
        SampledRows = seen.Values.Sum(e => (long)e.Count);
        Duplicates = seen.Values.Sum(e => (long)e.Count - 1);
    }

    /// <summary>Stored inline in the dictionary: no object per sampled row.</summary>
    private struct Entry
    {
        public int Count;
        public int FirstLine;
    }
}
