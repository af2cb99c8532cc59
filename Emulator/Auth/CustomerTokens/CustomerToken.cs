using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Fanfare.Emulator.Auth.CustomerTokens;

/// <summary>Why a customer token was refused (<see cref="CustomerTokens.Verify"/>).</summary>
public enum CustomerTokenFailure
{
    None,
    /// <summary>Missing, not <c>HMAC-SHA256 &lt;payload&gt;:&lt;signature&gt;</c>, prefixes out of order, bad <c>exp</c>, empty id.</summary>
    InvalidFormat,
    /// <summary>Well-formed, but the signature is not HMAC-SHA256(signing secret, payload) in lowercase hex.</summary>
    InvalidSignature,
    /// <summary>Well-formed and signed, but <c>exp</c> is not after the emulator clock's now.</summary>
    Expired,
}

/// <summary>The parts of a well-formed customer token (the signature is not checked by <see cref="CustomerTokens.Parse"/>).</summary>
/// <param name="Payload">The signed string: <c>[exp:&lt;unix seconds&gt;:][ro:]&lt;customerId&gt;</c>.</param>
/// <param name="CustomerId">A consumer id or the <c>subject</c> of one of its external identities.</param>
/// <param name="ReadOnly">The <c>ro:</c> prefix: only GET/HEAD requests are allowed.</param>
/// <param name="ExpiresAt">The <c>exp:</c> prefix, unix seconds (UTC), or null for a token that never expires.</param>
/// <param name="Signature">The hex signature as sent.</param>
public sealed record ParsedCustomerToken(string Payload, string CustomerId, bool ReadOnly, long? ExpiresAt, string Signature)
{
    public DateTimeOffset? ExpiresAtTime => ExpiresAt is long s ? DateTimeOffset.FromUnixTimeSeconds(s) : null;
}

/// <summary>The outcome of <see cref="CustomerTokens.Verify"/>. <see cref="Token"/> is set whenever the format was valid.</summary>
public sealed record CustomerTokenVerification(CustomerTokenFailure Failure, ParsedCustomerToken? Token)
{
    public bool Valid => Failure == CustomerTokenFailure.None;

    /// <summary>Machine-readable reason for the control plane: <c>invalid_format</c>, <c>invalid_signature</c>, <c>expired</c>.</summary>
    public string? Reason => Failure switch
    {
        CustomerTokenFailure.InvalidFormat => "invalid_format",
        CustomerTokenFailure.InvalidSignature => "invalid_signature",
        CustomerTokenFailure.Expired => "expired",
        _ => null,
    };

    /// <summary>The message of the 401 body (<see cref="CustomerTokens.InvalidFormatMessage"/> …).</summary>
    public string? Message => Failure switch
    {
        CustomerTokenFailure.InvalidFormat => CustomerTokens.InvalidFormatMessage,
        CustomerTokenFailure.InvalidSignature => CustomerTokens.InvalidSignatureMessage,
        CustomerTokenFailure.Expired => CustomerTokens.ExpiredMessage,
        _ => null,
    };
}

/// <summary>
/// Client-side security customer tokens (pure: no I/O, no clock of its own). Format, exactly:
/// <c>HMAC-SHA256 &lt;payload&gt;:&lt;signature&gt;</c> where <c>&lt;signature&gt;</c> is the lowercase hex
/// HMAC-SHA256 of <c>&lt;payload&gt;</c> keyed with the environment's signing secret (the whole <c>ctsec_…</c> string as
/// UTF-8), and <c>&lt;payload&gt;</c> is, in this order only: optional <c>exp:&lt;10-digit unix seconds&gt;:</c>, optional
/// <c>ro:</c>, then the customer id. Valid: <c>cust_1</c>, <c>ro:cust_1</c>, <c>exp:1776509029:cust_1</c>,
/// <c>exp:1776509029:ro:cust_1</c>. Invalid format: prefixes out of order (<c>ro:exp:…</c>), an <c>exp</c> that is not
/// exactly 10 digits, a missing <c>HMAC-SHA256 </c> prefix or <c>:</c> separator, an empty id, whitespace in the id, a
/// signature that is not 64 hex characters. The id may itself contain <c>:</c> (the signature is after the last one), but
/// may not start with <c>exp:</c> or <c>ro:</c>. Checks run in order format → signature → expiry; a token expires when
/// now ≥ exp.
/// </summary>
public static class CustomerTokens
{
    public const string Scheme = "HMAC-SHA256";
    public const string InvalidFormatMessage = "Customer token has invalid format";
    public const string InvalidSignatureMessage = "Customer token has invalid signature";
    public const string ExpiredMessage = "Customer token has expired";

    /// <summary>Smallest and largest unix seconds with exactly 10 digits (2001-09-09 … 2286-11-20).</summary>
    public const long MinExp = 1_000_000_000, MaxExp = 9_999_999_999;

    /// <summary>The payload that gets signed: <c>[exp:&lt;s&gt;:][ro:]&lt;customerId&gt;</c>.</summary>
    public static string Payload(string customerId, bool readOnly = false, long? expiresAt = null)
    {
        var sb = new StringBuilder();
        if (expiresAt is long exp) sb.Append("exp:").Append(exp.ToString(CultureInfo.InvariantCulture)).Append(':');
        if (readOnly) sb.Append("ro:");
        return sb.Append(customerId).ToString();
    }

    /// <summary>Lowercase hex HMAC-SHA256(<paramref name="signingSecret"/>, <paramref name="payload"/>).</summary>
    public static string Sign(string signingSecret, string payload) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(signingSecret), Encoding.UTF8.GetBytes(payload)));

    /// <summary>Mints <c>HMAC-SHA256 &lt;payload&gt;:&lt;signature&gt;</c>, as a merchant backend does.</summary>
    /// <exception cref="ArgumentException">The id is not a valid customer id, or <paramref name="expiresAt"/> is not 10 digits.</exception>
    public static string Mint(string signingSecret, string customerId, bool readOnly = false, long? expiresAt = null)
    {
        if (InvalidCustomerId(customerId) is { } problem) throw new ArgumentException(problem, nameof(customerId));
        if (expiresAt is long exp && (exp < MinExp || exp > MaxExp))
            throw new ArgumentException("exp must be unix seconds with exactly 10 digits", nameof(expiresAt));
        var payload = Payload(customerId, readOnly, expiresAt);
        return $"{Scheme} {payload}:{Sign(signingSecret, payload)}";
    }

    /// <summary>Why <paramref name="customerId"/> cannot be put in a token, or null when it can.</summary>
    public static string? InvalidCustomerId(string? customerId)
    {
        if (string.IsNullOrEmpty(customerId)) return "customer id must not be empty";
        if (customerId.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))) return "customer id must not contain whitespace";
        if (customerId.StartsWith("exp:", StringComparison.Ordinal) || customerId.StartsWith("ro:", StringComparison.Ordinal))
            return "customer id must not start with \"exp:\" or \"ro:\"";
        return null;
    }

    /// <summary>Splits a token into its parts, or null when its format is invalid. Does not check the signature.</summary>
    public static ParsedCustomerToken? Parse(string? token)
    {
        if (string.IsNullOrEmpty(token) || !token.StartsWith(Scheme + " ", StringComparison.Ordinal)) return null;
        var rest = token[(Scheme.Length + 1)..];
        var sep = rest.LastIndexOf(':');
        if (sep < 0) return null;
        var payload = rest[..sep];
        var signature = rest[(sep + 1)..];
        if (signature.Length != 64 || !signature.All(char.IsAsciiHexDigit)) return null;

        var body = payload.AsSpan();
        long? exp = null;
        if (body.StartsWith("exp:"))
        {
            // exactly 10 digits, then ':'
            if (body.Length < 15 || body[14] != ':') return null;
            var digits = body.Slice(4, 10);
            foreach (var c in digits) if (!char.IsAsciiDigit(c)) return null;
            exp = long.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);
            body = body[15..];
        }
        bool readOnly = false;
        if (body.StartsWith("ro:"))
        {
            readOnly = true;
            body = body[3..];
        }
        var id = body.ToString();
        if (InvalidCustomerId(id) is not null) return null;
        return new ParsedCustomerToken(payload, id, readOnly, exp, signature);
    }

    /// <summary>
    /// Verifies <paramref name="token"/> against <paramref name="signingSecret"/> at <paramref name="nowUnixSeconds"/>
    /// (the emulator clock): format, then signature (constant-time, lowercase hex only), then expiry (now ≥ exp ⇒ expired).
    /// </summary>
    public static CustomerTokenVerification Verify(string? token, string signingSecret, long nowUnixSeconds)
    {
        var parsed = Parse(token);
        if (parsed is null) return new(CustomerTokenFailure.InvalidFormat, null);
        var expected = Encoding.ASCII.GetBytes(Sign(signingSecret, parsed.Payload));
        if (!CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(parsed.Signature)))
            return new(CustomerTokenFailure.InvalidSignature, parsed);
        if (parsed.ExpiresAt is long exp && nowUnixSeconds >= exp) return new(CustomerTokenFailure.Expired, parsed);
        return new(CustomerTokenFailure.None, parsed);
    }
}
