using System.Reflection;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Serverless.Functions;
using Serverless.Lifecycle.Pipeline;

namespace Serverless.Hosts.Tests.Functions;

public sealed class FunctionWrapperTests
{
    private static readonly Type[] LibraryTaskClasses = typeof(TrainingPipelineOrchestrator).Assembly.GetTypes()
        .Where(t => t is { IsClass: true, IsAbstract: false } && (Derives(t, typeof(TaskOrchestrator<,>)) || Derives(t, typeof(TaskActivity<,>))))
        .ToArray();

    private static readonly MethodInfo[] FunctionMethods = typeof(PipelineFunctions).Assembly.GetTypes()
        .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
        .Where(m => m.GetCustomAttribute<FunctionAttribute>() is not null)
        .ToArray();

    public static TheoryData<string> TaskClassNames() => new(LibraryTaskClasses.Select(t => t.Name));

    private static bool Derives(Type type, Type openGeneric)
    {
        for (var current = type.BaseType; current is not null; current = current.BaseType)
        {
            if (current.IsGenericType && current.GetGenericTypeDefinition() == openGeneric)
            {
                return true;
            }
        }

        return false;
    }

    private static Type GenericBase(Type type, Type openGeneric)
    {
        var current = type.BaseType;
        while (!(current!.IsGenericType && current.GetGenericTypeDefinition() == openGeneric))
        {
            current = current.BaseType;
        }

        return current;
    }

    [Fact]
    public void Library_HasOrchestratorsAndActivities()
    {
        Assert.Contains(typeof(TrainingPipelineOrchestrator), LibraryTaskClasses);
        Assert.True(LibraryTaskClasses.Length >= 7, $"found {LibraryTaskClasses.Length} task classes");
    }

    [Theory]
    [MemberData(nameof(TaskClassNames))]
    public void EveryTaskClass_HasAFunctionsWrapperWithTheRightTriggerAndTypes(string className)
    {
        var type = LibraryTaskClasses.Single(t => t.Name == className);
        var wrapper = Assert.Single(FunctionMethods, m => m.GetCustomAttribute<FunctionAttribute>()!.Name == className);

        if (Derives(type, typeof(TaskOrchestrator<,>)))
        {
            Assert.Contains(wrapper.GetParameters(), p => p.GetCustomAttribute<OrchestrationTriggerAttribute>() is not null);
            var output = GenericBase(type, typeof(TaskOrchestrator<,>)).GetGenericArguments()[1];
            Assert.Equal(typeof(Task<>).MakeGenericType(output), wrapper.ReturnType);
        }
        else
        {
            var trigger = Assert.Single(wrapper.GetParameters(), p => p.GetCustomAttribute<ActivityTriggerAttribute>() is not null);
            var arguments = GenericBase(type, typeof(TaskActivity<,>)).GetGenericArguments();
            Assert.Equal(arguments[0], trigger.ParameterType);
            Assert.Equal(typeof(Task<>).MakeGenericType(arguments[1]), wrapper.ReturnType);
        }
    }

    [Fact]
    public void GeneratedFunctionsMetadata_ListsEveryFunctionWithItsTrigger()
    {
        var path = Serverless.Tests.RepoPaths.ProjectOutput(Path.Combine("functions", "Serverless.Functions"), "functions.metadata");
        using var metadata = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path));
        var listed = metadata.RootElement.EnumerateArray().ToDictionary(
            f => f.GetProperty("name").GetString()!,
            f => f.GetProperty("bindings").EnumerateArray().Select(b => b.GetProperty("type").GetString()!).ToList());

        Assert.Equal(FunctionMethods.Select(m => m.GetCustomAttribute<FunctionAttribute>()!.Name).Order(), listed.Keys.Order());
        Assert.Equal(["orchestrationTrigger"], listed[nameof(TrainingPipelineOrchestrator)]);
        Assert.All(PipelineTypes.Activities, a => Assert.Equal(["activityTrigger"], listed[a.Name]));
        Assert.Contains("durableClient", listed["UploadDataset"]);
    }

    [Fact]
    public void PipelineTypes_ListsEveryTaskClass_SoLaptopModeRegistersThemAll()
    {
        var listed = PipelineTypes.Orchestrators.Concat(PipelineTypes.Activities).ToHashSet();

        Assert.Equal(LibraryTaskClasses.ToHashSet(), listed);
    }
}
