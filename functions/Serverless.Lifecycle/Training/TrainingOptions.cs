using System.ComponentModel.DataAnnotations;

namespace Serverless.Lifecycle.Training;

public sealed class TrainingOptions
{
    public const string SectionName = "Training";

    /// <summary>
    /// The trainer program for the local-process dispatcher: the path of
    /// <c>Serverless.Trainer.dll</c> (run with <c>dotnet</c>) or of its executable.
    /// </summary>
    public string? TrainerPath { get; set; }

    /// <summary>Extra environment variables passed to the trainer process, for example a thread count.</summary>
    public Dictionary<string, string> Environment { get; set; } = [];

    [Range(1, 64)]
    public int MaxConcurrentJobs { get; set; } = 1;
}
