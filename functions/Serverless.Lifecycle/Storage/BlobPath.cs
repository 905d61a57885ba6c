namespace Serverless.Lifecycle.Storage;

/// <summary>A blob by container and name, the form in which paths travel between steps.</summary>
public sealed record BlobPath(string Container, string Name)
{
    public override string ToString() => $"{Container}/{Name}";

    public static BlobPath Parse(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var slash = path.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == path.Length - 1)
        {
            throw new FormatException($"'{path}' is not a blob path of the form container/name.");
        }

        return new BlobPath(path[..slash], path[(slash + 1)..]);
    }
}
