using System.Globalization;

namespace Serverless.Lifecycle.Data.Profiling;

/// <summary>
/// Parses the numbers datasets are mostly made of (an optional sign, up to 15 significant digits,
/// an optional decimal point, no exponent) with Clinger's fast path: the digits as an exact
/// integer divided by an exact power of ten is the correctly rounded double. Everything else goes
/// to csFastFloat, then to the framework's parser, which has the final word. Written here because
/// the fast path is what makes profiling keep up with the CSV reader; the libraries stay the
/// reference for every other form.
/// </summary>
internal static class DecimalParser
{
    private static readonly double[] PowersOfTen = Enumerable.Range(0, 23).Select(i => Math.Pow(10, i)).ToArray();

    public static bool TryParse(ReadOnlySpan<char> text, out double value)
    {
        if (TryFastPath(text, out value))
        {
            return true;
        }

        return (csFastFloat.FastDoubleParser.TryParseDouble(text, out var consumed, out value) && consumed == text.Length)
            || double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    private static bool TryFastPath(ReadOnlySpan<char> text, out double value)
    {
        value = 0;
        var i = 0;
        var negative = false;
        if (text.Length > 0 && (text[0] == '-' || text[0] == '+'))
        {
            negative = text[0] == '-';
            i = 1;
        }

        long mantissa = 0;
        var digits = 0;
        var fraction = -1;
        var any = false;
        for (; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '.')
            {
                if (fraction >= 0)
                {
                    return false;
                }

                fraction = 0;
                continue;
            }

            var digit = c - '0';
            if ((uint)digit > 9)
            {
                return false;
            }

            any = true;
            if (mantissa != 0 || digit != 0)
            {
                digits++;
            }

            if (digits > 15)
            {
                return false;
            }

            mantissa = (mantissa * 10) + digit;
            if (fraction >= 0)
            {
                fraction++;
            }
        }

        if (!any || fraction > 22)
        {
            return false;
        }

        value = fraction > 0 ? mantissa / PowersOfTen[fraction] : mantissa;
        if (negative)
        {
            value = -value;
        }

        return true;
    }
}
