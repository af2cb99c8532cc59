using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Fanfare.Emulator.Tests.Infrastructure;
using NSec.Cryptography;

namespace Fanfare.Emulator.Tests.Auth;

/// <summary>
/// behavior.md §2.4: EdDSA JWTs with header exactly <c>{"alg":"EdDSA","typ":"JWT"}</c> and the union of the documented
/// claim sets; the JWKS at <c>/.well-known/jwks.json</c> verifies them with nothing else (own Ed25519 provider below).
/// </summary>
public sealed class TokenTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    [Fact]
    public async Task Header_is_exactly_EdDSA_JWT_for_every_token()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var guest = (await emu.PostGuestAsync(org.PublishableKey)).EnsureStatus(200);
        foreach (var key in new[] { "accessToken", "refreshToken", "beaconToken" })
            Assert.Equal("""{"alg":"EdDSA","typ":"JWT"}""", Jwt.HeaderJson(guest[key].GetValue<string>()));
    }

    [Fact]
    public async Task Guest_access_token_claims()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var now = await emu.FreezeClockAsync(new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero));
        var guest = (await emu.PostGuestAsync(org.PublishableKey)).EnsureStatus(200);
        var consumerId = guest["session"]["consumerId"].GetValue<string>();
        var c = Jwt.Payload(guest["accessToken"].GetValue<string>());

        Assert.Equal(
            new[] { "consumerId", "exp", "iat", "isGuest", "iss", "org", "organizationId", "sessionId", "sub", "type" },
            c.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal(consumerId, c["consumerId"]!.GetValue<string>());
        Assert.Equal(consumerId, c["sub"]!.GetValue<string>());
        Assert.Equal(org.Id, c["organizationId"]!.GetValue<string>());
        Assert.Equal(org.Id, c["org"]!.GetValue<string>());
        Assert.True(c["isGuest"]!.GetValue<bool>());
        Assert.Equal("consumer", c["type"]!.GetValue<string>());
        Assert.Equal("consumer-app", c["iss"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(c["sessionId"]!.GetValue<string>()));
        Assert.Equal(now.ToUnixTimeSeconds(), c["iat"]!.GetValue<long>());
        Assert.Equal(now.ToUnixTimeSeconds() + 3600, c["exp"]!.GetValue<long>());
    }

    [Fact]
    public async Task Signed_in_access_token_carries_email()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var r = await emu.EmailSignInAsync(org.PublishableKey, "claims@example.com");
        var c = Jwt.Payload(r["accessToken"]!.GetValue<string>());
        Assert.Equal("claims@example.com", c["email"]!.GetValue<string>());
        Assert.False(c["isGuest"]!.GetValue<bool>());
        Assert.Equal("consumer", c["type"]!.GetValue<string>());
        Assert.Equal(r["session"]!["consumerId"]!.GetValue<string>(), c["sub"]!.GetValue<string>());
    }

    [Fact]
    public async Task Jwks_is_served_on_the_consumer_and_admin_ports()
    {
        await emu.ResetAsync();
        var orgs = await emu.OrganizationsAsync();
        foreach (var client in new[] { emu.Consumer, emu.Admin })
        {
            var jwks = await client.GetJsonAsync("/.well-known/jwks.json");
            var keys = jwks["keys"]!.AsArray();
            Assert.Equal(orgs.Count, keys.Count);
            foreach (var k in keys)
            {
                Assert.Equal("OKP", k!["kty"]!.GetValue<string>());
                Assert.Equal("Ed25519", k["crv"]!.GetValue<string>());
                Assert.Equal(32, Base64UrlEncoder.DecodeBytes(k["x"]!.GetValue<string>()).Length);
                Assert.Null(k["d"]); // never the private part
            }
            Assert.Equal(orgs.Select(o => o.Id).Order(), keys.Select(k => k!["kid"]!.GetValue<string>()).Order());
        }
    }

    [Fact]
    public async Task Access_token_verifies_with_only_the_jwks()
    {
        await emu.ResetAsync();
        var orgs = await emu.OrganizationsAsync();
        var token = (await emu.PostGuestAsync(orgs[0].PublishableKey)).EnsureStatus(200)["accessToken"].GetValue<string>();
        var jwks = await emu.Consumer.GetJsonAsync("/.well-known/jwks.json");
        var keys = jwks["keys"]!.AsArray().Select(k => new TestEd25519Key(Base64UrlEncoder.DecodeBytes(k!["x"]!.GetValue<string>())) { KeyId = k["kid"]!.GetValue<string>() }).ToList();

        var handler = new JsonWebTokenHandler();
        TokenValidationParameters Params(IEnumerable<SecurityKey> signingKeys) => new()
        {
            IssuerSigningKeys = signingKeys, ValidIssuer = "consumer-app", ValidateAudience = false,
            ValidateLifetime = true, RequireSignedTokens = true, ValidAlgorithms = ["EdDSA"],
        };

        var ok = handler.ValidateToken(token, Params(keys));
        Assert.True(ok.IsValid, $"token did not verify: {ok.Exception}");
        Assert.Equal(orgs[0].Id, ok.Claims["organizationId"]);

        // It verifies with its organization's key, not with another organization's.
        Assert.True(handler.ValidateToken(token, Params(keys.Where(k => k.KeyId == orgs[0].Id))).IsValid);
        Assert.False(handler.ValidateToken(token, Params(keys.Where(k => k.KeyId != orgs[0].Id))).IsValid);

        // A changed payload fails.
        var parts = token.Split('.');
        var forged = Jwt.Payload(token);
        forged["consumerId"] = "someone-else";
        var tampered = parts[0] + "." + Base64UrlEncoder.Encode(forged.ToJsonString()) + "." + parts[2];
        Assert.False(handler.ValidateToken(tampered, Params(keys)).IsValid);
    }
}

/// <summary>An Ed25519 public key (RFC 8037 OKP <c>x</c>) for IdentityModel, which has no EdDSA of its own.</summary>
internal sealed class TestEd25519Key : AsymmetricSecurityKey
{
    public TestEd25519Key(byte[] x)
    {
        PublicKey = NSec.Cryptography.PublicKey.Import(SignatureAlgorithm.Ed25519, x, KeyBlobFormat.RawPublicKey);
        CryptoProviderFactory = new CryptoProviderFactory { CustomCryptoProvider = new TestEdDsaProvider(), CacheSignatureProviders = false };
    }

    public NSec.Cryptography.PublicKey PublicKey { get; }
    public override int KeySize => 256;
    [Obsolete("HasPrivateKey is obsolete in IdentityModel; use PrivateKeyStatus.")]
    public override bool HasPrivateKey => false;
    public override PrivateKeyStatus PrivateKeyStatus => PrivateKeyStatus.DoesNotExist;
}

/// <summary>Verification-only <c>EdDSA</c> for <see cref="TestEd25519Key"/>, with NSec (libsodium).</summary>
internal sealed class TestEdDsaProvider : ICryptoProvider
{
    public bool IsSupportedAlgorithm(string algorithm, params object[] args) => algorithm == "EdDSA" && args.Length > 0 && args[0] is TestEd25519Key;
    public object Create(string algorithm, params object[] args) => new Verifier((TestEd25519Key)args[0], algorithm);
    public void Release(object cryptoInstance) { }

    private sealed class Verifier(TestEd25519Key key, string algorithm) : SignatureProvider(key, algorithm)
    {
        public override byte[] Sign(byte[] input) => throw new NotSupportedException("verification only");

        public override bool Verify(byte[] input, byte[] signature) => SignatureAlgorithm.Ed25519.Verify(key.PublicKey, input, signature);

        // IdentityModel 8 verifies through this overload.
        public override bool Verify(byte[] input, int inputOffset, int inputLength, byte[] signature, int signatureOffset, int signatureLength) =>
            SignatureAlgorithm.Ed25519.Verify(key.PublicKey, input.AsSpan(inputOffset, inputLength), signature.AsSpan(signatureOffset, signatureLength));

        protected override void Dispose(bool disposing) { }
    }
}
