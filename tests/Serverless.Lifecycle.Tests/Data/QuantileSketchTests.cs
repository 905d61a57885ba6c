using Serverless.Lifecycle.Data.Profiling;

namespace Serverless.Lifecycle.Tests.Data;

public sealed class QuantileSketchTests
{
    private static readonly double[] Values = Enumerable.Range(0, 5001).Select(i => (i - 2500) * 0.37 + (i % 7 == 0 ? 0 : 0.001 * i)).ToArray();

    [Fact]
    public void Quantile_MixedSignsAndZero_IsWithinTheRelativeAccuracy()
    {
        var sketch = new QuantileSketch();
        foreach (var value in Values.Append(0).Append(0))
        {
            sketch.Add(value);
        }

        var sorted = Values.Append(0).Append(0).Order().ToArray();
        foreach (var q in new[] { 0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1.0 })
        {
            var exact = sorted[(int)Math.Floor(q * (sorted.Length - 1))];
            Assert.True(Math.Abs(sketch.Quantile(q) - exact) <= (Math.Abs(exact) * QuantileSketch.RelativeAccuracy * 1.0001) + 1e-9, $"q={q}: {sketch.Quantile(q)} vs {exact}");
        }
    }

    [Fact]
    public void CountsFor_EdgesOnTheLattice_AreExact()
    {
        var sketch = new QuantileSketch();
        foreach (var value in Values)
        {
            sketch.Add(value);
        }

        double[] edges = [QuantileSketch.SnapToBoundary(-500), QuantileSketch.SnapToBoundary(-3), QuantileSketch.SnapToBoundary(0), QuantileSketch.SnapToBoundary(42)];

        var counts = sketch.CountsFor(edges);

        var expected = new long[edges.Length + 1];
        foreach (var value in Values)
        {
            expected[edges.Count(e => value > e)]++;
        }

        Assert.Equal(expected, counts);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void SnapToBoundary_AnyMagnitude_IsTheUpperBoundOfItsBucket(int seed)
    {
        // The fast bucket index (exponent + mantissa table, then boundary comparisons) must agree
        // with the lattice's definition everywhere: γ^(i-1) < m <= γ^i, also on the boundaries.
        var gamma = (1 + QuantileSketch.RelativeAccuracy) / (1 - QuantileSketch.RelativeAccuracy);
        var random = new Random(seed);
        for (var k = 0; k < 20_000; k++)
        {
            var magnitude = Math.Pow(10, (random.NextDouble() * 40) - 11);
            var upper = QuantileSketch.SnapToBoundary(magnitude);
            Assert.True(upper >= magnitude && upper / gamma < magnitude * (1 + 1e-12), $"{magnitude:R} snapped to {upper:R}");

            // A boundary is its own bucket's upper bound; anything just above it is in the next bucket.
            Assert.Equal(upper, QuantileSketch.SnapToBoundary(upper));
            Assert.True(QuantileSketch.SnapToBoundary(Math.BitIncrement(upper)) > upper);
            Assert.Equal(-QuantileSketch.SnapToBoundary(magnitude) / gamma, QuantileSketch.SnapToBoundary(-magnitude), 1e-9 * upper);
        }
    }

    [Fact]
    public void Add_NonFinite_IsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new QuantileSketch().Add(double.NaN));
    }

    [Fact]
    public void Quantile_Empty_IsNaN()
    {
        Assert.True(double.IsNaN(new QuantileSketch().Quantile(0.5)));
    }
}
