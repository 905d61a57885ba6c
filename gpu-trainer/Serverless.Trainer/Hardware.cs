namespace Serverless.Trainer;

/// <summary>Names the hardware a job ran on, for the result and the model card.</summary>
public static class Hardware
{
    public static string Describe()
    {
        var cpu = "unknown CPU";
        if (File.Exists("/proc/cpuinfo"))
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            if (line is not null)
            {
                cpu = line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
            }
        }

        // LightGBM through ML.NET trains on the CPU; GPU model families report their device here.
        return $"CPU: {cpu} x {Environment.ProcessorCount}";
    }
}
