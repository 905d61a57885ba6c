using System.Runtime.InteropServices;

namespace Serverless.Tests;

/// <summary>
/// Where the deep trainer (<c>Serverless.Trainer.Deep</c>) runs in tests: in a Debian 13 root file
/// system, the way its container would (its libtorch needs GLIBCXX_3.4.32, newer than Debian 12's),
/// made once per machine by <c>scripts/trixie-rootfs.sh</c> and cached outside the repository, and
/// entered through <c>scripts/rootfs-run.sh</c>, whose private mount namespace undoes every mount when
/// the trainer ends. When the root file system cannot be made, every test that needs it fails with
/// the reason: none is skipped.
/// </summary>
public static class DeepTrainerRootFs
{
    private static readonly Lazy<string> RootFs = new(Make, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string TrainerPath => RepoPaths.ProjectOutput(Path.Combine("gpu-trainer", "Serverless.Trainer.Deep"), "Serverless.Trainer.Deep.dll");

    /// <summary>The dotnet executable of the running runtime (…/dotnet/shared/Microsoft.NETCore.App/{version}/ is three levels below it).</summary>
    public static string DotnetPath => Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..", "dotnet"));

    /// <summary>The launcher words, as a user sets <c>Training:DeepTrainerLauncher</c>; makes the root file system on first use.</summary>
    public static IReadOnlyList<string> Launcher => [Path.Combine(RepoPaths.Root, "scripts", "rootfs-run.sh"), RootFs.Value, DotnetPath];

    private static string Make() =>
        RepoScripts.Run("trixie-rootfs.sh", "The deep trainer's tests run in a Debian 13 root file system");
}
