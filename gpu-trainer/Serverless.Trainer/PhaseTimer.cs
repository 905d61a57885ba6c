using System.Diagnostics;

namespace Serverless.Trainer;

/// <summary>Seconds spent in each phase of a job, in order, for the result (and the pipeline's overhead benchmark).</summary>
public sealed class PhaseTimer
{
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly Dictionary<string, double> seconds = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, double> Seconds => seconds;

    /// <summary>The time since the previous lap.</summary>
    public TimeSpan Elapsed => clock.Elapsed;

    /// <summary>Records the time since the previous lap under <paramref name="phase"/> (adding to it if it repeats).</summary>
    public void Lap(string phase)
    {
        seconds[phase] = seconds.GetValueOrDefault(phase) + clock.Elapsed.TotalSeconds;
        clock.Restart();
    }

    public void Add(IReadOnlyDictionary<string, double> phases)
    {
        ArgumentNullException.ThrowIfNull(phases);
        foreach (var (phase, value) in phases)
        {
            seconds[phase] = seconds.GetValueOrDefault(phase) + value;
        }

        clock.Restart();
    }
}
