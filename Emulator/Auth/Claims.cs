using System.Text.Json;
using System.Text.Json.Nodes;

namespace Fanfare.Emulator.Auth;

/// <summary>
/// Reads token claims whatever their JSON type. The signing keys are public (derived from the organization's name), so a
/// correctly signed token may still carry a number where a string belongs (<c>{"organizationId":1}</c>): a claim of the
/// wrong type reads as absent and the token is refused (401), never a 500. Use these instead of <c>GetValue&lt;T&gt;</c>
/// on claims.
/// </summary>
public static class Claims
{
    /// <summary>The claim when it is a JSON string, else null.</summary>
    public static string? Str(this JsonObject? claims, string key) =>
        Get(claims, key) is JsonValue v && v.GetValueKind() == JsonValueKind.String && Try(() => v.GetValue<string>()) is { } s ? s : null;

    /// <summary>The claim when it is a JSON integer that fits a long, else null.</summary>
    public static long? Long(this JsonObject? claims, string key) =>
        Get(claims, key) is JsonValue v && v.GetValueKind() == JsonValueKind.Number && long.TryParse(v.ToJsonString(), out var n) ? n : null;

    /// <summary>The claim when it is a JSON boolean, else null.</summary>
    public static bool? Bool(this JsonObject? claims, string key) =>
        Get(claims, key) is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False ? v.GetValueKind() == JsonValueKind.True : null;

    // A property name or string with a lone surrogate makes System.Text.Json throw when first read: treated as absent.
    private static JsonNode? Get(JsonObject? claims, string key)
    {
        if (claims is null) return null;
        try { return claims[key]; }
        catch (InvalidOperationException) { return null; }
    }

    private static string? Try(Func<string> read)
    {
        try { return read(); }
        catch (InvalidOperationException) { return null; }
    }
}
