namespace Serverless.Lifecycle.Data.Profiling;

/// <summary>
/// A uniform sample of rows kept in bounded memory: the <see cref="Size"/> rows with the smallest
/// row hashes (a bottom-k sketch). The same file always gives the same sample, and parts read in
/// parallel merge into exactly the sample one reader would keep. Monitoring runs the two-sample
/// tests (Kolmogorov-Smirnov, Wasserstein) against it. Rows carry their numeric fields as text;
/// they are parsed only for the kept rows, when the profile is written.
/// </summary>
internal sealed class ReferenceSample
{
    public const int Size = 1000;

    // A max-heap on the hash: the root is the largest kept hash, the first to go.
    private readonly PriorityQueue<(ulong Hash, string?[] Fields), ulong> kept = new(Comparer<ulong>.Create((a, b) => b.CompareTo(a)));

    /// <summary>True when a row with this hash would be kept; cheap, so most rows are turned away before their fields are copied.</summary>
    public bool Wants(ulong hash) => kept.Count < Size || hash < kept.Peek().Hash;

    public void Add(ulong hash, string?[] fields)
    {
        if (!Wants(hash))
        {
            return;
        }

        kept.Enqueue((hash, fields), hash);
        if (kept.Count > Size)
        {
            kept.Dequeue();
        }
    }

    public void Merge(ReferenceSample other)
    {
        foreach (var (entry, _) in other.kept.UnorderedItems)
        {
            Add(entry.Hash, entry.Fields);
        }
    }

    /// <summary>The kept values of field <paramref name="index"/> that parse as finite numbers, in hash order (a random order).</summary>
    public List<double> Values(int index) =>
        [.. kept.UnorderedItems.Select(e => e.Element).OrderBy(e => e.Hash)
            .Select(e => e.Fields[index] is { } text && DecimalParser.TryParse(text.AsSpan().Trim(), out var value) && double.IsFinite(value) ? value : double.NaN)
            .Where(v => !double.IsNaN(v))];
}
