using System.Text.RegularExpressions;
using System.Xml.Linq;
using Serverless.Tests;

namespace Serverless.Hosts.Tests.Infra;

/// <summary>
/// The trainer image cannot be built here (no Docker engine), so its Dockerfile is checked
/// statically: multi-stage, CUDA runtime base, non-root, the trainer program as entry point, and
/// every project the trainer builds from copied into the build stage.
/// </summary>
public sealed partial class TrainerDockerfileTests
{
    private static readonly string Dockerfile = File.ReadAllText(Path.Combine(RepoPaths.Root, "gpu-trainer", "Dockerfile"));

    [GeneratedRegex(@"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", RegexOptions.Multiline | RegexOptions.IgnoreCase)]
    private static partial Regex From();

    [GeneratedRegex(@"^COPY\s+(?!--from)(.+?)\s+\S+\s*$", RegexOptions.Multiline)]
    private static partial Regex Copy();

    [Fact]
    public void Dockerfile_IsMultiStageAndRunsTheTrainerOnCudaAsNonRoot()
    {
        var stages = From().Matches(Dockerfile).Select(m => m.Groups[1].Value).ToList();

        Assert.True(stages.Count >= 2, "the image should build in one stage and run in another");
        Assert.StartsWith("nvidia/cuda:", stages[^1], StringComparison.Ordinal);
        Assert.Contains("runtime", stages[^1], StringComparison.Ordinal);
        Assert.Matches(@"(?m)^USER\s+(?!root\b|0\b)\S+", Dockerfile);
        Assert.Matches(@"(?m)^ENTRYPOINT\s+\[""dotnet"",\s*""Serverless\.Trainer\.dll""\]", Dockerfile);
    }

    [Fact]
    public void Dockerfile_CopiesEveryProjectTheTrainerBuildsFromAndTheBuildSettings()
    {
        var copied = Copy().Matches(Dockerfile).SelectMany(m => m.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Select(p => p.TrimEnd('/')).ToHashSet();

        foreach (var project in ProjectClosure(Path.Combine(RepoPaths.Root, "gpu-trainer", "Serverless.Trainer", "Serverless.Trainer.csproj")))
        {
            var folder = Path.GetRelativePath(RepoPaths.Root, Path.GetDirectoryName(project)!).Replace('\\', '/');
            Assert.Contains(folder, copied);
        }

        Assert.Contains("Directory.Build.props", copied);
        Assert.Contains("Directory.Packages.props", copied);
        Assert.Contains("global.json", copied);
    }

    /// <summary>The project and every project it references, transitively.</summary>
    private static IEnumerable<string> ProjectClosure(string project)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([Path.GetFullPath(project)]);
        while (pending.TryPop(out var next))
        {
            if (!seen.Add(next))
            {
                continue;
            }

            foreach (var reference in XDocument.Load(next).Descendants("ProjectReference"))
            {
                pending.Push(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(next)!, reference.Attribute("Include")!.Value.Replace('\\', '/'))));
            }
        }

        return seen;
    }
}
