using System.ComponentModel.DataAnnotations;

namespace Serverless.Lifecycle.Serving;

public sealed class PredictionLogOptions
{
    public const string SectionName = "PredictionLog";

    /// <summary>Records held in memory awaiting a write; past it new records are dropped and counted, and no request waits.</summary>
    [Range(1, 10_000_000)]
    public int BufferRecords { get; set; } = 100_000;

    /// <summary>Most records in one blob.</summary>
    [Range(1, 1_000_000)]
    public int MaxBatchRecords { get; set; } = 10_000;

    /// <summary>Longest a record waits in memory before its batch is written.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(5);
}
