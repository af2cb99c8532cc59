using System.Text.Json.Nodes;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Auth;

/// <summary>A one-time code sent by email or SMS (behavior.md §2.2: 6 digits, 10 minutes, single use).</summary>
public sealed class OtpChallenge : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    /// <summary><c>email</c> or <c>sms</c>.</summary>
    public string Channel { get; set; } = "email";
    /// <summary>Lower-cased email or E.164 phone.</summary>
    public string Recipient { get; set; } = "";
    public string Code { get; set; } = "";
    public string? Name { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public int FailedAttempts { get; set; }
    public DateTimeOffset? UsedAt { get; set; }
}

/// <summary>An external identity: unique (provider, issuer, subject) per organization (behavior.md §2.3).</summary>
public sealed class ExternalIdentity : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public string Provider { get; set; } = "";
    public string Issuer { get; set; } = "";
    public string Subject { get; set; } = "";
    public string? CanonicalSubject { get; set; }
    public string ConsumerId { get; set; } = "";
    public string? Email { get; set; }
    public JsonObject? Claims { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>A later authorize asserted another canonicalSubject; recorded, never acted on.</summary>
    public List<string> CanonicalSubjectDisagreements { get; set; } = [];
}

/// <summary>A one-time exchange code <c>exc_…</c> (60 s, single use).</summary>
public sealed class ExchangeCode : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public string IdentityId { get; set; } = "";
    public string ConsumerId { get; set; } = "";
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? UsedAt { get; set; }
}
