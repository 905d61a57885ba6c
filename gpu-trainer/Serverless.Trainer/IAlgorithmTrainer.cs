using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Training;

namespace Serverless.Trainer;

/// <summary>
/// What training produced, whatever the algorithm: the ONNX bytes (named outputs as
/// <see cref="Serverless.Lifecycle.Scoring.OnnxModel.Outputs"/> says, the task and classes in its
/// metadata), the validation metrics, the parity check, seconds per phase, the device and the fit's
/// throughput.
/// </summary>
public record TrainedModel(
    byte[] Onnx,
    IReadOnlyDictionary<string, double> ValidationMetrics,
    OnnxParity Parity,
    IReadOnlyDictionary<string, double> Timings,
    string Device,
    double TrainingRowsPerSecond)
{
    public const string CpuDevice = "cpu";
}

/// <summary>A family of algorithms the trainer program can train (the ML.NET ones, or the deep model).</summary>
public interface IAlgorithmTrainer
{
    /// <summary>The <see cref="TrainerAlgorithms"/> this trainer trains.</summary>
    IReadOnlySet<string> Algorithms { get; }

    /// <summary>
    /// Trains <paramref name="spec"/>'s algorithm on the training split, checks it on the validation
    /// split, and exports it; reports each epoch to <paramref name="progress"/> when it trains in epochs.
    /// Input that cannot train is a <see cref="TrainingFailedException"/>. <paramref name="checkedLabels"/>:
    /// the training split's labels as the pipeline counted them, already checked (a trainer that needs
    /// to read them only to check them need not); null when the trainer must check them itself.
    /// </summary>
    TrainedModel Train(ModelSpec spec, string trainCsv, string validationCsv, LabelFacts? checkedLabels, IProgress<TrainingProgress>? progress);
}
