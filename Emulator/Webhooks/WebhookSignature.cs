using System.Security.Cryptography;
using System.Text;

namespace Fanfare.Emulator.Webhooks;

/// <summary>
/// <c>X-Fanfare-Signature</c> (behavior.md §7.2). The key is the whole secret string (<c>whsec_…</c>) as UTF-8.
/// <list type="bullet">
/// <item><c>v1</c> (canonical, default): <c>sha256=</c> + lowercase hex HMAC-SHA256(secret, <c>"{X-Fanfare-Timestamp}.{raw body}"</c>).</item>
/// <item><c>body-hex</c> (the debugging/security pages' variant): lowercase hex HMAC-SHA256(secret, raw body), no prefix.</item>
/// </list>
/// </summary>
public static class WebhookSignature
{
    public const string V1 = "v1";
    public const string BodyHex = "body-hex";
    public static readonly string[] Schemes = [V1, BodyHex];

    /// <summary>The header value for <paramref name="body"/> sent at <paramref name="unixSeconds"/>.</summary>
    public static string Sign(string scheme, string secret, long unixSeconds, string body) => scheme switch
    {
        BodyHex => Hex(secret, body),
        _ => "sha256=" + Hex(secret, $"{unixSeconds}.{body}"),
    };

    private static string Hex(string secret, string message) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(message)));
}
