using Microsoft.IdentityModel.Tokens;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace Fanfare.Emulator.Auth.Tokens;

/// <summary>An Ed25519 key for IdentityModel (which has no EdDSA of its own in 6.8), backed by BouncyCastle.</summary>
public sealed class Ed25519SecurityKey : AsymmetricSecurityKey
{
    public Ed25519SecurityKey(Ed25519PublicKeyParameters publicKey, Ed25519PrivateKeyParameters? privateKey = null)
    {
        PublicKey = publicKey;
        PrivateKey = privateKey;
        CryptoProviderFactory = new CryptoProviderFactory { CustomCryptoProvider = new EdDsaCryptoProvider(), CacheSignatureProviders = false };
    }

    /// <summary>From a 32-byte private seed.</summary>
    public static Ed25519SecurityKey FromSeed(byte[] seed)
    {
        var priv = new Ed25519PrivateKeyParameters(seed, 0);
        return new Ed25519SecurityKey(priv.GeneratePublicKey(), priv);
    }

    /// <summary>From the raw 32-byte public key (a JWK's <c>x</c>).</summary>
    public static Ed25519SecurityKey FromPublic(byte[] x) => new(new Ed25519PublicKeyParameters(x, 0));

    public Ed25519PublicKeyParameters PublicKey { get; }
    public Ed25519PrivateKeyParameters? PrivateKey { get; }
    public override int KeySize => 256;
    [Obsolete("HasPrivateKey is obsolete in IdentityModel; use PrivateKeyStatus.")]
    public override bool HasPrivateKey => PrivateKey is not null;
    public override PrivateKeyStatus PrivateKeyStatus => PrivateKey is null ? PrivateKeyStatus.DoesNotExist : PrivateKeyStatus.Exists;

    /// <summary>The public JWK of RFC 8037: <c>{kty:"OKP", crv:"Ed25519", x, kid, alg:"EdDSA", use:"sig"}</c>.</summary>
    public Dictionary<string, string> ToJwk(string kid) => new()
    {
        ["kty"] = "OKP", ["crv"] = "Ed25519", ["x"] = Base64UrlEncoder.Encode(PublicKey.GetEncoded()),
        ["kid"] = kid, ["alg"] = "EdDSA", ["use"] = "sig",
    };
}

/// <summary>Plugs <c>alg: EdDSA</c> into IdentityModel's crypto provider factory.</summary>
public sealed class EdDsaCryptoProvider : ICryptoProvider
{
    public const string Algorithm = "EdDSA";
    public bool IsSupportedAlgorithm(string algorithm, params object[] args) => algorithm == Algorithm && args.Length > 0 && args[0] is Ed25519SecurityKey;
    public object Create(string algorithm, params object[] args) => new EdDsaSignatureProvider((Ed25519SecurityKey)args[0], algorithm);
    public void Release(object cryptoInstance) { if (cryptoInstance is IDisposable d) d.Dispose(); }
}

internal sealed class EdDsaSignatureProvider(Ed25519SecurityKey key, string algorithm) : SignatureProvider(key, algorithm)
{
    public override byte[] Sign(byte[] input)
    {
        var signer = new Ed25519Signer();
        signer.Init(true, key.PrivateKey ?? throw new InvalidOperationException("no private key"));
        signer.BlockUpdate(input, 0, input.Length);
        return signer.GenerateSignature();
    }

    public override bool Verify(byte[] input, byte[] signature)
    {
        var verifier = new Ed25519Signer();
        verifier.Init(false, key.PublicKey);
        verifier.BlockUpdate(input, 0, input.Length);
        return verifier.VerifySignature(signature);
    }

    protected override void Dispose(bool disposing) { }
}
