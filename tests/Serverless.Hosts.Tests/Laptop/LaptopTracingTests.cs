using System.Text;
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

    /// <summary>
    /// The spans the console exporters printed. The host's console carries two streams: its own
    /// exporter's span blocks, and the trainer's output, which the host logs one line at a time as
    /// single-line log entries. The two interleave line by line (a trainer span can land in the middle
    /// of a host span), so they are separated before the blocks are read.
    /// </summary>
    private static List<Span> Spans(string log)
    {
        var hostOutput = new StringBuilder();
        var trainerOutput = new StringBuilder();
        foreach (var line in log.Split('\n'))
        {
            if (TrainerLine().Match(line) is { Success: true } trainer)
            {
                trainerOutput.AppendLine(trainer.Groups["line"].Value);
            }
            else if (!LogEntry().IsMatch(line))
            {
                hostOutput.AppendLine(line);
            }
        }

        return [.. Blocks(hostOutput.ToString()), .. Blocks(trainerOutput.ToString())];
    }

    /// <summary>One span per block of exporter output, from its <c>Activity.TraceId</c> line to the next.</summary>
    private static IEnumerable<Span> Blocks(string output)
    {
        foreach (var block in Regex.Split(output, @"(?=^Activity\.TraceId:)", RegexOptions.Multiline))
        {
            string? Field(string name) => Regex.Match(block, $@"^Activity\.{name}:\s+(?<value>[^\r\n]+)", RegexOptions.Multiline) is { Success: true } m ? m.Groups["value"].Value.Trim() : null;
            if (Field("TraceId") is { } trace && Field("SpanId") is { } span && Field("DisplayName") is { } name)
            {
                yield return new Span(trace, span, Field("ParentSpanId"), name, block);
            }
        }
    }

    /// <summary>A single-line log entry: <c>info: Category[EventId] message</c>.</summary>
    [GeneratedRegex(@"^(trce|dbug|info|warn|fail|crit): ")]
    private static partial Regex LogEntry();

    /// <summary>A line of the trainer's standard output, as the host logs it.</summary>
    [GeneratedRegex(@"^info: \S+\[\d+\] Trainer [^\s:]+: (?<line>[^\r]*)")]
    private static partial Regex TrainerLine();

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
