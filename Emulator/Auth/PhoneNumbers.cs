namespace Fanfare.Emulator.Auth;

/// <summary>
/// E.164 normalisation for OTP phones (behavior.md §2.2: <c>+12025551234</c>, <c>defaultCountry</c> ISO-2 normalises local
/// input). International input (<c>+…</c> or <c>00…</c>) is kept; local input gets the country's calling code, with the
/// trunk prefix 0 dropped where the country uses one. Not a full numbering plan: lengths are checked loosely (E.164 ≤ 15).
/// </summary>
public static class PhoneNumbers
{
    private static readonly Dictionary<string, (string Code, bool Trunk0)> Countries = new(StringComparer.OrdinalIgnoreCase)
    {
        ["US"] = ("1", false), ["CA"] = ("1", false), ["GB"] = ("44", true), ["AU"] = ("61", true), ["NZ"] = ("64", true),
        ["IE"] = ("353", true), ["DE"] = ("49", true), ["FR"] = ("33", true), ["ES"] = ("34", false), ["IT"] = ("39", false),
        ["NL"] = ("31", true), ["BE"] = ("32", true), ["SE"] = ("46", true), ["NO"] = ("47", false), ["DK"] = ("45", false),
        ["FI"] = ("358", true), ["CH"] = ("41", true), ["AT"] = ("43", true), ["PT"] = ("351", false), ["PL"] = ("48", false),
        ["JP"] = ("81", true), ["KR"] = ("82", true), ["CN"] = ("86", true), ["IN"] = ("91", true), ["SG"] = ("65", false),
        ["HK"] = ("852", false), ["BR"] = ("55", true), ["MX"] = ("52", false), ["ZA"] = ("27", true), ["AE"] = ("971", true),
    };

    public static bool IsKnownCountry(string? iso2) => iso2 is not null && Countries.ContainsKey(iso2);

    /// <summary>The E.164 form, or null when the input cannot be a phone number.</summary>
    public static string? Normalize(string input, string? defaultCountry)
    {
        var s = input.Trim();
        bool international = s.StartsWith('+') || s.StartsWith("00", StringComparison.Ordinal);
        if (s.Any(c => !(char.IsAsciiDigit(c) || c is '+' or ' ' or '-' or '(' or ')' or '.'))) return null;
        var digits = new string(s.Where(char.IsAsciiDigit).ToArray());
        if (s.StartsWith("00", StringComparison.Ordinal)) digits = digits[2..];
        if (!international)
        {
            var country = string.IsNullOrEmpty(defaultCountry) ? "US" : defaultCountry;
            if (!Countries.TryGetValue(country, out var c)) return null;
            if (c.Code == "1" && digits.Length == 11 && digits[0] == '1') digits = digits[1..];
            else if (c.Trunk0 && digits.StartsWith('0')) digits = digits[1..];
            if (c.Code == "1" && digits.Length != 10) return null;
            digits = c.Code + digits;
        }
        if (digits.Length < 8 || digits.Length > 15 || digits[0] == '0') return null;
        return "+" + digits;
    }
}
