using System.ComponentModel.DataAnnotations;

namespace Serverless.Lifecycle.Monitoring;

public sealed class MonitoringOptions : IValidatableObject
{
    public const string SectionName = "Monitoring";

    /// <summary>Laptop mode: whether this host runs the monitor and the dataset watcher (one host per storage account should).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Only models whose names start with one of these are monitored and watched for datasets
    /// (empty: every model). Lets several hosts that share a storage account split the models.
    /// </summary>
    public IList<string> ModelPrefixes { get; } = [];

    public bool Covers(string model) => ModelPrefixes.Count == 0 || ModelPrefixes.Any(p => model.StartsWith(p, StringComparison.Ordinal));

    /// <summary>
    /// <c>Monitoring:ModelPrefixes</c> given as one value (<c>churn-,fraud-</c>, the natural way to
    /// write an app setting or environment variable): the binder ignores a plain value for a list,
    /// which would silently cover every model, so it is split on commas here.
    /// </summary>
    public static void AddPlainPrefixes(MonitoringOptions options, Microsoft.Extensions.Configuration.IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(configuration);
        if (configuration[$"{SectionName}:{nameof(ModelPrefixes)}"] is { } plain && !string.IsNullOrWhiteSpace(plain))
        {
            foreach (var prefix in plain.Split(',', StringSplitOptions.TrimEntries))
            {
                options.ModelPrefixes.Add(prefix);
            }
        }
    }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        // An empty prefix covers every model: almost certainly a mistake in a list meant to split them.
        if (ModelPrefixes.Any(string.IsNullOrWhiteSpace))
        {
            yield return new ValidationResult($"{SectionName}:{nameof(ModelPrefixes)} has an empty prefix, which would cover every model; remove it.", [nameof(ModelPrefixes)]);
        }
    }

    /// <summary>How often laptop mode runs the monitor for every model (the Functions app uses a timer trigger with the <c>MonitoringSchedule</c> app setting).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often laptop mode looks for datasets written straight to <c>datasets/{model}/</c> (Azure: an Event Grid blob trigger).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan DatasetPollInterval { get; set; } = TimeSpan.FromSeconds(5);
}
