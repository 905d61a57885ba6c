using System.Text;
using Microsoft.DurableTask;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Pipeline.Activities;

/// <summary>
/// Splits the dataset deterministically and persists the three partitions, so training and
/// evaluation read exactly the same rows. Re-running it writes the same bytes. The validate step
/// splits in its own pass now (<see cref="ValidationReport.Split"/>); this activity serves runs whose
/// validation did not (one validated by an earlier version of the product when it was upgraded).
/// </summary>
public sealed class SplitDatasetActivity(LifecycleStorage storage) : TaskActivity<DatasetStepInput, DatasetSplit>
{
    internal static readonly string[] Partitions = ["train", "validation", "test"];

    /// <summary>A partition file being written: UTF-8 without a byte order mark.</summary>
    internal static StreamWriter Writer(string file) => new(file, false, new UTF8Encoding(false));

    /// <summary>The blob paths of a run's partitions, with their counts.</summary>
    internal static DatasetSplit Paths(string runId, SplitCounts counts) =>
        new(RunPaths.Split(runId, Partitions[0]).ToString(), RunPaths.Split(runId, Partitions[1]).ToString(), RunPaths.Split(runId, Partitions[2]).ToString(), counts);

    /// <summary>Uploads the partition files (train, validation, test) to the run's split folder, all three at once.</summary>
    internal static Task UploadAsync(LifecycleStorage storage, string runId, string[] files) =>
        Task.WhenAll(Partitions.Select((partition, i) => storage.Blob(RunPaths.Split(runId, partition)).UploadAsync(files[i], overwrite: true)));

    public override async Task<DatasetSplit> RunAsync(TaskActivityContext context, DatasetStepInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var folder = Directory.CreateTempSubdirectory("split-");
        try
        {
            var files = Partitions.Select(p => Path.Combine(folder.FullName, p + ".csv")).ToArray();
            SplitCounts counts;
            var blob = storage.Blob(BlobPath.Parse(input.Dataset.Path));
            using (var train = Writer(files[0]))
            using (var validation = Writer(files[1]))
            using (var test = Writer(files[2]))
            {
                if (DatasetFormats.FromPath(input.Dataset.Path) == DatasetFormat.Parquet)
                {
                    var local = Path.Combine(folder.FullName, "dataset.parquet");
                    await blob.DownloadToAsync(local);
                    await using var stream = File.OpenRead(local);
                    await using var parquet = await Parquet.ParquetReader.CreateAsync(stream);
                    counts = await DatasetSplitter.SplitAsync(
                        ParquetRows.ReadHeader(parquet), ParquetRows.ReadRowsAsync(parquet, CancellationToken.None), input.Spec.Split, train, validation, test, CancellationToken.None);
                }
                else
                {
                    await using var source = await blob.OpenReadAsync();
                    using var reader = new StreamReader(source, Encoding.UTF8);
                    counts = DatasetSplitter.Split(reader, input.Spec.Split, train, validation, test);
                }
            }

            await UploadAsync(storage, input.RunId, files);
            return Paths(input.RunId, counts);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
