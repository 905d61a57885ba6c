using System.Diagnostics;

namespace Serverless.Tests;

/// <summary>The repository's setup scripts (<c>scripts/</c>) as tests call them: each prints what it provides as its last line.</summary>
public static class RepoScripts
{
    /// <summary>
    /// Runs <c>scripts/{script}</c> and returns the last line it printed; when it fails, throws with
    /// <paramref name="need"/> (what the tests needed from it) and the script's own reason.
    /// </summary>
    public static string Run(string script, string need)
    {
        var start = new ProcessStartInfo(Path.Combine(RepoPaths.Root, "scripts", script)) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0
            ? stdout.Trim().Split('\n')[^1]
            : throw new InvalidOperationException($"{need}, and scripts/{script} could not provide it (exit {process.ExitCode}): {stderr.Result.Trim()}");
    }
}
