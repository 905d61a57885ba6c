using System.Globalization;
using System.Text;
using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Tests.Evaluation;

/// <summary>
/// Data where one feature decides the label: <c>signal</c> (uniform 0 to 10) gives it, <c>noise</c>
/// (uniform 0 to 10) and <c>color</c> (three values) are drawn independently of it. A shift moves a
/// numeric feature's values, as drifted production traffic would.
/// </summary>
public static class SignalData
{
    public static ModelSpec Spec(string task, string algorithm) => new()
    {
        Name = "signal-" + task,
        Task = task,
        Label = "label",
        Features =
        [
            new FeatureSpec { Name = "noise", Type = FeatureTypes.Numeric },
            new FeatureSpec { Name = "signal", Type = FeatureTypes.Numeric },
            new FeatureSpec { Name = "color", Type = FeatureTypes.Categorical, Categories = ["red", "green", "blue"] },
        ],
        Trainer = new TrainerSpec
        {
            Algorithm = algorithm,
            Seed = 7,
            Hyperparameters = algorithm == TrainerAlgorithms.Mlp ? new Dictionary<string, double> { [MlpHyperparameters.Epochs] = 30 } : new Dictionary<string, double>(),
        },
    };

    /// <summary><paramref name="rows"/> rows as CSV, with <paramref name="shift"/> added to the named numeric feature.</summary>
    public static string Csv(string task, int rows, int seed, (string Feature, double By)? shift = null)
    {
        var random = new Random(seed);
        var csv = new StringBuilder("noise,signal,color,label\n");
        for (var i = 0; i < rows; i++)
        {
            var signal = random.NextDouble() * 10;
            var noise = random.NextDouble() * 10;
            var color = new[] { "red", "green", "blue" }[random.Next(3)];
            var flip = random.NextDouble() < 0.03;
            var label = task switch
            {
                ModelTasks.Multiclass => signal < 3.3 ? "low" : signal < 6.6 ? "mid" : "high",
                ModelTasks.Regression => (3 * signal + (random.NextDouble() - 0.5)).ToString("F3", CultureInfo.InvariantCulture),
                _ => (signal > 5) ^ flip ? "1" : "0",
            };
            if (shift is { } s)
            {
                (signal, noise) = s.Feature == "signal" ? (signal + s.By, noise) : (signal, noise + s.By);
            }

            csv.Append(CultureInfo.InvariantCulture, $"{noise:F3},{signal:F3},{color},{label}\n");
        }

        return csv.ToString();
    }
}
