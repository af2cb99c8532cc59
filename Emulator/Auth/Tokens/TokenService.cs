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
    /// Tokens whose signature was already verified, with the signing-key seed they verified against. The signature of an
    /// unchanging string under an unchanging key does not change, so the same token string under the same key is not
    /// verified again; any other string (a tampered token, another key) is verified in full. Only the signature is
    /// remembered: callers check expiry (emulator clock), token type and session revocation on every request.
    /// Bounded: emptied when it reaches <see cref="VerifiedCacheLimit"/> entries.
    /// </summary>
    private readonly ConcurrentDictionary<string, string> _verified = new(StringComparer.Ordinal);
    internal const int VerifiedCacheLimit = 50_000;

    public Ed25519SecurityKey KeyFor(Organization org) =>
        _keys.GetOrAdd(org.SigningKeySeed, s => Ed25519SecurityKey.FromSeed(Convert.FromBase64String(s)));

    /// <summary>Signs <paramref name="payload"/> (claims in the given order).</summary>
    public string Sign(Organization org, JsonObject payload) =>
        _handler.CreateToken(payload.ToJsonString(), new SigningCredentials(KeyFor(org), EdDsaCryptoProvider.Algorithm));

    /// <summary>Reads a token's claims without verifying it (null when it is not a JWT).</summary>
    public static JsonObject? Peek(string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Count(c => c == '.') != 2) return null;
        try
        {
            var payload = Base64UrlEncoder.Decode(token.Split('.')[1]);
            return JsonNode.Parse(payload) as JsonObject;
        }
        catch (Exception) { return null; }
    }

    /// <summary>The claims when the signature is <paramref name="org"/>'s and the algorithm EdDSA; otherwise null.</summary>
    public JsonObject? Verify(Organization org, string? token)
    {
        if (string.IsNullOrEmpty(token)) return null;
        if (_verified.TryGetValue(token, out var seed) && seed == org.SigningKeySeed) return Peek(token);
        try
        {
            var result = _handler.ValidateToken(token, new TokenValidationParameters
            {
                IssuerSigningKey = KeyFor(org),
                ValidateIssuer = false, ValidateAudience = false, ValidateLifetime = false,
                RequireExpirationTime = false, RequireSignedTokens = true, ValidAlgorithms = [EdDsaCryptoProvider.Algorithm],
            });
            if (!result.IsValid) return null;
            var claims = Peek(token);
            if (claims is not null)
            {
                if (_verified.Count >= VerifiedCacheLimit) _verified.Clear();
                _verified[token] = org.SigningKeySeed;
            }
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
