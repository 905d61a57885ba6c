namespace Serverless.Lifecycle.Data.Profiling;

/// <summary>
/// Estimates the share of rows that repeat an earlier row, in bounded memory: rows are sampled
/// by their own hash (a row and its duplicates are always sampled together), and the sampling
/// rate halves whenever the sample outgrows <see cref="Capacity"/>. Exact below that size.
/// </summary>
internal sealed class DuplicateTracker
{
    public const int Capacity = 1 << 18;

    private readonly Dictionary<ulong, int> seen = [];
    private ulong modulus = 1;

    public long SampledRows { get; private set; }

    public long Duplicates { get; private set; }

    public Examples Examples { get; } = new();

    public double Ratio => SampledRows == 0 ? 0 : (double)Duplicates / SampledRows;

    public void Add(ulong rowHash, int line)
    {
        if (rowHash % modulus != 0)
        {
            return;
        }

        SampledRows++;
        if (seen.TryGetValue(rowHash, out var count))
        {
            seen[rowHash] = count + 1;
            Duplicates++;
            Examples.Add(line);
            return;
        }

        seen[rowHash] = 1;
        if (seen.Count > Capacity)
        {
            modulus *= 2;
            foreach (var key in seen.Keys.Where(k => k % modulus != 0).ToList())
            {
                seen.Remove(key);
            }

            SampledRows = seen.Values.Sum(c => (long)c);
            Duplicates = seen.Values.Sum(c => (long)c - 1);
        }
    }
}
