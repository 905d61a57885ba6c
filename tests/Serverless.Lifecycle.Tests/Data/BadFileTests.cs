using System.Text;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Specs;
using Serverless.Samples.Churn;

namespace Serverless.Lifecycle.Tests.Data;

/// <summary>
/// Files that must get a clear rejection, never a crash or a hang. Runs alone: the bounded-memory
/// test reads the process's managed heap, which other tests running at the same time would inflate.
/// </summary>
[Collection(MemoryMeasurement.Name)]
public sealed class BadFileTests
{
    [Fact]
    public async Task EmptyFile_IsRejectedAsHavingNoHeader()
    {
        var report = await DatasetValidatorTests.Validate([]);

        Assert.False(report.IsValid);
        Assert.Equal(DataRules.Header, Assert.Single(report.Findings).Rule);
    }

    [Fact]
    public async Task HeaderOnly_IsRejectedForHavingNoRows()
    {
        var report = await DatasetValidatorTests.Validate(ChurnDataGenerator.Header + "\n");

        Assert.False(report.IsValid);
        var finding = Assert.Single(report.Findings);
        Assert.Equal(DataRules.RowCount, finding.Rule);
        Assert.Contains("0 data row(s)", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BinaryGarbage_IsRejectedWithAReason()
    {
        var bytes = new byte[64 * 1024];
        new Random(3).NextBytes(bytes);

        var report = await DatasetValidatorTests.Validate(bytes);

        Assert.False(report.IsValid);
        Assert.NotEmpty(report.Findings);
        Assert.All(report.Findings, f => Assert.False(string.IsNullOrWhiteSpace(f.Message)));
    }

    [Fact]
    public async Task RowsWithVaryingFieldCounts_AreReportedWithTheirLines()
    {
        var lines = ChurnDataGenerator.Generate(100, seed: 6).Split('\n').ToList();
        lines[10] += ",extra";
        lines[20] = "c-x,12,55.1";

        var report = await DatasetValidatorTests.Validate(string.Join('\n', lines));

        var finding = Assert.Single(report.Findings);
        Assert.Equal(DataRules.ColumnCount, finding.Rule);
        Assert.Equal(new[] { 11, 21 }, finding.ExampleLines);
    }

    [Fact]
    public async Task UnterminatedQuoteAtTheEnd_IsRejectedNotHung()
    {
        var csv = ChurnDataGenerator.Generate(100, seed: 6) + "c-x,12,55.1,1,\"one-year,dsl,card,0\n";

        var report = await DatasetValidatorTests.Validate(csv);

        Assert.False(report.IsValid);
        Assert.Contains(report.Findings, f => f.Rule is DataRules.ColumnCount or DataRules.Format);
    }

    [Fact]
    public async Task FileMuchLargerThanTheHeapLimit_IsStreamedInBoundedMemory()
    {
        // About 95 MB of CSV (190 MB as .NET strings) generated on the fly; the validator never
        // holds it whole: the live heap grows by far less than the file while it is read.
        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        using var stream = new GeneratedCsvStream(rows: 2_000_000);

        var report = await DataValidatorForStream(stream);

        Assert.Equal(2_000_000, report.RowCount);
        Assert.True(report.IsValid, string.Join("; ", report.Findings.Select(f => f.Message)));
        Assert.True(stream.BytesRead > 90_000_000, $"read {stream.BytesRead} bytes");
        var growth = stream.PeakManagedHeap - baseline;
        Assert.True(growth < 64 * 1024 * 1024, $"the live heap grew by {growth / (1024 * 1024)} MB while reading");
    }

    private static Task<ValidationReport> DataValidatorForStream(Stream stream) =>
        DatasetValidator.ValidateAsync(stream, Serverless.Lifecycle.Specs.ModelSpecValidator.Parse(File.ReadAllText(Serverless.Tests.RepoPaths.SampleSpec)).Spec!, null, CancellationToken.None);

    /// <summary>A read-only stream of sample CSV rows made as they are read, noting the live managed heap as it goes.</summary>
    private sealed class GeneratedCsvStream(int rows) : Stream
    {
        private readonly string[] contracts = ["month-to-month", "one-year", "two-year"];
        private byte[] pending = Encoding.UTF8.GetBytes(ChurnDataGenerator.Header + "\n");
        private int offset;
        private int row;

        public long BytesRead { get; private set; }

        public long PeakManagedHeap { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (this.offset == pending.Length)
            {
                if (row >= rows)
                {
                    return 0;
                }

                var builder = new StringBuilder();
                for (var i = 0; i < 1000 && row < rows; i++, row++)
                {
                    builder.Append(System.Globalization.CultureInfo.InvariantCulture, $"c-{row:D9},{row % 72},{20 + (row % 97)}.25,{row % 7},{contracts[row % 3]},fiber,card,{(row % 5 == 0 ? 1 : 0)}\n");
                }

                pending = Encoding.UTF8.GetBytes(builder.ToString());
                this.offset = 0;
                if (row % 100_000 == 0)
                {
                    PeakManagedHeap = Math.Max(PeakManagedHeap, GC.GetTotalMemory(forceFullCollection: true));
                }
            }

            var n = Math.Min(count, pending.Length - this.offset);
            Array.Copy(pending, this.offset, buffer, offset, n);
            this.offset += n;
            BytesRead += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryMeasurement
{
    public const string Name = "Memory measurement";
}
