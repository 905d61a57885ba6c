using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Specs;
using Serverless.Samples.Churn;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Training;

/// <summary>Sample churn data split into train / validation / test CSV files in a temporary folder.</summary>
public sealed class TrainingData : IDisposable
{
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("training-data-");

    public TrainingData(int rows = 3000, int seed = 11, Func<string, string>? transform = null)
    {
        Spec = ModelSpecValidator.Parse(File.ReadAllText(RepoPaths.SampleSpec)).Spec!;
        Train = Path.Combine(folder.FullName, "train.csv");
        Validation = Path.Combine(folder.FullName, "validation.csv");
        Test = Path.Combine(folder.FullName, "test.csv");
        var csv = ChurnDataGenerator.Generate(rows, seed);
        csv = transform is null ? csv : transform(csv);
        using var train = new StreamWriter(Train);
        using var validation = new StreamWriter(Validation);
        using var test = new StreamWriter(Test);
        DatasetSplitter.Split(new StringReader(csv), Spec.Split, train, validation, test);
    }

    public ModelSpec Spec { get; }

    public string Train { get; }

    public string Validation { get; }

    public string Test { get; }

    public void Dispose() => folder.Delete(recursive: true);
}
