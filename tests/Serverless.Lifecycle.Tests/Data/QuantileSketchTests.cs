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
