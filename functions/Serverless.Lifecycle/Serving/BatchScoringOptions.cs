using System.ComponentModel.DataAnnotations;

namespace Serverless.Lifecycle.Serving;

public sealed class BatchScoringOptions
{
    public const string SectionName = "BatchScoring";

    /// <summary>How often laptop mode looks for new files in <c>batch-input</c> (Azure uses an Event Grid blob trigger instead).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);
}
