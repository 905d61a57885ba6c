using NetArchTest.Rules;
using Serverless.Lifecycle.Hosting;

namespace Serverless.Lifecycle.Tests;

/// <summary>
/// The library's stages depend one way: each on the ones below it, never on one above. The lists
/// are the design (docs/design.md draws them); a reference that breaks the order fails here,
/// naming the types.
/// </summary>
public sealed class ArchitectureTests
{
    /// <summary>The stages from the bottom up; stages on one line may use each other.</summary>
    private static readonly string[][] Layers =
    [
        ["Specs", "Storage", "Observability", "Statistics"],
        ["Scoring", "Data"],
        ["Training"],
        ["Evaluation"],
        ["Registry"],
        ["Serving"],
        ["Access"],
        ["Monitoring"],
        ["Rollouts"],
        ["Pipeline"],
        ["Hosting"],
    ];

    private static readonly System.Reflection.Assembly Library = typeof(LifecycleServiceCollectionExtensions).Assembly;

    public static TheoryData<string> Stages() => [.. Layers.SelectMany(l => l)];

    [Theory]
    [MemberData(nameof(Stages))]
    public void Stage_DependsOnlyOnTheStagesBelowIt(string stage)
    {
        var level = Array.FindIndex(Layers, l => l.Contains(stage));
        var above = Layers.Skip(level + 1).SelectMany(l => l).Select(s => $"Serverless.Lifecycle.{s}").Append("Serverless.Lifecycle.Api").ToArray();

        var result = Types.InAssembly(Library).That().ResideInNamespace($"Serverless.Lifecycle.{stage}").ShouldNot().HaveDependencyOnAny(above).GetResult();

        Assert.True(result.IsSuccessful, $"{stage} uses a stage above it: {string.Join(", ", result.FailingTypeNames ?? [])}");
    }

    [Fact]
    public void EveryNamespaceOfTheLibrary_IsAStageInTheOrder()
    {
        var stages = Layers.SelectMany(l => l).ToHashSet(StringComparer.Ordinal);

        var unplaced = Library.GetTypes()
            .Select(t => t.Namespace)
            .OfType<string>()
            .Where(ns => ns.StartsWith("Serverless.Lifecycle", StringComparison.Ordinal) && !ns.StartsWith("Serverless.Lifecycle.Tests", StringComparison.Ordinal))
            .Select(ns => ns.Split('.').ElementAtOrDefault(2))
            .Where(stage => stage is null || !stages.Contains(stage))
            .Distinct()
            .ToList();

        Assert.Empty(unplaced);
    }

    [Fact]
    public void Library_CarriesNoAspNetCore_TheApiIsItsOwnAssemblyAbove()
    {
        var web = Library.GetReferencedAssemblies().Select(a => a.Name!).Where(n => n.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal)).ToList();

        Assert.Empty(web);
        Assert.Contains(typeof(global::Serverless.Lifecycle.Api.RunsApi).Assembly.GetReferencedAssemblies(), a => a.Name == Library.GetName().Name);
    }
}
