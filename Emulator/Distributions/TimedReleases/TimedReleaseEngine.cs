using System.Text.Json.Nodes;
using Fanfare.Emulator.Consumers;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Distributions.Grants;
using Fanfare.Emulator.Distributions;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Ids;
using Fanfare.Emulator.Infrastructure.Store;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.Distributions.TimedReleases;

/// <summary>
/// The timed release engine (behavior.md §3.7), without HTTP. Entering while open gives instant access: status
/// <c>ENTERED</c> with an admission grant (<c>distributionType: "timed_release"</c>) valid until <c>closeAt</c> (no expiry
/// when there is none). Re-entry while ENTERED or COMPLETED returns the existing participation (a new <c>variantId</c>
/// replaces <c>selectedVariantId</c>); after LEFT a new entry issues a new grant. Checks, in order: guest support (403
/// <c>Guest access not allowed</c>), 423 <c>Timed release is not open yet</c> + ISO <c>Retry-After</c>, 400
/// <c>Timed release is closed</c>.
/// The merchant closes the journey with <c>POST /handoffs/validate</c> (admin port) and
/// <c>POST /timed-releases/{id}/complete</c> → COMPLETED. Statuses: <see cref="TimedReleaseStatuses"/>.
/// </summary>
public sealed class TimedReleaseEngine(DocumentStore store, IdGenerator ids, ClockResolver clocks, AdmissionGrants grants,
    DistributionLifecycle lifecycle, ConsumerDirectory consumers) : IDistributionEngine, IAdminDistributionEngine<TimedReleaseDistribution>
{
    public const string NotFound = "Timed release not found";

    public string Type => DistributionTypes.TimedRelease;
    public string NestedKey => "timedReleases";
    public string NotFoundError => NotFound;

    public TimedReleaseDistribution? Get(string organizationId, string id) => store.GetOwned<TimedReleaseDistribution>(organizationId, id);

    /// <summary>The timed release or 404 <c>Timed release not found</c>.</summary>
    public TimedReleaseDistribution Require(string organizationId, string id) => Get(organizationId, id) ?? throw ApiErrors.NotFoundError(NotFound);

    public DistributionBase? Find(string organizationId, string id) => Get(organizationId, id);

    public IEnumerable<DistributionBase> ForSequence(string organizationId, string sequenceId) =>
        store.OfOrganization<TimedReleaseDistribution>(organizationId, sequenceId);

    public List<TimedReleaseDistribution> List(string organizationId, string? sequenceId = null) => store.OfOrganization<TimedReleaseDistribution>(organizationId, sequenceId);

    public JsonObject ToJson(DistributionBase distribution) => ((TimedReleaseDistribution)distribution).ToJson();

    public JsonObject ToJson(TimedReleaseDistribution release) => release.ToJson();

    private DateTimeOffset Now(string organizationId) => clocks.For(organizationId).GetUtcNow();

    private static string ParticipantId(string id, string consumerId) => IdGenerator.DeriveUuid("timed-release-participant", id + "/" + consumerId);

    private TimedReleaseParticipant? Participant(TimedReleaseDistribution t, string consumerId) =>
        store.Get<TimedReleaseParticipant>(ParticipantId(t.Id, consumerId));

    // ---------------------------------------------------------------- admin

    /// <summary>
    /// Creates from an admin create body (admin-part4.md <c>POST /timed-releases</c>, or nested without
    /// <c>sequenceId</c>): <c>name</c> required; <c>openAt</c>, <c>closeAt</c>, <c>timeZone</c> nullable; <c>supportsGuest</c>
    /// (default true). Nothing is stored when the body has issues.
    /// </summary>
    public TimedReleaseDistribution Create(Organization org, Sequence sequence, BodyReader body, string actor)
    {
        return store.Transaction(() =>
        {
            var t = Read(org, sequence, body, actor);
            if (body.HasIssues) return t;
            t.Id = ids.NewUuid("timed-release");
            store.Put(t);
            lifecycle.Track(t);
            return t;
        });
    }

    DistributionBase IDistributionEngine.Create(Organization org, Sequence sequence, BodyReader body, string actor) =>
        Create(org, sequence, body, actor);

    public void ValidateCreate(Organization org, BodyReader body) => Read(org, new Sequence(), body, "");

    private TimedReleaseDistribution Read(Organization org, Sequence sequence, BodyReader body, string actor)
    {
        var t = new TimedReleaseDistribution();
        DistributionFields.ReadCreate(body, t, org, sequence, store, actor, Now(org.Id));
        t.SupportsGuest = body.Bool("supportsGuest") ?? true;
        return t;
    }

    /// <summary><c>PUT /timed-releases/{id}</c>: fields present change; 409 <c>Cannot update closed distribution</c> once ended.</summary>
    public TimedReleaseDistribution Update(TimedReleaseDistribution release, BodyReader body, string actor)
    {
        return store.Transaction(() =>
        {
            var live = Require(release.OrganizationId, release.Id);
            var now = Now(release.OrganizationId);
            if (live.TimingState(now) is "ended" or "killed") throw ApiErrors.Conflict("Cannot update closed distribution");
            var t = DistributionQueries.Detached(live);
            var changes = new FieldChanges(body);
            DistributionFields.ReadUpdate(body, t, changes);
            if (body.Root.ContainsKey("supportsGuest") && body.Bool("supportsGuest", required: true) is { } g)
                changes.Set("supportsGuest", t.SupportsGuest, g, v => t.SupportsGuest = v);
            body.ThrowIfInvalid();
            if (changes.Names.Count > 0) { t.UpdatedAt = now; t.UpdatedBy = actor; }
            store.Put(t);
            lifecycle.Updated(t, changes.Names);
            return t;
        });
    }

    /// <summary><c>DELETE /timed-releases/{id}</c>: removes it and its participations; returns the deleted object.</summary>
    public TimedReleaseDistribution Delete(TimedReleaseDistribution release, string actor)
    {
        return store.Transaction(() =>
        {
            var t = Require(release.OrganizationId, release.Id);
            foreach (var p in store.Where<TimedReleaseParticipant>(p => p.TimedReleaseId == t.Id)) store.Delete<TimedReleaseParticipant>(p.Id);
            lifecycle.Untrack(t);
            store.Delete<TimedReleaseDistribution>(t.Id);
            return t;
        });
    }

    // ---------------------------------------------------------------- consumer

    /// <summary><c>POST /timed-releases/{timedReleaseId}/enter</c> <c>{variantId?}</c> → <c>TimedReleaseConsumerStatus</c>.</summary>
    public JsonObject Enter(Organization org, TimedReleaseDistribution release, string consumerId, bool isGuest, string? variantId, string? fingerprint)
    {
        return store.Transaction(() =>
        {
            var t = Require(org.Id, release.Id);
            var now = Now(org.Id);
            var p = Participant(t, consumerId);
            if (p is not null && p.Status is TimedReleaseStatuses.Entered or TimedReleaseStatuses.Completed or TimedReleaseStatuses.Denied)
            {
                if (p.Status == TimedReleaseStatuses.Entered && variantId is not null && variantId != p.SelectedVariantId)
                {
                    p.SelectedVariantId = variantId;
                    store.Put(p);
                }
                return StatusJson(p, now);
            }
            if (isGuest && !t.SupportsGuest)
                throw new ApiException(403, "Guest access not allowed", null, new JsonObject
                {
                    ["error"] = "Guest access not allowed", ["code"] = "AUTH_REQUIRED",
                    ["message"] = "This timed release requires a signed-in consumer; guests cannot enter.",
                });
            var state = t.TimingState(now);
            if (state == "upcoming")
                throw new ApiException(423, "Timed release is not open yet", null, null,
                    new Dictionary<string, string> { ["Retry-After"] = DistributionFields.RetryAfter(t.OpenAt!.Value) });
            if (state is "ended" or "killed") throw ApiErrors.BadRequest("Timed release is closed");
            p ??= new TimedReleaseParticipant
            {
                Id = ParticipantId(t.Id, consumerId), OrganizationId = org.Id, TimedReleaseId = t.Id, ConsumerId = consumerId,
            };
            var grant = grants.Issue(org, t, consumerId, t.CloseAt, null, fingerprint);
            p.Status = TimedReleaseStatuses.Entered;
            p.EnteredAt = now;
            p.ExpiresAt = t.CloseAt;
            p.GrantId = grant.Id;
            p.SelectedVariantId = variantId;
            p.LeftAt = p.CompletedAt = p.ExpiredAt = null;
            p.Entries++;
            store.Put(p);
            return StatusJson(p, now);
        });
    }

    /// <summary><c>POST /timed-releases/{timedReleaseId}/leave</c>: ENTERED → LEFT (grant revoked) → <c>{success:true}</c>;
    /// <c>{success:false}</c> when the consumer holds no entry.</summary>
    public JsonObject Leave(Organization org, TimedReleaseDistribution release, string consumerId)
    {
        return store.Transaction(() =>
        {
            var t = Require(org.Id, release.Id);
            var p = Participant(t, consumerId);
            if (p is null || p.Status != TimedReleaseStatuses.Entered) return new JsonObject { ["success"] = false };
            if (store.Get<AdmissionGrant>(p.GrantId) is { } g) grants.Revoke(g);
            p.Status = TimedReleaseStatuses.Left;
            p.LeftAt = Now(org.Id);
            store.Put(p);
            return new JsonObject { ["success"] = true };
        });
    }

    /// <summary><c>GET /timed-releases/{timedReleaseId}/status</c> (<c>NOT_ENTERED</c> when never entered).</summary>
    public JsonObject Status(Organization org, TimedReleaseDistribution release, string consumerId)
    {
        lock (store.Sync)
        {
            var t = Require(org.Id, release.Id);
            var p = Participant(t, consumerId);
            return p is null ? new JsonObject { ["status"] = TimedReleaseStatuses.NotEntered } : StatusJson(p, Now(org.Id));
        }
    }

    /// <summary><c>TimedReleaseConsumerStatus</c>: <c>admissionGrant</c> only while the grant is usable.</summary>
    private JsonObject StatusJson(TimedReleaseParticipant p, DateTimeOffset now)
    {
        var j = new JsonObject { ["status"] = p.Status };
        if (p.Status == TimedReleaseStatuses.Entered && store.Get<AdmissionGrant>(p.GrantId) is { } g && g.IsUsable(now))
            j["admissionGrant"] = g.Token;
        if (p.CompletedAt is { } c) j["completedAt"] = Json.Iso(c);
        if (p.EnteredAt is { } e) j["enteredAt"] = Json.Iso(e);
        if (p.ExpiresAt is { } x) j["expiresAt"] = Json.Iso(x);
        if (p.LeftAt is { } l) j["leftAt"] = Json.Iso(l);
        if (p.SelectedVariantId is { } v) j["selectedVariantId"] = v;
        return j;
    }

    internal void OnGrantCompleted(AdmissionGrant grant)
    {
        store.Transaction(() =>
        {
            var p = store.Get<TimedReleaseParticipant>(ParticipantId(grant.DistributionId, grant.ConsumerId));
            if (p is null || p.GrantId != grant.Id) return;
            p.Status = TimedReleaseStatuses.Completed;
            p.CompletedAt = grant.CompletedAt ?? Now(p.OrganizationId);
            store.Put(p);
        });
    }

    internal void OnGrantExpired(AdmissionGrant grant)
    {
        store.Transaction(() =>
        {
            var p = store.Get<TimedReleaseParticipant>(ParticipantId(grant.DistributionId, grant.ConsumerId));
            if (p is null || p.GrantId != grant.Id) return;
            p.ExpiredAt = Now(p.OrganizationId);
            store.Put(p);
        });
    }

    // ---------------------------------------------------------------- journey, QA

    private JsonObject ConsumerJson(TimedReleaseDistribution t, TimedReleaseParticipant? p, DateTimeOffset now)
    {
        var j = new JsonObject { ["status"] = (p?.Status ?? TimedReleaseStatuses.NotEntered).ToLowerInvariant() };
        if (p is null) { j["distributionId"] = t.Id; return j; }
        if (p.Status == TimedReleaseStatuses.Entered && store.Get<AdmissionGrant>(p.GrantId) is { } g && g.IsUsable(now)) j["admissionGrant"] = g.Token;
        if (p.Status == TimedReleaseStatuses.Denied && p.DeniedReason is not null) j["deniedReason"] = p.DeniedReason;
        j["distributionId"] = t.Id;
        if (p.EnteredAt is { } e) { j["enteredAt"] = Json.Iso(e); j["grantedAt"] = Json.Iso(e); }
        j["id"] = p.Id;
        return j;
    }

    /// <summary>
    /// Journey view: <c>scheduled</c> before <c>openAt</c>; while open <c>enterable</c> (not_entered / left) or
    /// <c>granted</c> (entered, grant usable); <c>ended</c> with outcome <c>completed</c>, <c>denied</c>, <c>left</c> or
    /// <c>closed</c>.
    /// </summary>
    public Participation View(DistributionBase distribution, string consumerId)
    {
        lock (store.Sync)
        {
            var t = (TimedReleaseDistribution)distribution;
            var now = Now(t.OrganizationId);
            var state = t.TimingState(now);
            if (state == "upcoming") return new Participation("scheduled", null);
            var p = Participant(t, consumerId);
            var consumer = ConsumerJson(t, p, now);
            JsonObject Outcome(string type, DateTimeOffset? at, string? reason = null)
            {
                var o = new JsonObject { ["type"] = type };
                if (at is { } a) o["at"] = Json.Iso(a);
                o["distributionId"] = t.Id;
                o["distributionType"] = DistributionTypes.TimedRelease;
                if (reason is not null) o["reason"] = reason;
                return o;
            }
            switch (p?.Status)
            {
                case TimedReleaseStatuses.Entered when store.Get<AdmissionGrant>(p.GrantId) is { } g && g.IsUsable(now):
                    return new Participation("granted", consumer, g.ToGrantJson());
                case TimedReleaseStatuses.Completed:
                    return new Participation("ended", consumer, null, Outcome("completed", p.CompletedAt));
                case TimedReleaseStatuses.Denied:
                    return new Participation("ended", consumer, null, Outcome("denied", null, p.DeniedReason));
            }
            if (state == "active") return new Participation("enterable", consumer);
            if (p?.Status == TimedReleaseStatuses.Left) return new Participation("ended", consumer, null, Outcome("left", p.LeftAt));
            return new Participation("ended", consumer, null, Outcome("closed", t.CloseAt));
        }
    }

    public IReadOnlyList<JsonObject> Participants(DistributionBase distribution)
    {
        lock (store.Sync)
        {
            return store.Where<TimedReleaseParticipant>(p => p.TimedReleaseId == distribution.Id).Select(p => new JsonObject
            {
                ["consumerId"] = p.ConsumerId, ["status"] = p.Status, ["enteredAt"] = Json.Iso(p.EnteredAt),
                ["grantedAt"] = Json.Iso(p.EnteredAt), ["expiresAt"] = Json.Iso(p.ExpiresAt), ["leftAt"] = Json.Iso(p.LeftAt),
                ["completedAt"] = Json.Iso(p.CompletedAt), ["expiredAt"] = Json.Iso(p.ExpiredAt),
                ["selectedVariantId"] = p.SelectedVariantId, ["entries"] = p.Entries,
            }).ToList();
        }
    }

    /// <summary>QA: N synthetic consumers (guests, or registered ones when guests are refused) enter now.</summary>
    public IReadOnlyList<string> Simulate(Organization org, DistributionBase distribution, int count)
    {
        return store.Transaction(() =>
        {
            var t = Require(org.Id, distribution.Id);
            var entered = new List<string>(count);
            for (int i = 0; i < count; i++)
            {
                var c = consumers.Create(org.Id, t.SupportsGuest ? "guest" : "admin", guest: t.SupportsGuest);
                Enter(org, t, c.Id, c.IsGuest, null, null);
                entered.Add(c.Id);
            }
            return (IReadOnlyList<string>)entered;
        });
    }
}
