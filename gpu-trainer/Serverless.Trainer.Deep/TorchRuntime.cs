using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Serverless.Lifecycle.Specs;
using static TorchSharp.torch;

namespace Serverless.Trainer.Deep;

/// <summary>The device a deep job trains on, as TorchSharp sees it; and what to say when libtorch cannot load.</summary>
public sealed partial record TorchRuntime(Device Torch, bool Cuda, string Name)
{
    /// <summary>libtorch 2.10's C++ runtime needs this symbol version of libstdc++ (GCC 13).</summary>
    public const string RequiredGlibcxx = "GLIBCXX_3.4.32";

    /// <summary>
    /// CUDA's first GPU when there is one, else the CPU with one thread (so CPU training is
    /// reproducible). A libtorch that cannot load is a <see cref="TrainingFailedException"/> that
    /// says what the machine lacks and how to run the trainer where it has it.
    /// </summary>
    public static TorchRuntime Device()
    {
        bool cuda;
        try
        {
            cuda = CudaAvailable();
        }
#pragma warning disable CA1031 // Whatever the native loader throws, the job reports what libtorch needs.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            throw new TrainingFailedException(Explain(ex));
        }

        if (cuda)
        {
            return new TorchRuntime(CUDA, true, DescribeGpu());
        }

        set_num_threads(1);
        return new TorchRuntime(CPU, false, TrainedModel.CpuDevice);
    }

    private static bool CudaAvailable() => cuda.is_available();

    /// <summary>Why libtorch did not load, with the C++ runtime this machine has and the one it needs.</summary>
    public static string Explain(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var inner = error;
        while (inner.InnerException is not null)
        {
            inner = inner.InnerException;
        }

        var (path, newest) = NewestGlibcxx();
        var have = path is null ? "" : newest is null ? $" This machine's libstdc++ ({path}) names no GLIBCXX version." : $" This machine's libstdc++ ({path}) goes up to {newest}.";
        return $"The {TrainerAlgorithms.Mlp} trainer could not load libtorch (TorchSharp): {inner.Message.Split('\n')[0]} "
            + $"libtorch needs a C++ runtime with {RequiredGlibcxx} (libstdc++ from GCC 13 or newer: Debian 13, Ubuntu 24.04, or the trainer's container image).{have} "
            + "Run the deep trainer in its container image or a newer root file system through Training:DeepTrainerLauncher (README, \"Deep models\").";
    }

    /// <summary>The libstdc++ this process loaded and the newest GLIBCXX version it defines.</summary>
    public static (string? Path, string? Newest) NewestGlibcxx()
    {
        try
        {
            var path = File.ReadLines("/proc/self/maps").Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(p => p.Length >= 6 && p[5].Contains("libstdc++", StringComparison.Ordinal)).Select(p => p[5]).FirstOrDefault();
            if (path is null)
            {
                return (null, null);
            }

            var text = System.Text.Encoding.Latin1.GetString(File.ReadAllBytes(path));
            var newest = Glibcxx().Matches(text).Select(m => (m.Value, Minor: int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))).OrderBy(v => v.Minor).LastOrDefault();
            return (path, newest.Value);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return (null, null);
        }
    }

    [GeneratedRegex(@"GLIBCXX_3\.4\.(\d+)")]
    private static partial Regex Glibcxx();

    /// <summary><c>cuda: {GPU name}, CUDA {version}</c> from nvidia-smi (which CUDA containers carry); the name is "unknown GPU" without it.</summary>
    private static string DescribeGpu()
    {
        var name = NvidiaSmi("--query-gpu=name --format=csv,noheader")?.Split('\n')[0].Trim();
        var version = NvidiaSmi("") is { } banner && CudaVersion().Match(banner) is { Success: true } match ? match.Groups[1].Value : "unknown";
        return $"cuda: {(string.IsNullOrEmpty(name) ? "unknown GPU" : name)}, CUDA {version}";
    }

    [GeneratedRegex(@"CUDA Version:\s*([0-9.]+)")]
    private static partial Regex CudaVersion();

    private static string? NvidiaSmi(string arguments)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("nvidia-smi", arguments) { RedirectStandardOutput = true, UseShellExecute = false });
            if (process is null)
            {
                return null;
            }

            var output = process.StandardOutput.ReadToEnd();
            return process.WaitForExit(10_000) && process.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
