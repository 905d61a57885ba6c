using OpenTelemetry;
using OpenTelemetry.Metrics;
using Serverless.Lifecycle.Observability;

namespace Serverless.Lifecycle.Tests.Observability;

/// <summary>One exported point of a metric: its tags, its sum (counters) or sum and count (histograms).</summary>
internal sealed record CapturedPoint(IReadOnlyDictionary<string, object?> Tags, double Sum, long Count);

/// <summary>
/// The product's metrics as OpenTelemetry exports them, through the SDK's in-memory exporter.
/// Tests run side by side and the instruments are static, so points are picked by their model tag.
/// </summary>
internal sealed class MetricCapture : IDisposable
{
    private readonly List<MetricSnapshot> exported = [];
    private readonly MeterProvider provider;

    public MetricCapture() => provider = Sdk.CreateMeterProviderBuilder().AddMeter(TelemetryNames.Meter).AddInMemoryExporter(exported).Build()!;

    public void Dispose() => provider.Dispose();

    /// <summary>The points of <paramref name="name"/> (cumulative since the capture began) whose model tag is <paramref name="model"/>.</summary>
    public IReadOnlyList<CapturedPoint> Points(string name, string model)
    {
        lock (exported)
        {
            exported.Clear();
            provider.ForceFlush();
            var latest = exported.LastOrDefault(m => m.Name == name);
            if (latest is null)
            {
                return [];
            }

            var histogram = latest.MetricType is MetricType.Histogram or MetricType.ExponentialHistogram;
            return latest.MetricPoints
                .Select(p =>
                {
                    var tags = new Dictionary<string, object?>(StringComparer.Ordinal);
                    foreach (var tag in p.Tags)
                    {
                        tags[tag.Key] = tag.Value;
                    }

                    return new CapturedPoint(
                        tags,
                        histogram ? p.GetHistogramSum() : latest.MetricType == MetricType.LongSum ? p.GetSumLong() : p.GetSumDouble(),
                        histogram ? p.GetHistogramCount() : 0);
                })
                .Where(p => p.Tags.TryGetValue(TelemetryNames.Tags.Model, out var m) && (m as string) == model)
                .ToList();
        }
    }

    /// <summary>Asserts that every point carries exactly the dimensions the metric is declared with.</summary>
    public static void AssertDeclaredDimensions(string name, IEnumerable<CapturedPoint> points)
    {
        foreach (var point in points)
        {
            Assert.Equal(TelemetryNames.Dimensions[name].Order(StringComparer.Ordinal), point.Tags.Keys.Order(StringComparer.Ordinal));
        }
    }
}
