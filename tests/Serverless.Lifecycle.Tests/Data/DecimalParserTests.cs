using System.Globalization;
using Serverless.Lifecycle.Data.Profiling;

namespace Serverless.Lifecycle.Tests.Data;

public sealed class DecimalParserTests
{
    [Theory]
    [InlineData("0")]
    [InlineData("-0")]
    [InlineData("+5")]
    [InlineData("007.250")]
    [InlineData(".5")]
    [InlineData("1.")]
    [InlineData("123456789012345")]
    [InlineData("1234567890123456789")]
    [InlineData("0.1")]
    [InlineData("-99.99")]
    [InlineData("1e5")]
    [InlineData("-2.5E-3")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("0.0000000000000000000000001")]
    public void TryParse_AgreesWithTheFrameworkBitForBit(string text)
    {
        Assert.True(DecimalParser.TryParse(text, out var value));
        var expected = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(value));
    }

    [Fact]
    public void TryParse_RandomDecimals_AgreeWithTheFrameworkBitForBit()
    {
        var random = new Random(17);
        for (var i = 0; i < 200_000; i++)
        {
            var digits = random.Next(1, 18);
            var mantissa = random.NextInt64(0, (long)Math.Pow(10, Math.Min(digits, 18)));
            var text = mantissa.ToString(CultureInfo.InvariantCulture);
            var point = random.Next(0, text.Length + 1);
            text = (random.Next(2) == 0 ? "-" : "") + text[..point] + "." + text[point..];

            Assert.True(DecimalParser.TryParse(text, out var value), text);
            var expected = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
            Assert.True(BitConverter.DoubleToInt64Bits(expected) == BitConverter.DoubleToInt64Bits(value), $"{text}: {value:R} vs {expected:R}");
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("-")]
    [InlineData("1.2.3")]
    [InlineData("12a")]
    [InlineData("twelve")]
    public void TryParse_NotANumber_IsRefused(string text)
    {
        Assert.False(DecimalParser.TryParse(text, out _));
    }
}
