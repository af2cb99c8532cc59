namespace Fanfare.Emulator.Infrastructure;

/// <summary>
/// ISO 8601 / XML Schema durations (<c>P7D</c>, <c>PT1H30M</c>, <c>-PT0.5S</c>) as <see cref="TimeSpan"/>, exactly as
/// <c>System.Xml.XmlConvert.ToTimeSpan</c> reads them (same accepted forms, same values: a year is 365 days, a month 30,
/// twelve months a year; same errors), without loading System.Private.Xml (issue 15: start-up and memory). The one
/// parser of durations in the emulator: the seed's relative times, <c>POST /_emulator/clock/advance {duration}</c> and
/// analytics periods. No weeks (<c>P1W</c> is refused, as by XmlConvert).
/// </summary>
public static class IsoDuration
{
    /// <summary>The duration, or <see cref="FormatException"/> when <paramref name="s"/> is not one (a component too
    /// large for an <see cref="int"/> included), <see cref="OverflowException"/> when it does not fit a <see cref="TimeSpan"/>.</summary>
    public static TimeSpan Parse(string s)
    {
        if (!TryParseParts(s, out var d)) throw new FormatException($"The string '{s}' is not a valid TimeSpan value.");
        return ToTimeSpan(d);
    }

    /// <summary>Like <see cref="Parse"/>, false instead of either exception.</summary>
    public static bool TryParse(string s, out TimeSpan value)
    {
        value = default;
        if (!TryParseParts(s, out var d)) return false;
        try { value = ToTimeSpan(d); return true; }
        catch (OverflowException) { return false; }
    }

    private struct Parts
    {
        public bool Negative, Any;
        public int Years, Months, Days, Hours, Minutes, Seconds;
        public uint Nanoseconds;
    }

    private static bool TryParseParts(string input, out Parts d)
    {
        d = default;
        var s = input.AsSpan().Trim(" \t\n\r");
        int pos = 0, value, digits;
        if (pos >= s.Length) return false;
        if (s[pos] == '-') { pos++; d.Negative = true; }
        if (pos >= s.Length || s[pos++] != 'P') return false;
        if (!Digits(s, ref pos, false, out value, out digits) || pos >= s.Length) return false;
        if (s[pos] == 'Y')
        {
            if (digits == 0) return false;
            d.Years = value; d.Any = true;
            if (++pos == s.Length) return true;
            if (!Digits(s, ref pos, false, out value, out digits) || pos >= s.Length) return false;
        }
        if (s[pos] == 'M')
        {
            if (digits == 0) return false;
            d.Months = value; d.Any = true;
            if (++pos == s.Length) return true;
            if (!Digits(s, ref pos, false, out value, out digits) || pos >= s.Length) return false;
        }
        if (s[pos] == 'D')
        {
            if (digits == 0) return false;
            d.Days = value; d.Any = true;
            if (++pos == s.Length) return true;
            if (!Digits(s, ref pos, false, out value, out digits) || pos >= s.Length) return false;
        }
        if (s[pos] == 'T')
        {
            if (digits != 0) return false;
            pos++;
            if (!Digits(s, ref pos, false, out value, out digits) || pos >= s.Length) return false;
            if (s[pos] == 'H')
            {
                if (digits == 0) return false;
                d.Hours = value; d.Any = true;
                if (++pos == s.Length) return true;
                if (!Digits(s, ref pos, false, out value, out digits) || pos >= s.Length) return false;
            }
            if (s[pos] == 'M')
            {
                if (digits == 0) return false;
                d.Minutes = value; d.Any = true;
                if (++pos == s.Length) return true;
                if (!Digits(s, ref pos, false, out value, out digits) || pos >= s.Length) return false;
            }
            if (s[pos] == '.')
            {
                pos++;
                d.Seconds = value; d.Any = true;
                if (!Digits(s, ref pos, true, out value, out digits)) return false;
                if (digits == 0) value = 0;
                for (; digits > 9; digits--) value /= 10;
                for (; digits < 9; digits++) value *= 10;
                d.Nanoseconds = (uint)value;
                if (pos >= s.Length || s[pos] != 'S') return false;
                if (++pos == s.Length) return true;
            }
            else if (s[pos] == 'S')
            {
                if (digits == 0) return false;
                d.Seconds = value; d.Any = true;
                if (++pos == s.Length) return true;
            }
        }
        // Digits left over (no designator after them), or anything else after the last component.
        if (digits != 0 || pos != s.Length) return false;
        return d.Any;
    }

    /// <summary>Decimal digits from <paramref name="pos"/>; false when they overflow an int (unless
    /// <paramref name="eat"/>: then the rest are skipped and the value kept, for fractions).</summary>
    private static bool Digits(ReadOnlySpan<char> s, ref int pos, bool eat, out int value, out int digits)
    {
        int start = pos;
        value = 0;
        digits = 0;
        while (pos < s.Length && char.IsAsciiDigit(s[pos]))
        {
            int digit = s[pos] - '0';
            if (value > (int.MaxValue - digit) / 10)
            {
                if (!eat) return false;
                digits = pos - start;
                while (pos < s.Length && char.IsAsciiDigit(s[pos])) pos++;
                return true;
            }
            value = value * 10 + digit;
            pos++;
        }
        digits = pos - start;
        return true;
    }

    private static TimeSpan ToTimeSpan(Parts d)
    {
        checked
        {
            ulong ticks = ((ulong)d.Years + (ulong)d.Months / 12) * 365;
            ticks += (ulong)d.Months % 12 * 30;
            ticks += (ulong)d.Days;
            ticks *= 24;
            ticks += (ulong)d.Hours;
            ticks *= 60;
            ticks += (ulong)d.Minutes;
            ticks *= 60;
            ticks += (ulong)d.Seconds;
            ticks *= (ulong)TimeSpan.TicksPerSecond;
            ticks += d.Nanoseconds / 100;
            if (!d.Negative) return new TimeSpan((long)ticks);
            return ticks == (ulong)long.MaxValue + 1 ? new TimeSpan(long.MinValue) : new TimeSpan(-(long)ticks);
        }
    }
}
