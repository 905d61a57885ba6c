using System.Text.RegularExpressions;
using Serverless.Lifecycle.Observability;
using Serverless.Tests;

namespace Serverless.Hosts.Tests.Laptop;

/// <summary>
/// One trace from the upload that starts a run, through the orchestration and its activities, to
/// the trainer process: read from the console exporter of the host and of the trainer.
/// </summary>
public sealed partial class LaptopTracingTests(TracingLaptopHostProcess host) : IClassFixture<TracingLaptopHostProcess>
{
    private sealed record Span(string TraceId, string SpanId, string? ParentSpanId, string Name, string Text);

    /// <summary>The spans the console exporter printed, one block per span (lines may carry a logger prefix).</summary>
    private static List<Span> Spans(string log)
    {
        var spans = new List<Span>();
        var blocks = Regex.Split(log, @"(?=^.*Activity\.TraceId:)", RegexOptions.Multiline);
        foreach (var block in blocks)
        {
            string? Field(string name) => Regex.Match(block, $@"Activity\.{name}:\s+(?<value>[^\r\n]+)") is { Success: true } m ? m.Groups["value"].Value.Trim() : null;
            if (Field("TraceId") is { } trace && Field("SpanId") is { } span && Field("DisplayName") is { } name)
            {
                spans.Add(new Span(trace, span, Field("ParentSpanId"), name, block));
            }
        }

        return spans;
    }

    [Fact]
    public async Task AnUpload_TheOrchestration_ItsActivities_AndTheTrainer_ShareOneTrace()
    {
        var name = Azurite.UniqueModelName("traced");
        await host.RegisterSampleAsync(name);
        var statusUrl = await host.UploadAsync(name);
        var run = await host.WaitForRunAsync(statusUrl, TimeSpan.FromMinutes(4));
        Assert.Equal("succeeded", (string?)run["status"]);
        var runId = (string)run["runId"]!;

        // The trainer's spans are flushed when it exits; the host logs its output line by line.
        var spans = await Eventually.WaitAsync(
            () => Task.FromResult(Spans(host.Log)),
            found => found.Exists(s => s.Name == TelemetryNames.Spans.Train && s.Text.Contains(runId, StringComparison.Ordinal)));

        var start = Assert.Single(spans, s => s.Name == TelemetryNames.Spans.StartTrainingJob && s.Text.Contains(runId, StringComparison.Ordinal));
        var train = Assert.Single(spans, s => s.Name == TelemetryNames.Spans.Train && s.Text.Contains(runId, StringComparison.Ordinal));
        Assert.Equal((start.TraceId, start.SpanId), (train.TraceId, train.ParentSpanId));

        var trace = spans.Where(s => s.TraceId == start.TraceId).Select(s => s.Name).ToList();
        Assert.Contains(trace, n => n.StartsWith("POST ", StringComparison.Ordinal) && n.Contains("datasets", StringComparison.Ordinal));
        Assert.Contains(trace, n => n.Contains("TrainingPipelineOrchestrator", StringComparison.Ordinal));
        Assert.Contains(trace, n => n.Contains("StartTrainingJobActivity", StringComparison.Ordinal));
    }
}
