using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Ids;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Organizations;

/// <summary>
/// Slug rules of behavior.md §10.4: 3–50 characters, lowercase letters, digits and hyphens, starting and ending with a
/// letter or digit, no <c>--</c>, and not one of the reserved words.
/// </summary>
public static partial class SlugRules
{
    public const int MinLength = 3, MaxLength = 50;

    public static readonly string[] Reserved =
        ["admin", "api", "app", "auth", "dashboard", "settings", "account", "fanfare", "waitify", "support", "www", "mail", "ftp", "cdn"];

    /// <summary>Null when <paramref name="slug"/> is well formed; otherwise <c>INVALID_FORMAT</c> or <c>RESERVED</c> and why.</summary>
    public static (string Reason, string Message)? Check(string slug)
    {
        if (slug.Length < MinLength || slug.Length > MaxLength)
            return ("INVALID_FORMAT", $"Slug must be {MinLength} to {MaxLength} characters long");
        if (!Pattern().IsMatch(slug))
            return ("INVALID_FORMAT", "Slug may contain only lowercase letters, digits and hyphens, and must start and end with a letter or digit");
        if (slug.Contains("--", StringComparison.Ordinal))
            return ("INVALID_FORMAT", "Slug must not contain consecutive hyphens");
        if (Reserved.Contains(slug))
            return ("RESERVED", $"Slug \"{slug}\" is reserved");
        return null;
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]*[a-z0-9]$")]
    private static partial Regex Pattern();
}

/// <summary>The organization operations of the admin API (no HTTP types): update, slug checks, key rotation.</summary>
public sealed class OrganizationAdmin(DocumentStore store, IdGenerator ids, ClockResolver clocks)
{
    public static readonly string[] Channels = ["EMAIL", "SMS"];

    /// <summary>admin-part3.md <c>Organization</c>, plus <c>id</c>, <c>name</c>, <c>createdAt</c>, <c>updatedAt</c> of the older guide.</summary>
    public static JsonObject ToJson(Organization o, string environment) => new()
    {
        ["id"] = o.Id,
        ["name"] = o.Name,
        ["companyName"] = o.Name,
        ["companyUrl"] = o.CompanyUrl,
        ["countryCode"] = o.CountryCode,
        ["currencyCode"] = o.CurrencyCode,
        ["defaultMessagingChannel"] = o.DefaultMessagingChannel,
        ["embeddingAllowedHosts"] = o.EmbeddingAllowedHosts is null ? null : new JsonArray(o.EmbeddingAllowedHosts.Select(h => (JsonNode)h).ToArray()),
        ["languageCode"] = o.LanguageCode,
        ["publishableKey"] = environment == "live" ? o.LivePublishableKey : o.PublishableKey,
        ["slug"] = o.Slug,
        ["state"] = "ACTIVE",
        ["timeZone"] = o.TimeZone,
        ["createdAt"] = Json.Iso(o.CreatedAt),
        ["updatedAt"] = Json.Iso(o.UpdatedAt),
    };

    /// <summary><c>PUT /organizations</c>: checks every field, then applies them all (or nothing).</summary>
    public Organization Update(Organization org, BodyReader body)
    {
        var companyName = body.String("companyName", minLength: 1);
        var companyUrl = body.String("companyUrl", nullable: true);
        if (companyUrl is not null && !(Uri.TryCreate(companyUrl, UriKind.Absolute, out var u) && (u.Scheme == Uri.UriSchemeHttp || u.Scheme == Uri.UriSchemeHttps)))
            body.AddIssue("companyUrl", "url", "url", body.Root["companyUrl"], $"Invalid URL: Received \"{companyUrl}\"");
        var country = body.String("countryCode", minLength: 1);
        var currency = body.String("currencyCode");
        if (currency is not null && !Regex.IsMatch(currency, "^[A-Z]{3}$"))
            body.AddIssue("currencyCode", "regex", "/^[A-Z]{3}$/", body.Root["currencyCode"], $"Invalid format: Expected /^[A-Z]{{3}}$/ but received \"{currency}\"");
        var channel = body.Enum("defaultMessagingChannel", Channels);
        var hostsPresent = body.Root.ContainsKey("embeddingAllowedHosts");
        var hosts = body.Root["embeddingAllowedHosts"] is null ? null : body.StringArray("embeddingAllowedHosts");
        var language = body.String("languageCode", minLength: 1);
        var slug = body.String("slug");
        var timeZone = body.String("timeZone", minLength: 1);
        if (timeZone is { Length: > 0 } && !KnownTimeZone(timeZone))
            body.AddIssue("timeZone", "timezone", "IANA time zone", body.Root["timeZone"], $"Invalid time zone: Received \"{timeZone}\"");
        body.ThrowIfInvalid();

        if (slug is not null && slug != org.Slug)
        {
            if (SlugRules.Check(slug) is { } bad) throw ApiErrors.BadRequest("Invalid slug format", bad.Message);
            if (TakenByOther(slug, org.Id)) throw ApiErrors.BadRequest("Slug already taken", $"Slug \"{slug}\" is already taken");
        }

        return store.Transaction(() =>
        {
            if (companyName is not null) org.Name = companyName;
            if (body.Root.ContainsKey("companyUrl")) org.CompanyUrl = companyUrl;
            if (country is not null) org.CountryCode = country;
            if (currency is not null) org.CurrencyCode = currency;
            if (channel is not null) org.DefaultMessagingChannel = channel;
            if (hostsPresent) org.EmbeddingAllowedHosts = hosts;
            if (language is not null) org.LanguageCode = language;
            if (slug is not null) org.Slug = slug;
            if (timeZone is not null) org.TimeZone = timeZone;
            org.UpdatedAt = clocks.For(org.Id).GetUtcNow();
            return store.Put(org);
        });
    }

    /// <summary>An IANA zone the host knows; on a host without time-zone data every id is accepted (UTC is then used).</summary>
    public static bool KnownTimeZone(string id) =>
        id == "UTC" || TimeZoneInfo.TryFindSystemTimeZoneById(id, out _) || TimeZoneInfo.GetSystemTimeZones().Count <= 1;

    private bool TakenByOther(string slug, string orgId) =>
        store.First<Organization>(o => o.Id != orgId && string.Equals(o.Slug, slug, StringComparison.Ordinal)) is not null;

    /// <summary><c>GET /organizations/slug/availability</c>: <c>{slug, available, suggestions, reason?}</c>.</summary>
    public JsonObject Availability(string slug, Organization caller)
    {
        var result = new JsonObject { ["slug"] = slug };
        string? reason = SlugRules.Check(slug)?.Reason;
        if (reason is null && TakenByOther(slug, caller.Id)) reason = "TAKEN";
        result["available"] = reason is null;
        result["suggestions"] = new JsonArray(reason is null ? [] : Suggestions(slug, caller.Id).Select(s => (JsonNode)s).ToArray());
        if (reason is not null) result["reason"] = reason;
        return result;
    }

    /// <summary>Up to five free, valid slugs close to <paramref name="wanted"/>, deterministic.</summary>
    public List<string> Suggestions(string wanted, string callerId)
    {
        var stem = Organization.Slugify(wanted);
        if (stem.Length > SlugRules.MaxLength - 8) stem = stem[..(SlugRules.MaxLength - 8)].TrimEnd('-');
        if (stem.Length < SlugRules.MinLength) stem = (stem + "-org").Trim('-');
        var candidates = new List<string> { stem };
        candidates.AddRange(new[] { "hq", "shop", "store", "official", "app" }.Select(s => $"{stem}-{s}"));
        candidates.AddRange(Enumerable.Range(2, 20).Select(n => $"{stem}-{n}"));
        candidates.Add("get-" + stem);
        return candidates.Distinct()
            .Where(c => c != wanted && SlugRules.Check(c) is null && !TakenByOther(c, callerId))
            .Take(5).ToList();
    }

    /// <summary>Replaces the secret key of <paramref name="environment"/> (<c>test</c> or <c>live</c>) and returns the new one.
    /// Credentials are looked up in the store on every request, so the old key stops working at once.</summary>
    public string RotateSecretKey(Organization org, string environment)
    {
        return store.Transaction(() =>
        {
            var prefix = environment == "live" ? "sk_live_" : "sk_test_";
            var key = ids.NewPrefixed(prefix, 32);
            if (environment == "live") org.LiveSecretKey = key; else org.SecretKey = key;
            org.UpdatedAt = clocks.For(org.Id).GetUtcNow();
            store.Put(org);
            return key;
        });
    }
}
