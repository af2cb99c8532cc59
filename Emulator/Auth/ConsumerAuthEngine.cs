using System.Text.Json.Nodes;
using Fanfare.Emulator.Auth;
using Fanfare.Emulator.Consumers;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Messaging;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Ids;
using Fanfare.Emulator.Infrastructure.Store;
using Fanfare.Emulator.Organizations;
using ConsumerDoc = Fanfare.Emulator.Consumers.Consumer;

namespace Fanfare.Emulator.Auth;

/// <summary>Which one-time codes are fixed: all of them (<c>otp.fixedCode</c>), or per recipient (<c>otp.fixedCodes</c>).</summary>
public sealed class OtpSettings
{
    public string? FixedCode { get; set; }
    public Dictionary<string, string> FixedCodes { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    public static OtpSettings From(JsonObject seed)
    {
        var s = new OtpSettings();
        s.Load(seed);
        return s;
    }

    /// <summary>Reads the seed's top-level <c>otp</c> section: <c>{fixedCode?, fixedCodes?: {recipient: code}}</c>.</summary>
    public void Load(JsonObject seed)
    {
        FixedCode = seed["otp"]?["fixedCode"]?.GetValue<string>();
        FixedCodes.Clear();
        if (seed["otp"]?["fixedCodes"] is JsonObject fixedCodes)
            foreach (var (k, v) in fixedCodes)
                if (v?.GetValue<string>() is { } code) FixedCodes[k.Trim().ToLowerInvariant()] = code;
    }
}

/// <summary>
/// Passwordless consumer authentication (behavior.md §2): guest sessions, email/SMS one-time codes, and external
/// identities (authorize → exchange). Knows nothing of HTTP; errors are <see cref="ApiException"/>s with contract bodies.
/// </summary>
public sealed class ConsumerAuthEngine(
    DocumentStore store, IdGenerator ids, ClockResolver clocks, ConsumerDirectory consumers, SessionIssuer sessions,
    MessageOutbox messages, OtpSettings otp, EmulatorOptions options)
{
    public const string OtpExpiredMessage = "Your verification code has expired. Please request a new one.";
    public const string OtpInvalidMessage = "Invalid verification code. Please try again.";
    public const int MaxClaimsJsonChars = 10_000;
    public static readonly TimeSpan ExchangeCodeLifetime = TimeSpan.FromSeconds(60);

    /// <summary><c>POST /auth/guest</c>: a new guest consumer and its session.</summary>
    public JsonObject Guest(Organization org)
    {
        return store.Transaction(() =>
        {
            var consumer = consumers.Create(org.Id, "guest", guest: true);
            return sessions.Open(org, consumer);
        });
    }

    /// <summary><c>POST /auth/otp/request</c>: sends a 6-digit code valid 10 minutes (the 429 past 10 requests a minute per
    /// recipient is answered before, by <c>RateLimits/RateLimitMiddleware</c>).</summary>
    public void RequestOtp(Organization org, string channel, string recipient, string? name)
    {
        store.Transaction(() =>
        {
            var now = clocks.For(org.Id).GetUtcNow();
            // The 10-a-minute limit per recipient (behavior.md §5) is the authentication class of RateLimits/RateLimiter.
            var code = options.OtpFixedCode
                ?? (otp.FixedCodes.TryGetValue(recipient, out var fixedForRecipient) ? fixedForRecipient : null)
                ?? otp.FixedCode
                ?? ids.NewNumericCode("otp");
            var challenge = new OtpChallenge
            {
                Id = ids.NewPrefixed("otp_"), OrganizationId = org.Id, Channel = channel, Recipient = recipient, Code = code,
                Name = name, CreatedAt = now, ExpiresAt = now.AddSeconds(options.OtpTtlSeconds),
            };
            store.Put(challenge);
            var minutes = Math.Max(1, options.OtpTtlSeconds / 60);
            if (channel == "email")
                messages.SendEmail(org.Id, recipient, $"{org.Name} <no-reply@{org.Slug}.fanfare.local>",
                    $"Your {org.Name} verification code is {code}",
                    $"Your {org.Name} verification code is {code}.\r\nIt expires in {minutes} minutes. If you did not ask for it, ignore this email.",
                    $"<p>Your {System.Net.WebUtility.HtmlEncode(org.Name)} verification code is</p><p style=\"font-size:28px;letter-spacing:4px\"><strong>{code}</strong></p><p>It expires in {minutes} minutes.</p>",
                    code);
            else
                messages.SendSms(org.Id, recipient, org.Name, $"{code} is your {org.Name} verification code. It expires in {minutes} minutes.", code);
        });
    }

    /// <summary>
    /// <c>POST /auth/otp/verify</c>. 401 <c>otp_invalid</c> for a wrong, used or unknown code; 401 <c>otp_expired</c> past
    /// 10 minutes or after <see cref="EmulatorOptions.OtpMaxAttempts"/> wrong tries (the code is burned). Holding a guest
    /// session links that guest: the same consumerId becomes authenticated and keeps its history; 409
    /// <c>already_linked</c> when the email/phone already belongs to another consumer.
    /// </summary>
    public JsonObject VerifyOtp(Organization org, string channel, string recipient, string code, ConsumerPrincipal? current)
    {
        var result = store.Transaction<object>(() =>
        {
            var now = clocks.For(org.Id).GetUtcNow();
            var challenge = store.Where<OtpChallenge>(c => c.OrganizationId == org.Id && c.Channel == channel && c.Recipient == recipient && c.UsedAt is null)
                .LastOrDefault();
            if (challenge is null) return ApiErrors.Unauthorized("otp_invalid", OtpInvalidMessage);
            if (now > challenge.ExpiresAt || challenge.FailedAttempts >= options.OtpMaxAttempts)
                return ApiErrors.Unauthorized("otp_expired", OtpExpiredMessage);
            if (!string.Equals(challenge.Code, code.Trim(), StringComparison.Ordinal))
            {
                challenge.FailedAttempts++;
                store.Put(challenge);
                return ApiErrors.Unauthorized("otp_invalid", OtpInvalidMessage);
            }

            var existing = channel == "email" ? consumers.ByEmail(org.Id, recipient) : consumers.ByPhone(org.Id, recipient);
            var guest = current is { IsGuest: true } ? consumers.Get(org.Id, current.ConsumerId) : null;
            if (guest is not null && existing is not null && existing.Id != guest.Id)
                return ApiErrors.Conflict("already_linked", "This " + (channel == "email" ? "email" : "phone number") + " is already linked to another consumer.");

            challenge.UsedAt = now;
            store.Put(challenge);

            ConsumerDoc consumer;
            if (guest is not null)
            {
                consumer = guest;
                if (channel == "email") consumer.Email = recipient; else consumer.Phone = recipient;
                consumer.IsGuest = false;
                var changed = new List<string> { channel == "email" ? "email" : "phone", "isGuest" };
                if (consumer.FullName is null && challenge.Name is not null) { consumer.FullName = challenge.Name; changed.Add("fullName"); }
                consumers.Updated(consumer, [.. changed]);
                sessions.Revoke(current!.SessionId, "linked");
            }
            else if (existing is not null)
            {
                consumer = existing;
                if (consumer.IsGuest || (consumer.FullName is null && challenge.Name is not null))
                {
                    var changed = new List<string>();
                    if (consumer.IsGuest) { consumer.IsGuest = false; changed.Add("isGuest"); }
                    if (consumer.FullName is null && challenge.Name is not null) { consumer.FullName = challenge.Name; changed.Add("fullName"); }
                    consumers.Updated(consumer, [.. changed]);
                }
            }
            else
            {
                consumer = consumers.Create(org.Id, "otp_login",
                    email: channel == "email" ? recipient : null, phone: channel == "sms" ? recipient : null, fullName: challenge.Name);
            }
            return sessions.Open(org, consumer);
        });
        return result is ApiException ex ? throw ex : (JsonObject)result;
    }

    /// <summary>
    /// <c>POST /auth/external/authorize</c> (secret key): resolves (provider, issuer, subject) to a consumer —
    /// <c>existing</c> identity, <c>linked</c> through <c>canonicalSubject</c>, or <c>created</c> — backfills empty consumer
    /// fields from the claims, and returns a 60-second single-use exchange code.
    /// </summary>
    public JsonObject Authorize(Organization org, string provider, string issuer, string subject, string? canonicalSubject, JsonObject? claims)
    {
        return store.Transaction(() =>
        {
            var now = clocks.For(org.Id).GetUtcNow();
            var identity = store.First<ExternalIdentity>(i => i.OrganizationId == org.Id && i.Provider == provider && i.Issuer == issuer && i.Subject == subject);
            string resolution;
            ConsumerDoc consumer;
            var email = claims?["email"] is JsonValue ev && ev.TryGetValue<string>(out var e) ? e.Trim().ToLowerInvariant() : null;
            var fullName = (claims?["fullName"] ?? claims?["name"]) is JsonValue nv && nv.TryGetValue<string>(out var n) ? n : null;
            if (identity is not null)
            {
                resolution = "existing";
                consumer = consumers.Get(org.Id, identity.ConsumerId)!;
                if (canonicalSubject is not null && canonicalSubject != identity.CanonicalSubject)
                {
                    identity.CanonicalSubjectDisagreements.Add(canonicalSubject);
                    store.Put(identity);
                }
            }
            else
            {
                var sibling = canonicalSubject is null ? null
                    : store.First<ExternalIdentity>(i => i.OrganizationId == org.Id && i.CanonicalSubject == canonicalSubject);
                if (sibling is not null)
                {
                    resolution = "linked";
                    consumer = consumers.Get(org.Id, sibling.ConsumerId)!;
                }
                else
                {
                    resolution = "created";
                    // No auto-linking by email, and no second consumer with another's email: the claim is then dropped.
                    var freeEmail = email is not null && consumers.ByEmail(org.Id, email) is null ? email : null;
                    consumer = consumers.Create(org.Id, "external_auth", email: freeEmail, fullName: fullName);
                }
                identity = new ExternalIdentity
                {
                    Id = ids.NewUuid("identity"), OrganizationId = org.Id, Provider = provider, Issuer = issuer, Subject = subject,
                    CanonicalSubject = canonicalSubject, ConsumerId = consumer.Id, Email = email, Claims = claims, CreatedAt = now,
                };
                store.Put(identity);
            }

            var changed = new List<string>();
            if (consumer.Email is null && email is not null && consumers.ByEmail(org.Id, email) is null) { consumer.Email = email; changed.Add("email"); }
            if (consumer.FullName is null && fullName is not null) { consumer.FullName = fullName; changed.Add("fullName"); }
            if (consumer.IsGuest) { consumer.IsGuest = false; changed.Add("isGuest"); }
            consumers.Updated(consumer, [.. changed]);

            var code = new ExchangeCode
            {
                Id = ids.NewPrefixed("exc_", 32), OrganizationId = org.Id, IdentityId = identity.Id, ConsumerId = consumer.Id,
                ExpiresAt = now + ExchangeCodeLifetime,
            };
            store.Put(code);
            return new JsonObject { ["exchangeCode"] = code.Id, ["expiresAt"] = Json.Iso(code.ExpiresAt), ["resolution"] = resolution };
        });
    }

    /// <summary>
    /// <c>POST /auth/external/exchange</c>: 401 <c>invalid_exchange_code</c> (unknown, used, or another organization's),
    /// 401 <c>exchange_code_expired</c> (past 60 s), 409 <c>consumer_conflict</c> when the caller already holds a session
    /// of a different signed-in consumer.
    /// </summary>
    public JsonObject Exchange(Organization org, string exchangeCode, ConsumerPrincipal? current)
    {
        var result = store.Transaction<object>(() =>
        {
            var code = store.Get<ExchangeCode>(exchangeCode);
            if (code is null || code.OrganizationId != org.Id || code.UsedAt is not null)
                return ApiErrors.Unauthorized("invalid_exchange_code", "The exchange code is invalid or has already been used.");
            var now = clocks.For(org.Id).GetUtcNow();
            if (now > code.ExpiresAt)
                return ApiErrors.Unauthorized("exchange_code_expired", "The exchange code has expired. Exchange codes are valid for 60 seconds.");
            if (current is { IsGuest: false } && current.ConsumerId != code.ConsumerId)
                return ApiErrors.Conflict("consumer_conflict", "This external identity is already linked to a different consumer.");
            code.UsedAt = now;
            store.Put(code);
            var consumer = consumers.Get(org.Id, code.ConsumerId)!;
            return sessions.Open(org, consumer);
        });
        return result is ApiException ex ? throw ex : (JsonObject)result;
    }
}
