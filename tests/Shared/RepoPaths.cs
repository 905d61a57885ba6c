namespace Serverless.Tests;

/// <summary>Locations in the repository, found from the test assembly's folder.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string SampleSpec => Path.Combine(Root, "samples", "churn", "churn.spec.json");

    /// <summary>Debug or Release: the configuration the tests were built with, used for sibling projects' outputs.</summary>
    public static string Configuration { get; } =
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    public static string ProjectOutput(string projectFolder, string assembly) =>
        Path.Combine(Root, projectFolder, "bin", Configuration, "net10.0", assembly);

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Serverless.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Serverless.sln not found above " + AppContext.BaseDirectory);
    }
}
