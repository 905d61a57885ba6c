using System.Text.RegularExpressions;
using System.Xml.Linq;
using Serverless.Tests;

namespace Serverless.Hosts.Tests.Infra;

/// <summary>
/// The trainer images cannot be built here (no Docker engine, and the GPU image's CUDA libtorch
/// package is not served to this machine), so their Dockerfiles are checked statically: the CPU
/// image (Dockerfile) on the .NET runtime with no CUDA, the GPU image (Dockerfile.gpu) on a CUDA
/// runtime built with the cuda TorchBackend; both multi-stage, non-root, running the program they
/// publish, with every project that program builds from copied into the build stage.
/// </summary>
public sealed partial class TrainerDockerfileTests
{
    private static readonly string TrainerFolder = Path.Combine(RepoPaths.Root, "gpu-trainer");

    [GeneratedRegex(@"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", RegexOptions.Multiline | RegexOptions.IgnoreCase)]
    private static partial Regex From();

    [GeneratedRegex(@"^COPY\s+(?!--from)(.+?)\s+\S+\s*$", RegexOptions.Multiline)]
    private static partial Regex Copy();

    [GeneratedRegex(@"^RUN\s+dotnet\s+publish\s+(?<project>\S+\.csproj)(?<options>.*)$", RegexOptions.Multiline)]
    private static partial Regex Publish();

    [GeneratedRegex(@"^ENTRYPOINT\s+\[""dotnet"",\s*""(?<dll>[^""]+)""\]", RegexOptions.Multiline)]
    private static partial Regex Entrypoint();

    private static string Read(string dockerfile) => File.ReadAllText(Path.Combine(TrainerFolder, dockerfile));

    private static List<string> Stages(string text) => [.. From().Matches(text).Select(m => m.Groups[1].Value)];

    private static Match PublishLine(string text) => Assert.Single(Publish().Matches(text));

    public static TheoryData<string> Dockerfiles() => ["Dockerfile", "Dockerfile.gpu"];

    [Fact]
    public void CpuDockerfile_RunsTheTrainerOnTheDotnetRuntime_WithNoCudaLayer()
    {
        var text = Read("Dockerfile");
        var stages = Stages(text);

        Assert.DoesNotContain(stages, s => s.StartsWith("nvidia/", StringComparison.Ordinal));
        Assert.StartsWith("mcr.microsoft.com/dotnet/runtime:", stages[^1], StringComparison.Ordinal);
        Assert.Equal("gpu-trainer/Serverless.Trainer/Serverless.Trainer.csproj", PublishLine(text).Groups["project"].Value);
        Assert.Equal("Serverless.Trainer.dll", Entrypoint().Match(text).Groups["dll"].Value);
        // LightGBM loads OpenMP at run time.
        Assert.Matches(@"apt-get install[^\n]*\blibgomp1\b", text);
    }

    [Fact]
    public void GpuDockerfile_RunsTheDeepTrainerOnACudaRuntime_BuiltWithTheCudaBackend()
    {
        var text = Read("Dockerfile.gpu");
        var stages = Stages(text);

        Assert.StartsWith("nvidia/cuda:", stages[^1], StringComparison.Ordinal);
        Assert.Contains("runtime", stages[^1], StringComparison.Ordinal);
        var publish = PublishLine(text);
        Assert.Equal("gpu-trainer/Serverless.Trainer.Deep/Serverless.Trainer.Deep.csproj", publish.Groups["project"].Value);
        Assert.Matches(@"(^|\s)-p:TorchBackend=cuda(\s|$)", publish.Groups["options"].Value);
        Assert.Equal("Serverless.Trainer.Deep.dll", Entrypoint().Match(text).Groups["dll"].Value);
    }

    [Fact]
    public void DeepTrainerProject_TakesTorchSharpCuda_WhenTorchBackendIsCuda()
    {
        var project = XDocument.Load(Path.Combine(TrainerFolder, "Serverless.Trainer.Deep", "Serverless.Trainer.Deep.csproj"));

        // The property value Dockerfile.gpu passes must be one the project acts on.
        var cuda = Assert.Single(project.Descendants("ItemGroup"), g => (string?)g.Attribute("Condition") == "'$(TorchBackend)' == 'cuda'");
        Assert.Contains(cuda.Elements("PackageReference"), r => (string?)r.Attribute("Include") == "TorchSharp-cuda-linux");
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Dockerfile_IsMultiStage_RunsAsNonRoot_TheProgramItPublishes(string dockerfile)
    {
        var text = Read(dockerfile);
        var project = Path.Combine(RepoPaths.Root, PublishLine(text).Groups["project"].Value);

        Assert.True(Stages(text).Count >= 2, "the image should build in one stage and run in another");
        Assert.Matches(@"(?m)^USER\s+(?!root\b|0\b)\S+", text);
        var assembly = (string?)XDocument.Load(project).Descendants("AssemblyName").SingleOrDefault() ?? Path.GetFileNameWithoutExtension(project);
        Assert.Equal(assembly + ".dll", Entrypoint().Match(text).Groups["dll"].Value);
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Dockerfile_CopiesEveryProjectItsProgramBuildsFromAndTheBuildSettings(string dockerfile)
    {
        var text = Read(dockerfile);
        var copied = Copy().Matches(text).SelectMany(m => m.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Select(p => p.TrimEnd('/')).ToHashSet();

        var projects = ProjectClosure(Path.Combine(RepoPaths.Root, PublishLine(text).Groups["project"].Value)).ToList();
        Assert.Contains(projects, p => p.EndsWith("Serverless.Lifecycle.csproj", StringComparison.Ordinal));
        foreach (var project in projects)
        {
            var folder = Path.GetRelativePath(RepoPaths.Root, Path.GetDirectoryName(project)!).Replace('\\', '/');
            Assert.Contains(folder, copied);
        }

        Assert.Superset(new HashSet<string> { "global.json", "Directory.Build.props", "Directory.Packages.props", ".editorconfig" }, copied);
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
