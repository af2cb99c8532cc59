using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.Auth.Tokens;

/// <summary>
/// Signs and verifies the emulator's JWTs with each organization's Ed25519 key: header exactly
/// <c>{"alg":"EdDSA","typ":"JWT"}</c> (behavior.md §2.4). Used for access, refresh and beacon tokens and admission grants.
/// Lifetimes are checked by callers against the emulator clock, never by IdentityModel's own clock.
/// </summary>
public sealed class TokenService(OrganizationDirectory orgs)
{
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };
    private readonly ConcurrentDictionary<string, Ed25519SecurityKey> _keys = new();

    /// <summary>
    /// Tokens whose signature was already verified, with the signing-key seed they verified against and their parsed
    /// claims. The signature of an unchanging string under an unchanging key does not change, so the same token string
    /// under the same key is not verified (nor parsed) again; any other string (a tampered token, another key) is verified
    /// in full. Only the signature is remembered: callers check expiry (emulator clock), token type and session revocation
    /// on every request. Shared by every TokenService of the process (tests run several emulators in one): an entry says
    /// only "this string is signed by the key of this seed", which is true everywhere. Bounded: emptied when it reaches
    /// <see cref="VerifiedCacheLimit"/> entries.
    /// </summary>
    private static readonly ConcurrentDictionary<string, VerifiedToken> Verified = new(StringComparer.Ordinal);
    internal const int VerifiedCacheLimit = 50_000;
    /// <summary>Tokens added to <see cref="Verified"/> since it was last emptied (a <see cref="ConcurrentDictionary{TKey,TValue}"/>
    /// counts its entries under all its locks: that cost 5 % of the CPU of a 24 h clock advance that signs 10,000 grants).
    /// Approximate under concurrent adds; it only bounds the cache.</summary>
    private static int _verifiedAdded;

    /// <summary>A verified token: the key seed it verified against and its claims (parsed on first use for a token this
    /// process signed: most refresh and beacon tokens are never read back).</summary>
    private sealed record VerifiedToken(string KeySeed, JsonObject? Claims);

    public Ed25519SecurityKey KeyFor(Organization org) =>
        _keys.GetOrAdd(org.SigningKeySeed, s => Ed25519SecurityKey.FromSeed(Convert.FromBase64String(s)));

    /// <summary>Signs <paramref name="payload"/> (claims in the given order). The new token is remembered as verified
    /// under <paramref name="org"/>'s key (it was just signed with it): its first use — a guest's first queue entry —
    /// does not verify the signature again; expiry and revocation are checked on every use as always.</summary>
    public string Sign(Organization org, JsonObject payload)
    {
        var token = _handler.CreateToken(payload.ToJsonString(), new SigningCredentials(KeyFor(org), EdDsaCryptoProvider.Algorithm));
        Remember(token, org);
        return token;
    }

    private static void Remember(string token, Organization org, JsonObject? claims = null)
    {
        if (Volatile.Read(ref _verifiedAdded) >= VerifiedCacheLimit)
        {
            Volatile.Write(ref _verifiedAdded, 0);
            Verified.Clear();
        }
        if (Verified.TryAdd(token, new VerifiedToken(org.SigningKeySeed, claims))) Interlocked.Increment(ref _verifiedAdded);
        else Verified[token] = new VerifiedToken(org.SigningKeySeed, claims);
    }

    /// <summary>The claims of a remembered token, parsed now if it was remembered at signing (then kept).</summary>
    private static JsonObject? ClaimsOf(string token, VerifiedToken known)
    {
        if (known.Claims is { } claims) return claims;
        if (Parse(token) is not { } parsed) return null;
        Verified[token] = known with { Claims = parsed };
        return parsed;
    }

    /// <summary>
    /// Reads a token's claims without verifying it (null when it is not a JWT). The object may be shared with other
    /// callers (a token already verified answers from the cache): read it, never modify it.
    /// </summary>
    public static JsonObject? Peek(string? token)
    {
        if (string.IsNullOrEmpty(token)) return null;
        if (Verified.TryGetValue(token, out var known)) return ClaimsOf(token, known);
        return Parse(token);
    }

    private static JsonObject? Parse(string token)
    {
        if (token.Count(c => c == '.') != 2) return null;
        try
        {
            var payload = Base64UrlEncoder.Decode(token.Split('.')[1]);
            var claims = JsonNode.Parse(payload) as JsonObject;
            _ = claims?.Count; // JsonObject builds its dictionary lazily: build it now, so shared readers never race on it
            return claims;
        }
        catch (Exception) { return null; }
    }

    /// <summary>
    /// The claims when the signature is <paramref name="org"/>'s and the algorithm EdDSA; otherwise null. The object may
    /// be shared (see <see cref="Peek"/>): read it, never modify it.
    /// </summary>
    public JsonObject? Verify(Organization org, string? token)
    {
        if (string.IsNullOrEmpty(token)) return null;
        if (Verified.TryGetValue(token, out var known) && known.KeySeed == org.SigningKeySeed) return ClaimsOf(token, known);
        try
        {
            // Completes synchronously (a key is given: no metadata to fetch).
            var result = _handler.ValidateTokenAsync(token, new TokenValidationParameters
            {
                IssuerSigningKey = KeyFor(org),
                ValidateIssuer = false, ValidateAudience = false, ValidateLifetime = false,
                RequireExpirationTime = false, RequireSignedTokens = true, ValidAlgorithms = [EdDsaCryptoProvider.Algorithm],
            }).GetAwaiter().GetResult();
            if (!result.IsValid || Parse(token) is not { } claims) return null;
            Remember(token, org, claims);
            return claims;
        }
        catch (Exception) { return null; }
    }

    /// <summary><c>GET /.well-known/jwks.json</c>: one OKP key per organization, <c>kid</c> = organization id.</summary>
    public JsonObject Jwks()
    {
        var keys = new JsonArray();
        foreach (var org in orgs.All())
        {
            var jwk = new JsonObject();
            foreach (var (k, v) in KeyFor(org).ToJwk(org.Id)) jwk[k] = v;
            keys.Add(jwk);
        }
        return new JsonObject { ["keys"] = keys };
    }
}
