using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Serverless.Lifecycle.Api;

/// <summary>Query string values the list routes share; a bad one is a 400 that names it.</summary>
public static class QueryParameters
{
    /// <summary><c>?limit=</c>: a whole number from 1 to <paramref name="max"/>, <paramref name="defaultValue"/> when absent.</summary>
    public static (int Value, IResult? Error) Limit(HttpRequest request, int defaultValue, int max)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!request.Query.TryGetValue("limit", out var text))
        {
            return (defaultValue, null);
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) && limit >= 1 && limit <= max
            ? (limit, null)
            : (0, ApiResults.BadRequest("limit", $"'{text}' is not a whole number from 1 to {max}."));
    }

    /// <summary>
    /// An ISO 8601 time (<c>2026-11-26</c>, <c>2026-11-26T10:00:00Z</c>, <c>...+01:00</c> with the plus
    /// sent as %2B); without an offset it is UTC. Null when absent.
    /// </summary>
    public static (DateTimeOffset? Value, IResult? Error) Time(HttpRequest request, string name)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!request.Query.TryGetValue(name, out var values))
        {
            return (null, null);
        }

        // TryParse alone also takes culture forms such as 11/26/2026; ISO 8601 starts with the full date.
        var text = values.ToString();
        return text.Length >= 10 && text[4] == '-' && text[7] == '-' && text[..4].All(char.IsAsciiDigit)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            ? (time, null)
            : (null, ApiResults.BadRequest(name, $"'{text}' is not an ISO 8601 time such as 2026-11-26T10:00:00Z."));
    }
}
