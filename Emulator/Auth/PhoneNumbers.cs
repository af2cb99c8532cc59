using PhoneNumbers;

namespace Fanfare.Emulator.Auth;

/// <summary>
/// E.164 normalisation for OTP phones (behavior.md §2.2: <c>+12025551234</c>, <c>defaultCountry</c> ISO-2 normalises local
/// input), with Google's numbering plans (libphonenumber-csharp): the national trunk prefix is dropped
/// (<c>+44 020 7946 0000</c> → <c>+442079460000</c>), unknown country codes (<c>+999…</c>) are refused. A number only has
/// to be <em>possible</em> (right length for its country), not assigned, so fictional numbers such as the seed's
/// <c>+15555550100</c> work. <c>00…</c> is read as international; letters are refused.
/// </summary>
public static class PhoneNumbers
{
    private static readonly PhoneNumberUtil Util = PhoneNumberUtil.GetInstance();
    private static readonly HashSet<string> Regions = new(Util.GetSupportedRegions(), StringComparer.OrdinalIgnoreCase);

    /// <summary>True for an ISO 3166-1 alpha-2 code that has a numbering plan (<c>US</c>, <c>gb</c> …).</summary>
    public static bool IsKnownCountry(string? iso2) => iso2 is not null && Regions.Contains(iso2);

    /// <summary>The E.164 form, or null when the input cannot be a phone number (unknown country code, impossible length,
    /// letters). Local input is read in <paramref name="defaultCountry"/> (default <c>US</c>).</summary>
    public static string? Normalize(string input, string? defaultCountry)
    {
        var s = input.Trim();
        if (s.Length == 0 || s.Any(c => !(char.IsAsciiDigit(c) || c is '+' or ' ' or '-' or '(' or ')' or '.'))) return null;
        if (s.StartsWith("00", StringComparison.Ordinal)) s = "+" + s[2..];
        var region = string.IsNullOrEmpty(defaultCountry) ? "US" : defaultCountry.ToUpperInvariant();
        if (!Regions.Contains(region)) return null;
        try
        {
            var number = Util.Parse(s, region);
            if (Util.IsPossibleNumberWithReason(number) != PhoneNumberUtil.ValidationResult.IS_POSSIBLE) return null;
            return Util.Format(number, PhoneNumberFormat.E164);
        }
        catch (NumberParseException) { return null; }
    }
}
