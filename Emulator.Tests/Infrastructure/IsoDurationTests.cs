using System.Xml;
using Fanfare.Emulator.Infrastructure;

namespace Fanfare.Emulator.Tests.Infrastructure;

/// <summary><see cref="IsoDuration"/> reads exactly what <c>XmlConvert.ToTimeSpan</c> reads (which it replaces so that
/// start-up does not load System.Private.Xml): same values, same <c>FormatException</c>/<c>OverflowException</c>.</summary>
public sealed class IsoDurationTests
{
    private static string Outcome(Func<TimeSpan> parse)
    {
        try { return parse().Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture); }
        catch (FormatException) { return "format"; }
        catch (OverflowException) { return "overflow"; }
    }

    private static void Same(string s) =>
        Assert.True(Outcome(() => XmlConvert.ToTimeSpan(s)) == Outcome(() => IsoDuration.Parse(s)),
            $"\"{s}\": XmlConvert {Outcome(() => XmlConvert.ToTimeSpan(s))}, IsoDuration {Outcome(() => IsoDuration.Parse(s))}");

    [Theory]
    // The seed's forms (seed/default.json, after the sign) and common ones.
    [InlineData("PT0S")] [InlineData("P7D")] [InlineData("P1D")] [InlineData("P8D")] [InlineData("PT1H")] [InlineData("PT30M")]
    [InlineData("P1Y2M3DT4H5M6.789S")] [InlineData("-P1DT2H")] [InlineData("PT0.5S")] [InlineData("PT1.0000000001S")]
    [InlineData("P13M")] [InlineData("P24M")] [InlineData("PT86400S")] [InlineData("P0D")] [InlineData(" P1D\t")]
    [InlineData("PT2147483647S")] [InlineData("P2147483647D")] [InlineData("P2147483647Y")] [InlineData("-P10675199D")]
    [InlineData("P10675200D")] [InlineData("PT.5S")] [InlineData("PT5.S")] [InlineData("PT1.99999999999999999999S")]
    // Refused: weeks, empty parts, wrong order, lower case, signs, separators, too many digits.
    [InlineData("P1W")] [InlineData("P")] [InlineData("PT")] [InlineData("")] [InlineData("-")] [InlineData("P1")] [InlineData("PT1")]
    [InlineData("P1DT")] [InlineData("PT1D")] [InlineData("P1H")] [InlineData("P1M1Y")] [InlineData("PT1S1M")] [InlineData("p1d")]
    [InlineData("+P1D")] [InlineData("--P1D")] [InlineData("P-1D")] [InlineData("P1.5D")] [InlineData("PT1,5S")] [InlineData("P1D1D")]
    [InlineData("P2147483648D")] [InlineData("P99999999999Y")] [InlineData("PT1.5")] [InlineData("1D")] [InlineData("P1DX")]
    [InlineData("PT1H.5S")] [InlineData("P1Y1M1DT1H1M1.1SS")] [InlineData("P T1H")] [InlineData("PT1M.S")]
    public void Reads_like_XmlConvert(string s) => Same(s);

    [Fact]
    public void Reads_like_XmlConvert_for_random_strings_of_its_alphabet()
    {
        var random = new Random(15);
        const string alphabet = "0123456789PYMDTHS.-P1TTSM9 ";
        for (int i = 0; i < 20_000; i++)
        {
            var chars = new char[random.Next(1, 14)];
            for (int j = 0; j < chars.Length; j++) chars[j] = alphabet[random.Next(alphabet.Length)];
            if (random.Next(2) == 0 && chars.Length > 1) chars[0] = 'P';
            Same(new string(chars));
        }
        // Well-formed ones with random components (values, overflow).
        string[] designators = ["Y", "M", "D", "TH", "M", "S"];
        for (int i = 0; i < 5_000; i++)
        {
            var s = random.Next(4) == 0 ? "-P" : "P";
            var inTime = false;
            for (int k = 0; k < designators.Length; k++)
            {
                if (random.Next(2) == 0) continue;
                var d = designators[k];
                if (k >= 3 && !inTime) { s += "T"; inTime = true; }
                var n = random.Next(3) switch { 0 => random.Next(10).ToString(), 1 => random.Next(100_000).ToString(), _ => random.NextInt64(10_000_000_000).ToString() };
                if (k == 5 && random.Next(2) == 0) n += "." + random.NextInt64(1_000_000_000_000).ToString();
                s += n + d.TrimStart('T');
            }
            Same(s);
        }
    }

    [Fact]
    public void TryParse_is_false_for_what_Parse_throws_on()
    {
        Assert.True(IsoDuration.TryParse("PT1H30M", out var v));
        Assert.Equal(TimeSpan.FromMinutes(90), v);
        Assert.False(IsoDuration.TryParse("P1W", out _));
        Assert.False(IsoDuration.TryParse("P2147483647Y", out _));
    }
}
