using Fanfare.Emulator.Auth;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Auth.Tokens;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Distributions;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Ids;
using Fanfare.Emulator.Infrastructure.Scheduling;
using Fanfare.Emulator.Infrastructure.Store;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.Distributions.Grants;

/// <summary>
/// An admission grant (behavior.md §3.9): issued when a consumer is admitted (queue), wins (draw, auction) or enters a
/// timed release; a one-time-use EdDSA JWT the merchant's server validates and completes.
/// <see cref="Status"/>: <c>active</c>, <c>completed</c>, <c>expired</c>, <c>revoked</c>.
/// </summary>
public sealed class AdmissionGrant : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public string ConsumerId { get; set; } = "";
    public string DistributionId { get; set; } = "";
    public string DistributionType { get; set; } = "";
    public string SequenceId { get; set; } = "";
    public string ExperienceId { get; set; } = "";
    public int? Position { get; set; }
    public string Token { get; set; } = "";
    public DateTimeOffset AdmittedAt { get; set; }
    public DateTimeOffset? ExpiresAt { get; set; }
    public string Status { get; set; } = "active";
    public DateTimeOffset? CompletedAt { get; set; }
    public JsonObject? CompletionMetadata { get; set; }
    /// <summary><c>X-Fingerprint</c> of the entry that earned the grant; validation from another device is refused.</summary>
    public string? Fingerprint { get; set; }
    /// <summary>Support code shown in the DEVICE_MISMATCH body.</summary>
    public string ConfirmationCode { get; set; } = "";

    public bool IsUsable(DateTimeOffset now) => Status == "active" && (ExpiresAt is null || now < ExpiresAt);

    /// <summary>The journey <c>Grant</c> object of consumer-part1.md <c>GET /consumers/me</c>.</summary>
    public JsonObject ToGrantJson()
    {
        var g = new JsonObject
        {
            ["token"] = Token, ["distributionType"] = DistributionType, ["distributionId"] = DistributionId,
            ["sequenceId"] = SequenceId, ["experienceId"] = ExperienceId,
        };
        if (ExpiresAt is { } e) g["expiresAt"] = Json.Iso(e);
        g["issuedAt"] = Json.Iso(AdmittedAt);
        return g;
    }
}

/// <summary>Told when a grant of its distribution type is completed or lapses (engines update participation, emit events).</summary>
public interface IGrantListener
{
    string DistributionType { get; }
    void OnCompleted(AdmissionGrant grant) { }
    void OnExpired(AdmissionGrant grant) { }
}

/// <summary>Outcome of <see cref="AdmissionGrants.Validate"/>.</summary>
public enum GrantCheck { Valid, Invalid, DeviceMismatch }

/// <summary>
/// Issues, validates and completes admission grants. Grant JWT claims: <c>type:"admission", jti, organizationId,
/// consumerId, distributionId, distributionType, experienceId, sequenceId, position?, admittedAt, expiresAt?</c> (ISO 8601
/// UTC), <c>iat</c>, <c>exp?</c> (Unix seconds). Expiry runs on the emulator clock (a scheduled job at <c>expiresAt</c>).
/// </summary>
public sealed class AdmissionGrants(DocumentStore store, IdGenerator ids, TokenService tokens, ClockResolver clocks,
    Scheduler scheduler, OrganizationDirectory orgs, IEnumerable<IGrantListener> listeners)
{
    public const string ExpireJobKind = "admission.expire";

    // Newest grant per (distribution, consumer), built lazily from the store; only the newest can be active.
    private Dictionary<(string DistributionId, string ConsumerId), AdmissionGrant>? _latest;

    private Dictionary<(string, string), AdmissionGrant> Index()
    {
        lock (store.Sync)
        {
            if (_latest is not null) return _latest;
            var index = new Dictionary<(string, string), AdmissionGrant>();
            foreach (var g in store.All<AdmissionGrant>()) index[(g.DistributionId, g.ConsumerId)] = g;
            return _latest = index;
        }
    }

    /// <summary>Forgets the index (after <c>POST /_emulator/reset</c> emptied the store).</summary>
    public void ResetIndex()
    {
        lock (store.Sync) _latest = null;
    }

    /// <summary>Issues a grant valid until <paramref name="expiresAt"/> (null: no expiry). Supersedes the consumer's
    /// earlier active grant for the same distribution.</summary>
    public AdmissionGrant Issue(Organization org, DistributionBase distribution, string consumerId, DateTimeOffset? expiresAt,
        int? position = null, string? fingerprint = null)
    {
        return store.Transaction(() =>
        {
            if (Latest(distribution.Id, consumerId) is { Status: "active" } old)
            {
                old.Status = "revoked";
                store.Put(old);
                scheduler.Cancel(ExpireJobKind + ":" + old.Id);
            }
            var now = clocks.For(org.Id).GetUtcNow();
            var grant = new AdmissionGrant
            {
                Id = ids.NewPrefixed("adm_"), OrganizationId = org.Id, ConsumerId = consumerId, DistributionId = distribution.Id,
                DistributionType = distribution.DistributionType, SequenceId = distribution.SequenceId,
                ExperienceId = distribution.ExperienceId, Position = position, AdmittedAt = now, ExpiresAt = expiresAt,
                Fingerprint = string.IsNullOrEmpty(fingerprint) ? null : fingerprint,
            };
            grant.ConfirmationCode = IdGenerator.Base32(ids.NextBytes("confirmation"), 9).ToUpperInvariant();
            var claims = new JsonObject
            {
                ["type"] = "admission", ["jti"] = grant.Id, ["organizationId"] = org.Id, ["consumerId"] = consumerId,
                ["distributionId"] = distribution.Id, ["distributionType"] = distribution.DistributionType,
                ["experienceId"] = distribution.ExperienceId, ["sequenceId"] = distribution.SequenceId,
            };
            if (position is not null) claims["position"] = position;
            claims["admittedAt"] = Json.Iso(now);
            if (expiresAt is { } e) claims["expiresAt"] = Json.Iso(e);
            claims["iat"] = now.ToUnixTimeSeconds();
            if (expiresAt is { } e2) claims["exp"] = e2.ToUnixTimeSeconds();
            grant.Token = tokens.Sign(org, claims);
            store.Put(grant);
            Index()[(distribution.Id, consumerId)] = grant;
            if (expiresAt is { } at)
                scheduler.Schedule(ExpireJobKind + ":" + grant.Id, ExpireJobKind, at, new JsonObject { ["grantId"] = grant.Id }, org.Id);
            return grant;
        });
    }

    /// <summary>The consumer's newest grant for a distribution, whatever its status.</summary>
    public AdmissionGrant? Latest(string distributionId, string consumerId)
    {
        lock (store.Sync) return Index().TryGetValue((distributionId, consumerId), out var g) ? g : null;
    }

    /// <summary>
    /// Server-side validation (<c>POST /queues|draws|auctions/{id}/validate</c>): valid only for the distribution's own,
    /// untampered, unexpired (emulator clock), unused grant of that consumer. Without <paramref name="token"/> (the draw
    /// variant) the consumer's newest grant is checked. A grant whose entry carried <c>X-Fingerprint</c> validated with a
    /// different fingerprint is <see cref="GrantCheck.DeviceMismatch"/>.
    /// </summary>
    public (GrantCheck Result, AdmissionGrant? Grant) Validate(Organization org, string distributionId, string consumerId, string? token, string? fingerprint)
    {
        AdmissionGrant? grant;
        if (token is null) grant = Latest(distributionId, consumerId);
        else
        {
            var claims = tokens.Verify(org, token);
            if (claims is null || claims.Str("type") != "admission") return (GrantCheck.Invalid, null);
            grant = store.Get<AdmissionGrant>(claims.Str("jti"));
            if (grant is not null && grant.Token != token) return (GrantCheck.Invalid, null);
        }
        if (grant is null || grant.OrganizationId != org.Id || grant.DistributionId != distributionId || grant.ConsumerId != consumerId)
            return (GrantCheck.Invalid, grant);
        if (!grant.IsUsable(clocks.For(org.Id).GetUtcNow())) return (GrantCheck.Invalid, grant);
        if (grant.Fingerprint is not null && !string.IsNullOrEmpty(fingerprint) && fingerprint != grant.Fingerprint)
            return (GrantCheck.DeviceMismatch, grant);
        return (GrantCheck.Valid, grant);
    }

    /// <summary>
    /// <c>POST /{queues|draws|auctions|timed-releases}/{id}/complete</c>: marks the consumer's grant used (one time).
    /// 404 <c>{"error":"Admission not found"}</c> when the consumer holds none; 409 <c>{"error":"Admission already completed"}</c>
    /// on a second call; 410 <c>{"error":"Admission expired"}</c> once it lapsed.
    /// </summary>
    public AdmissionGrant Complete(Organization org, string distributionId, string consumerId, JsonObject? metadata)
    {
        var outcome = store.Transaction<object>(() =>
        {
            var grant = Latest(distributionId, consumerId);
            if (grant is null || grant.OrganizationId != org.Id || grant.Status == "revoked")
                return ApiErrors.NotFoundError("Admission not found");
            if (grant.Status == "completed") return ApiErrors.Conflict("Admission already completed", "This admission grant has already been used.");
            var now = clocks.For(org.Id).GetUtcNow();
            if (!grant.IsUsable(now)) return new ApiException(410, "Admission expired", "The admission grant has expired.");
            grant.Status = "completed";
            grant.CompletedAt = now;
            grant.CompletionMetadata = metadata;
            store.Put(grant);
            scheduler.Cancel(ExpireJobKind + ":" + grant.Id);
            foreach (var l in listeners.Where(l => l.DistributionType == grant.DistributionType)) l.OnCompleted(grant);
            return grant;
        });
        return outcome is ApiException ex ? throw ex : (AdmissionGrant)outcome;
    }

    /// <summary>Revokes a grant (denial, leave); it validates false from now on.</summary>
    public void Revoke(AdmissionGrant grant)
    {
        store.Transaction(() =>
        {
            if (grant.Status != "active") return;
            grant.Status = "revoked";
            store.Put(grant);
            scheduler.Cancel(ExpireJobKind + ":" + grant.Id);
        });
    }

    /// <summary>
    /// <c>POST /handoffs/validate</c> (admin port): the grant's content, or 403 <c>{"error":"Invalid admission","code":
    /// "ADMISSION_INVALID"|"ADMISSION_USED"|"ADMISSION_EXPIRED","message"}</c> (the merchant convention of the
    /// best-practices page).
    /// </summary>
    public JsonObject Handoff(Organization org, string token)
    {
        ApiException Refuse(string code, string message) => new(403, "Invalid admission", message,
            new JsonObject { ["error"] = "Invalid admission", ["code"] = code, ["message"] = message, ["valid"] = false });
        var claims = tokens.Verify(org, token);
        var grant = claims.Str("type") == "admission" ? store.Get<AdmissionGrant>(claims.Str("jti")) : null;
        if (grant is null || grant.Token != token || grant.OrganizationId != org.Id) throw Refuse("ADMISSION_INVALID", "The admission grant is invalid.");
        if (grant.Status == "completed") throw Refuse("ADMISSION_USED", "The admission grant has already been used.");
        if (grant.Status == "revoked") throw Refuse("ADMISSION_INVALID", "The admission grant has been revoked.");
        if (!grant.IsUsable(clocks.For(org.Id).GetUtcNow())) throw Refuse("ADMISSION_EXPIRED", "The admission grant has expired.");
        var body = new JsonObject
        {
            ["valid"] = true, ["consumerId"] = grant.ConsumerId, ["distributionId"] = grant.DistributionId,
            ["distributionType"] = grant.DistributionType, ["experienceId"] = grant.ExperienceId, ["sequenceId"] = grant.SequenceId,
            ["admittedAt"] = Json.Iso(grant.AdmittedAt), ["expiresAt"] = Json.Iso(grant.ExpiresAt),
        };
        if (grant.Position is not null) body["position"] = grant.Position;
        return body;
    }

    /// <summary>Runs at a grant's <c>expiresAt</c>: marks it expired and tells its engine.</summary>
    internal void Expire(string grantId)
    {
        store.Transaction(() =>
        {
            var grant = store.Get<AdmissionGrant>(grantId);
            if (grant is null || grant.Status != "active") return;
            if (grant.ExpiresAt is { } e && clocks.For(grant.OrganizationId).GetUtcNow() < e) return;
            grant.Status = "expired";
            store.Put(grant);
            foreach (var l in listeners.Where(l => l.DistributionType == grant.DistributionType)) l.OnExpired(grant);
        });
    }

    internal Organization? OrgOf(AdmissionGrant g) => orgs.ById(g.OrganizationId);
}

/// <summary>Scheduled job <c>admission.expire</c>. Synchronous: the scheduler runs consecutive due jobs of this kind in
/// one store transaction.</summary>
public sealed class GrantExpiryJob(IServiceProvider services) : ISyncJobHandler
{
    public string Kind => AdmissionGrants.ExpireJobKind;
    public void Run(ScheduledJob job) =>
        services.GetRequiredService<AdmissionGrants>().Expire(job.Payload?["grantId"]?.GetValue<string>() ?? "");

    /// <summary>Expiry updates the grant index and tells the grant's engine (a queue's line).</summary>
    public void AfterRollback()
    {
        services.GetRequiredService<AdmissionGrants>().ResetIndex();
        services.GetService<Queues.QueueEngine>()?.ResetIndex();
    }
}
