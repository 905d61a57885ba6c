using System.Text;
using System.Text.Json;
using Serverless.Lifecycle.Serving;

namespace Serverless.Lifecycle.Tests.Serving;

/// <summary>The log's JSON lines read back: across buffer boundaries, long lines, bad lines, many sources at once.</summary>
public sealed class PredictionLogReaderTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);

    private static PredictionRecord Record(string requestId, int row, IReadOnlyDictionary<string, object?>? inputs = null) => new(
        requestId, row, T0.AddSeconds(row), "m", 2, "champion", "predict",
        inputs ?? new Dictionary<string, object?> { ["tenure"] = 2.5f, ["charges"] = null, ["contract"] = "one-year" },
        "1", 0.75, null, 1.5);

    private static string Lines(IEnumerable<PredictionRecord> records) =>
        string.Concat(records.Select(r => JsonSerializer.Serialize(r, PredictionLog.JsonOptions) + "\n"));

    private static async Task<List<PredictionRecord>> ParseAsync(string text)
    {
        var records = new List<PredictionRecord>();
        await foreach (var record in PredictionLogReader.ParseAsync(new MemoryStream(Encoding.UTF8.GetBytes(text)), "test.jsonl"))
        {
            records.Add(record);
        }

        return records;
    }

    [Fact]
    public async Task ManyRecords_SpanningBufferBoundaries_AllComeBackWithTheirInputs()
    {
        // About 200 bytes a line: 2,000 lines cross the 64 KB buffer several times, mid-line.
        var written = Enumerable.Range(0, 2000).Select(i => Record($"req-{i}", i)).ToList();

        var read = await ParseAsync(Lines(written));

        Assert.Equal(written.Select(r => (r.RequestId, r.Row)), read.Select(r => (r.RequestId, r.Row)));
        Assert.All(read, r => Assert.Equal(2.5, Assert.IsType<double>(r.Inputs["tenure"])));
        Assert.All(read, r => Assert.Null(r.Inputs["charges"]));
        Assert.All(read, r => Assert.Equal("one-year", r.Inputs["contract"]));
    }

    [Fact]
    public async Task ALineLongerThanTheBuffer_AndALastLineWithoutNewline_AreRead()
    {
        var wide = Enumerable.Range(0, 5000).ToDictionary(i => $"feature_with_a_long_name_{i}", i => (object?)(double)i);
        var text = Lines([Record("wide", 0, wide)]) + JsonSerializer.Serialize(Record("last", 1), PredictionLog.JsonOptions);

        var read = await ParseAsync(text);

        Assert.Equal(["wide", "last"], read.Select(r => r.RequestId));
        Assert.Equal(5000, read[0].Inputs.Count);
        Assert.Equal(4999.0, read[0].Inputs["feature_with_a_long_name_4999"]);
    }

    [Fact]
    public async Task RecordsWithOtherFeatureNames_DoNotReuseTheNamesOfTheRecordBefore()
    {
        // The reader reuses the previous record's names when they match; these do not.
        var first = Record("a", 0, new Dictionary<string, object?> { ["x"] = 1.0, ["y"] = 2.0 });
        var second = Record("b", 0, new Dictionary<string, object?> { ["x"] = 3.0, ["z"] = 4.0, ["w"] = "k" });
        var escaped = Record("c", 0, new Dictionary<string, object?> { ["z\"q"] = 5.0 });

        var read = await ParseAsync(Lines([first, second, escaped]));

        Assert.Equal(["x", "y"], read[0].Inputs.Keys);
        Assert.Equal(["x", "z", "w"], read[1].Inputs.Keys);
        Assert.Equal(4.0, read[1].Inputs["z"]);
        Assert.Equal(5.0, read[2].Inputs["z\"q"]);
    }

    [Fact]
    public async Task BlankLinesAndCrlfAreAccepted_AndABadLineNamesTheSourceAndLine()
    {
        var good = Lines([Record("a", 0)]);

        Assert.Equal(3, (await ParseAsync(good + "\n\r\n" + good + good.Replace("\n", "\r\n", StringComparison.Ordinal))).Count);
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => ParseAsync(good + "{\"requestId\": \n" + good));
        Assert.Contains("Line 2", error.Message, StringComparison.Ordinal);
        Assert.Contains("test.jsonl", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ParseAll_ReadsEverySourceOnce_AndAnErrorInOneEndsTheRead()
    {
        var sources = Enumerable.Range(0, 40).ToDictionary(i => $"blob-{i}", i => Lines(Enumerable.Range(0, 700).Select(r => Record($"s{i}", r))));
        Task<Stream> Open(string name, CancellationToken _) => Task.FromResult<Stream>(new MemoryStream(Encoding.UTF8.GetBytes(sources[name])));

        var read = new List<PredictionRecord>();
        await foreach (var record in PredictionLogReader.ParseAllAsync(sources.Keys.ToAsyncEnumerable(), Open))
        {
            read.Add(record);
        }

        Assert.Equal(40 * 700, read.Count);
        Assert.Equal(40 * 700, read.Select(r => (r.RequestId, r.Row)).Distinct().Count());

        sources["blob-17"] += "not json\n";
        var error = await Assert.ThrowsAsync<InvalidDataException>(async () =>
        {
            await foreach (var _ in PredictionLogReader.ParseAllAsync(sources.Keys.ToAsyncEnumerable(), Open))
            {
            }
        });
        Assert.Contains("blob-17", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithATally_BadLinesInAnySourceAreSkippedAndCounted_AndTheRestIsRead()
    {
        var sources = Enumerable.Range(0, 20).ToDictionary(i => $"blob-{i}", i => Lines(Enumerable.Range(0, 300).Select(r => Record($"s{i}", r))));
        sources["blob-3"] += "not json\n" + Lines([Record("after", 0)]);
        sources["blob-11"] = "{\"requestId\": \n" + sources["blob-11"];

        // Valid JSON that is still not a record: null, an empty object, a record without its model, a null request id.
        var record = JsonSerializer.Serialize(Record("x", 0), PredictionLog.JsonOptions);
        sources["blob-12"] += "null\n{}\n" + record.Replace("\"model\":\"m\",", "", StringComparison.Ordinal) + "\n" + record.Replace("\"requestId\":\"x\"", "\"requestId\":null", StringComparison.Ordinal) + "\n";
        Task<Stream> Open(string name, CancellationToken _) => Task.FromResult<Stream>(new MemoryStream(Encoding.UTF8.GetBytes(sources[name])));
        var unreadable = new UnreadableLines();

        var read = await PredictionLogReader.ParseAllAsync(sources.Keys.ToAsyncEnumerable(), Open, unreadable).ToListAsync();

        Assert.Equal(20 * 300 + 1, read.Count);
        Assert.Contains(read, r => r.RequestId == "after");
        Assert.Equal(6, unreadable.Count);
        Assert.Matches(@"^line (301 of the prediction log blob-3|1 of the prediction log blob-11|30[1-4] of the prediction log blob-12) is not a prediction record", unreadable.First);
        Assert.StartsWith("6 line(s) of the prediction log could not be read and were left out; the first: line ", unreadable.Summary, StringComparison.Ordinal);
        Assert.Equal("", new UnreadableLines().Summary);
    }

    [Fact]
    public async Task ParseAll_StoppedEarly_StopsItsReaders()
    {
        var opened = 0;
        var sources = Enumerable.Range(0, 1000).Select(i => $"blob-{i}").ToList();
        Task<Stream> Open(string name, CancellationToken _)
        {
            Interlocked.Increment(ref opened);
            return Task.FromResult<Stream>(new MemoryStream(Encoding.UTF8.GetBytes(Lines(Enumerable.Range(0, 2000).Select(r => Record(name, r))))));
        }

        await foreach (var _ in PredictionLogReader.ParseAllAsync(sources.ToAsyncEnumerable(), Open))
        {
            break;
        }

        // Disposing the enumeration cancels and awaits the readers: they did not go on through every source.
        Assert.True(opened < sources.Count, $"opened {opened} of {sources.Count} sources after one record was read");
    }
}
