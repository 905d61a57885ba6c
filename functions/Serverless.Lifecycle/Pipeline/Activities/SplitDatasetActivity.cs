using System.Text;
using Microsoft.DurableTask;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Pipeline.Activities;

/// <summary>
/// Splits the dataset deterministically and persists the three partitions, so training and
/// evaluation read exactly the same rows. Re-running it writes the same bytes.
/// </summary>
public sealed class SplitDatasetActivity(LifecycleStorage storage) : TaskActivity<DatasetStepInput, DatasetSplit>
{
    private static readonly string[] Partitions = ["train", "validation", "test"];

    public override async Task<DatasetSplit> RunAsync(TaskActivityContext context, DatasetStepInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var folder = Directory.CreateTempSubdirectory("split-");
        try
        {
            var files = Partitions.Select(p => Path.Combine(folder.FullName, p + ".csv")).ToArray();
            SplitCounts counts;
            var blob = storage.Blob(BlobPath.Parse(input.Dataset.Path));
            using (var train = new StreamWriter(files[0], false, new UTF8Encoding(false)))
            using (var validation = new StreamWriter(files[1], false, new UTF8Encoding(false)))
            using (var test = new StreamWriter(files[2], false, new UTF8Encoding(false)))
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

            var paths = new string[3];
            for (var i = 0; i < Partitions.Length; i++)
            {
                var path = RunPaths.Split(input.RunId, Partitions[i]);
                await storage.Blob(path).UploadAsync(files[i], overwrite: true);
                paths[i] = path.ToString();
            }

            return new DatasetSplit(paths[0], paths[1], paths[2], counts);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
