using System.Globalization;

namespace Serverless.Lifecycle.Storage;

/// <summary>Table row keys shared by the tables that list their rows newest first.</summary>
public static class RowKeys
{
    /// <summary>
    /// A key that sorts later times first (ticks counted down from the maximum, zero-padded), so a
    /// partition's first rows are its newest. Callers add a suffix when two rows may share a time.
    /// </summary>
    public static string NewestFirst(DateTimeOffset time) =>
        (DateTimeOffset.MaxValue.UtcTicks - time.UtcTicks).ToString("D19", CultureInfo.InvariantCulture);
}
