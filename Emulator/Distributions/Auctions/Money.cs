using System.Globalization;

namespace Fanfare.Emulator.Distributions.Auctions;

/// <summary>Money as the contract writes it: decimal strings (<c>"250.00"</c>, pattern <c>^\d{1,12}(\.\d{1,8})?$</c>), never numbers.</summary>
public static class Money
{
    /// <summary>At least two decimals, at most eight: <c>250</c> → <c>"250.00"</c>, <c>0.125</c> → <c>"0.125"</c>.</summary>
    public static string Format(decimal d) => Math.Round(d, 8, MidpointRounding.ToZero).ToString("0.00######", CultureInfo.InvariantCulture);

    public static string? Format(decimal? d) => d is null ? null : Format(d.Value);

    public static decimal? Parse(string? s) =>
        s is not null && decimal.TryParse(s, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var d) ? d : null;

    /// <summary>Normalizes a decimal string (already pattern-checked) to <see cref="Format(decimal)"/>.</summary>
    public static string? Normalize(string? s) => Parse(s) is { } d ? Format(d) : null;
}
