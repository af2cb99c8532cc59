using System.Security.Cryptography;
using System.Text;
using Fanfare.Emulator.Auth.CustomerTokens;
using Tokens = Fanfare.Emulator.Auth.CustomerTokens.CustomerTokens;

namespace Fanfare.Emulator.Tests.Auth.CustomerTokens;

/// <summary>The pure parser/verifier: token format, signature and expiry, without a server.</summary>
public class CustomerTokenFormatTests
{
    private const string Secret = "ctsec_test_unit";
    private const long Now = 1_776_500_000;

    /// <summary>An independent reference signer: lowercase hex HMAC-SHA256(secret, payload).</summary>
    internal static string Signed(string payload, string secret = Secret) =>
        $"HMAC-SHA256 {payload}:{Convert.ToHexString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(payload))).ToLowerInvariant()}";

    [Theory]
    [InlineData("cust_1", "cust_1", false, null)]
    [InlineData("ro:cust_1", "cust_1", true, null)]
    [InlineData("exp:1776509029:cust_1", "cust_1", false, 1776509029L)]
    [InlineData("exp:1776509029:ro:cust_1", "cust_1", true, 1776509029L)]
    [InlineData("google-oauth2|1234", "google-oauth2|1234", false, null)]
    [InlineData("urn:acme:user:7", "urn:acme:user:7", false, null)]
    public void Valid_formats_verify_and_expose_their_parts(string payload, string id, bool readOnly, long? exp)
    {
        var v = Tokens.Verify(Signed(payload), Secret, Now);
        Assert.True(v.Valid, v.Reason);
        Assert.Equal(id, v.Token!.CustomerId);
        Assert.Equal(readOnly, v.Token.ReadOnly);
        Assert.Equal(exp, v.Token.ExpiresAt);
    }

    [Theory]
    [InlineData("ro:exp:1776509029:cust_1")]   // wrong order
    [InlineData("exp:17765090290:cust_1")]     // 11-digit exp
    [InlineData("exp:177650902:cust_1")]       // 9-digit exp
    [InlineData("exp:177650902a:cust_1")]      // not digits
    [InlineData("exp:1776509029cust_1")]       // missing separator after exp
    [InlineData("exp:1776509029:")]            // empty id
    [InlineData("ro:")]                        // empty id
    [InlineData("")]                           // empty id
    [InlineData("ro:ro:cust_1")]               // duplicated prefix
    [InlineData("exp:1776509029:exp:1776509029:cust_1")]
    [InlineData("cust 1")]                     // whitespace in id
    public void Invalid_payloads_are_invalid_format_even_when_correctly_signed(string payload)
    {
        var v = Tokens.Verify(Signed(payload), Secret, Now);
        Assert.Equal(CustomerTokenFailure.InvalidFormat, v.Failure);
        Assert.Equal("Customer token has invalid format", v.Message);
    }

    [Fact]
    public void Framing_errors_are_invalid_format()
    {
        var good = Signed("cust_1");
        var sig = good[(good.LastIndexOf(':') + 1)..];
        foreach (var token in new[]
                 {
                     null, "", "cust_1:" + sig,                 // missing prefix
                     "HMAC-SHA256cust_1:" + sig,                // missing space
                     "hmac-sha256 cust_1:" + sig,               // prefix is case-sensitive
                     "Bearer cust_1:" + sig,
                     "HMAC-SHA256 cust_1" + sig,                // missing ':' separator
                     "HMAC-SHA256 cust_1:",                     // missing signature
                     "HMAC-SHA256 cust_1:" + sig[..63],         // short signature
                     "HMAC-SHA256 cust_1:" + sig + "0",         // long signature
                     "HMAC-SHA256 cust_1:" + new string('g', 64),
                     "HMAC-SHA256 :" + sig,                     // empty id
                     " " + good, good + " ",
                 })
            Assert.Equal(CustomerTokenFailure.InvalidFormat, Tokens.Verify(token, Secret, Now).Failure);
    }

    [Fact]
    public void Wrong_secret_tampered_payload_or_uppercase_hex_is_a_bad_signature()
    {
        Assert.Equal(CustomerTokenFailure.InvalidSignature, Tokens.Verify(Signed("cust_1", "other"), Secret, Now).Failure);
        var sig = Signed("cust_1")[^64..];
        Assert.Equal(CustomerTokenFailure.InvalidSignature, Tokens.Verify("HMAC-SHA256 cust_2:" + sig, Secret, Now).Failure);
        Assert.Equal(CustomerTokenFailure.InvalidSignature, Tokens.Verify("HMAC-SHA256 ro:cust_1:" + sig, Secret, Now).Failure);
        Assert.Equal(CustomerTokenFailure.InvalidSignature, Tokens.Verify("HMAC-SHA256 cust_1:" + sig.ToUpperInvariant(), Secret, Now).Failure);
        Assert.Equal("Customer token has invalid signature", Tokens.Verify(Signed("cust_1", "other"), Secret, Now).Message);
    }

    [Fact]
    public void Expiry_is_judged_against_the_given_now_after_the_signature()
    {
        var token = Signed("exp:1776509029:cust_1");
        Assert.True(Tokens.Verify(token, Secret, 1776509028).Valid);
        Assert.Equal(CustomerTokenFailure.Expired, Tokens.Verify(token, Secret, 1776509029).Failure);
        Assert.Equal("Customer token has expired", Tokens.Verify(token, Secret, 1776509030).Message);
        // a forged expired token is a signature failure, not "expired"
        Assert.Equal(CustomerTokenFailure.InvalidSignature, Tokens.Verify(Signed("exp:1776509029:cust_1", "x"), Secret, 1776509030).Failure);
    }

    [Fact]
    public void Mint_matches_the_reference_signer_and_refuses_bad_input()
    {
        Assert.Equal(Signed("cust_1"), Tokens.Mint(Secret, "cust_1"));
        Assert.Equal(Signed("exp:1776509029:ro:cust_1"), Tokens.Mint(Secret, "cust_1", readOnly: true, expiresAt: 1776509029));
        Assert.Throws<ArgumentException>(() => Tokens.Mint(Secret, ""));
        Assert.Throws<ArgumentException>(() => Tokens.Mint(Secret, "ro:x"));
        Assert.Throws<ArgumentException>(() => Tokens.Mint(Secret, "cust_1", expiresAt: 17765090290));
    }
}
