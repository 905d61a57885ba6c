namespace Serverless.Lifecycle.Training;

/// <summary>
/// How far a training job has come, rewritten by the trainer to
/// <c>runs/{runId}/jobs/{jobId}/progress.json</c> after each epoch (at most about once a second,
/// and always after the last), and shown by <c>GET /runs/{runId}</c>. Only trainers that train
/// in epochs (<c>mlp</c>) write it.
/// </summary>
/// <param name="Epoch">The last finished epoch, from 1.</param>
/// <param name="MaxEpochs">The spec's epochs: the most the job will run.</param>
/// <param name="BestEpoch">The epoch with the lowest validation loss so far: the weights the model keeps.</param>
/// <param name="Finished">True once training has stopped (all epochs, or early stopping).</param>
public sealed record TrainingProgress(
    string JobId,
    string Algorithm,
    string Device,
    int Epoch,
    int MaxEpochs,
    int BestEpoch,
    bool Finished,
    double RowsPerSecond,
    IReadOnlyList<EpochProgress> Epochs,
    DateTimeOffset UpdatedAt);

/// <summary>One epoch: the mean training loss, the validation loss and the validation metric (accuracy, or RMSE for regression).</summary>
public sealed record EpochProgress(int Epoch, double TrainLoss, double ValidationLoss, string Metric, double ValidationMetric);
