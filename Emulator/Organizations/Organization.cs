using System.Text.Json.Nodes;
using Fanfare.Emulator.Infrastructure.Ids;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Organizations;

/// <summary>
/// A merchant organization and its well-known credentials. Every key is derived from the organization's name in the seed,
/// so the same name gives the same keys on every machine and every run (like Azurite's well-known account).
/// </summary>
[SharedAcrossModes]
public sealed class Organization : IDocument
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string Slug { get; set; } = "";
    public string TimeZone { get; set; } = "UTC";
    public string CurrencyCode { get; set; } = "USD";
    public string CountryCode { get; set; } = "US";
    public string LanguageCode { get; set; } = "en";
    /// <summary>admin-part3.md <c>Organization.companyUrl</c> (uri | null).</summary>
    public string? CompanyUrl { get; set; }
    /// <summary><c>EMAIL</c> or <c>SMS</c> (admin-part3.md <c>PUT /organizations</c>).</summary>
    public string DefaultMessagingChannel { get; set; } = "EMAIL";
    /// <summary>Hosts allowed to embed the organization's pages (null = not set).</summary>
    public List<string>? EmbeddingAllowedHosts { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public string PublishableKey { get; set; } = "";
    public string SecretKey { get; set; } = "";
    public string LivePublishableKey { get; set; } = "";
    public string LiveSecretKey { get; set; } = "";
    /// <summary>Default webhook signing secret (<c>whsec_…</c>) for endpoints created without one.</summary>
    public string WebhookSecret { get; set; } = "";
    /// <summary>Client-side security signing secret, test environment.</summary>
    public string CustomerTokenSecret { get; set; } = "";
    /// <summary>Client-side security signing secret, live environment.</summary>
    public string LiveCustomerTokenSecret { get; set; } = "";
    /// <summary>Ed25519 private key seed (32 bytes, base64) for this organization's JWTs and admission grants.</summary>
    public string SigningKeySeed { get; set; } = "";
    /// <summary>The organization's entry in the seed file, for feature modules to read their sections.</summary>
    public JsonObject? Seed { get; set; }

    /// <summary>Derives every credential from <paramref name="name"/> (or, for a sandbox's organization, from
    /// <paramref name="derivedFrom"/>: the sandbox name mixed with the organization name).</summary>
    public static Organization Create(string name, string? id, DateTimeOffset now, string? derivedFrom = null)
    {
        var basis = derivedFrom ?? name;
        string Key(string purpose, string prefix, int len = 32) => prefix + IdGenerator.Base32(IdGenerator.Derive(purpose, basis), len);
        return new Organization
        {
            Id = id ?? IdGenerator.DeriveUuid("organization-id", basis),
            Name = name,
            Slug = Slugify(name),
            CreatedAt = now, UpdatedAt = now,
            PublishableKey = Key("pk_test", "pk_test_"),
            SecretKey = Key("sk_test", "sk_test_"),
            LivePublishableKey = Key("pk_live", "pk_live_"),
            LiveSecretKey = Key("sk_live", "sk_live_"),
            WebhookSecret = Key("whsec", "whsec_"),
            CustomerTokenSecret = Key("customer-token/test", "ctsec_test_"),
            LiveCustomerTokenSecret = Key("customer-token/live", "ctsec_live_"),
            SigningKeySeed = Convert.ToBase64String(IdGenerator.Derive("ed25519", basis)),
        };
    }

    public static string Slugify(string name)
    {
        var chars = name.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray();
        var slug = string.Join('-', new string(chars).Split('-', StringSplitOptions.RemoveEmptyEntries));
        return slug.Length == 0 ? "org" : slug;
    }
}

/// <summary>Which of an organization's keys a request presented.</summary>
public enum CredentialKind { None, Publishable, Secret }

/// <summary>Finds organizations by id or key.</summary>
public sealed class OrganizationDirectory(DocumentStore store)
{
    // Every request resolves its key (and a token's organization): both are cached until an organization is written (or
    // a reset or rollback), so a rotated key, a deleted sandbox organization or a reset is seen on the very next request.
    private readonly StoreReadCache<string, (Organization Org, CredentialKind Kind, string Environment)?> _byKey = new(store, dependsOn: typeof(Organization));
    private readonly StoreReadCache<string, Organization?> _byId = new(store, dependsOn: typeof(Organization));

    public Organization? ById(string? id) => id is null ? null : _byId.Get(id, () => store.Get<Organization>(id));

    public List<Organization> All() => store.All<Organization>();

    /// <summary>Resolves a key to its organization, kind (publishable/secret) and environment (<c>test</c>/<c>live</c>).</summary>
    public (Organization Org, CredentialKind Kind, string Environment)? ByKey(string? key)
    {
        if (string.IsNullOrEmpty(key)) return null;
        return _byKey.Get(key, () =>
        {
            foreach (var o in store.All<Organization>())
            {
                if (key == o.PublishableKey) return (o, CredentialKind.Publishable, "test");
                if (key == o.SecretKey) return (o, CredentialKind.Secret, "test");
                if (key == o.LivePublishableKey) return (o, CredentialKind.Publishable, "live");
                if (key == o.LiveSecretKey) return (o, CredentialKind.Secret, "live");
            }
            return null;
        });
    }
}
