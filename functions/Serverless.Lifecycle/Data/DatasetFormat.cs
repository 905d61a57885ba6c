namespace Serverless.Lifecycle.Data;

/// <summary>The file formats a dataset may have; the blob name's extension records which.</summary>
public enum DatasetFormat
{
    Csv,
    Parquet,
}

public static class DatasetFormats
{
    public static string Extension(DatasetFormat format) => format == DatasetFormat.Parquet ? ".parquet" : ".csv";

    public static DatasetFormat FromPath(string path) =>
        path.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase) ? DatasetFormat.Parquet : DatasetFormat.Csv;

    /// <summary>The format an upload declares by content type: Parquet types, else CSV; null when the type is neither.</summary>
    public static DatasetFormat? FromContentType(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType))
        {
            return DatasetFormat.Csv;
        }

        var type = contentType.Split(';')[0].Trim().ToLowerInvariant();
        return type switch
        {
            "application/vnd.apache.parquet" or "application/x-parquet" or "application/parquet" => DatasetFormat.Parquet,
            "text/csv" or "text/plain" or "application/csv" or "application/octet-stream" => DatasetFormat.Csv,
            _ => null,
        };
    }
}
