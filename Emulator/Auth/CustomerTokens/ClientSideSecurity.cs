using Fanfare.Emulator.Auth;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Infrastructure.Store;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.Auth.CustomerTokens;

/// <summary>
/// An organization's client-side security enforcement flags, one per environment (test keys / live keys). No document
/// means "not enforced" in both. Survives restarts (store); cleared by <c>POST /_emulator/reset</c>, which re-applies
/// the seed's <c>clientSideSecurity</c> section.
/// </summary>
[SharedAcrossModes]
public sealed class ClientSideSecuritySettings : IDocument
{
    /// <summary>The organization id.</summary>
    public string Id { get; set; } = "";
    public bool TestEnforced { get; set; }
    public bool LiveEnforced { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>
/// Client-side security (customer tokens for publishable-key requests): the enforcement flags, the signing secret per
/// environment (<see cref="Organization.CustomerTokenSecret"/> for <c>test</c>,
/// <see cref="Organization.LiveCustomerTokenSecret"/> for <c>live</c>), verification against the emulator clock, and the
/// mapping of a token's customer id to consumers. Knows nothing of HTTP.
/// </summary>
public sealed class ClientSideSecurityService(DocumentStore store, ClockResolver clocks)
{
    public static readonly string[] Environments = ["test", "live"];

    public bool IsEnforced(string organizationId, string environment)
    {
        var s = store.Get<ClientSideSecuritySettings>(organizationId);
        return s is not null && (environment == "live" ? s.LiveEnforced : s.TestEnforced);
    }

    /// <summary>Sets one environment's flag; returns the organization's settings (created on first use).</summary>
    public ClientSideSecuritySettings SetEnforced(string organizationId, string environment, bool enforced) =>
        store.Transaction(() =>
        {
            var s = store.Get<ClientSideSecuritySettings>(organizationId) ?? new ClientSideSecuritySettings { Id = organizationId };
            if (environment == "live") s.LiveEnforced = enforced; else s.TestEnforced = enforced;
            s.UpdatedAt = clocks.For(organizationId).GetUtcNow();
            return store.Put(s);
        });

    /// <summary>The settings, or "not enforced" defaults when none were stored.</summary>
    public ClientSideSecuritySettings Get(string organizationId) =>
        store.Get<ClientSideSecuritySettings>(organizationId) ?? new ClientSideSecuritySettings { Id = organizationId };

    /// <summary>The signing secret of <paramref name="environment"/> (<c>test</c> or <c>live</c>).</summary>
    public static string SecretFor(Organization org, string environment) =>
        environment == "live" ? org.LiveCustomerTokenSecret : org.CustomerTokenSecret;

    /// <summary>Verifies a token with the environment's secret at the organization's emulator-clock now.</summary>
    public CustomerTokenVerification Verify(Organization org, string environment, string? token) =>
        CustomerTokens.Verify(token, SecretFor(org, environment), clocks.For(org.Id).GetUtcNow().ToUnixTimeSeconds());

    /// <summary>
    /// The consumers a customer id names in <paramref name="organizationId"/>: the consumer whose id it is, and the
    /// consumers of every external identity whose <c>subject</c> it is. Empty when it names no one (yet).
    /// </summary>
    public HashSet<string> ConsumersFor(string organizationId, string customerId)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        if (store.Get<Fanfare.Emulator.Consumers.Consumer>(customerId) is { } c && c.OrganizationId == organizationId) ids.Add(c.Id);
        foreach (var identity in store.Where<ExternalIdentity>(i => i.OrganizationId == organizationId && i.Subject == customerId))
            ids.Add(identity.ConsumerId);
        return ids;
    }
}
