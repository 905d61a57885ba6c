using System.ComponentModel.DataAnnotations;

namespace Serverless.Laptop;

public sealed class LaptopOptions
{
    public const string SectionName = "Laptop";

    /// <summary>The Durable task hub (queues and tables on Azurite are named after it).</summary>
    [Required]
    [RegularExpression("^[A-Za-z][A-Za-z0-9]{2,44}$", ErrorMessage = "Laptop:TaskHubName must be 3 to 45 letters and digits, starting with a letter.")]
    public string TaskHubName { get; set; } = "lifecycle";

    /// <summary>
    /// A worker id that stays the same across restarts, so a restarted host takes its partitions
    /// back at once instead of waiting out the old lease.
    /// </summary>
    [Required]
    public string WorkerId { get; set; } = "laptop-" + Environment.MachineName;

    /// <summary>
    /// The largest request body the host accepts (dataset uploads stream to blob storage and are
    /// never held in memory; JSON bodies keep their own 4 MiB limit). Kestrel's default is 30 MB.
    /// </summary>
    [Range(1L << 20, 64L << 30)]
    public long MaxUploadBytes { get; set; } = 2L << 30;
}
