using System.Text.Json.Nodes;
using Fanfare.Emulator.Consumers;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Distributions.Grants;
using Fanfare.Emulator.Distributions;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Events;
using Fanfare.Emulator.Infrastructure.Ids;
using Fanfare.Emulator.Infrastructure.Scheduling;
using Fanfare.Emulator.Infrastructure.Store;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.Distributions.Draws;

/// <summary>
/// The draw (lottery) engine (behavior.md §3.4), on the emulator clock, without HTTP:
/// <list type="bullet">
/// <item>Entries get <c>entrantNumber</c> 1, 2, 3 … (never reused); one entry per consumer; re-entry returns the existing
/// entry. Entries are accepted while the draw is <c>active</c>: 423 <c>Draw is not open yet</c> (+ ISO <c>Retry-After</c>)
/// before <c>openAt</c>, 400 <c>Draw is closed</c> after <c>closeAt</c>/<c>drawAt</c> or once drawn.</item>
/// <item><c>capacity</c>: an entry beyond it is answered <c>DENIED</c> with reason <c>CAPACITY_EXCEEDED</c> (the SDK's
/// <c>DrawDenyReason</c>; a 200 body like the documented order-limit denial). It may try again if a place frees up
/// (someone leaves) while the draw is open.</item>
/// <item>At <c>drawAt</c> (scheduled job <c>draw.run</c>) all <c>ENTERED</c> entries are put in a random order by a
/// PRNG seeded from <c>IdGenerator.NextBytes("draw:"+drawId)</c> (same seed + same calls ⇒ same winners); the first
/// <c>winnerCount</c> win (everyone when fewer entered): status <c>WON</c>, an admission grant lasting
/// <c>admissionExpirationSeconds</c> (null: no expiry), <c>draw.consumer.won</c>. The rest: <c>DENIED</c>
/// <c>NOT_SELECTED</c>, <c>draw.consumer.lost</c>. Then <c>draw.completed</c> {totalEntrants, winnersSelected}.</item>
/// <item>Backfill (<c>continueSelectingUntilCompleted</c>): when a winner's grant lapses (or a winner is denied) the
/// winner becomes <c>DENIED</c> <c>ADMISSION_EXPIRED</c> (or the deny reason) and the next <c>NOT_SELECTED</c> entrant in
/// the random order wins, until every winner completed, the draw is ended/killed or a <c>closeAt</c> later than
/// <c>drawAt</c> passed, or nobody is left.</item>
/// <item>Loyalty bias is stored but selection is always equal-chance.</item>
/// </list>
/// </summary>
public sealed class DrawEngine(DocumentStore store, IdGenerator ids, ClockResolver clocks, Scheduler scheduler, EventOutbox outbox,
    DistributionLifecycle lifecycle, AdmissionGrants grants, ConsumerDirectory consumers, OrganizationDirectory orgs)
    : IDistributionEngine, IAdminDistributionEngine<DrawDistribution>
{
    public const string RunJobKind = "draw.run";
    public const string NotFound = "Draw not found";

    public string Type => DistributionTypes.Draw;
    public string NestedKey => "draws";
    public string NotFoundError => NotFound;

    // In-memory index of each draw's entries (entry order), rebuilt lazily from the store; guarded by store.Sync.
    private readonly Dictionary<string, List<DrawEntry>> _entries = [];
    // Each drawn draw's entries in their random order (index = rank − 1); ranks never change after the selection.
    private readonly Dictionary<string, DrawEntry[]> _ranked = [];

    private DateTimeOffset Now(string orgId) => clocks.For(orgId).GetUtcNow();

    /// <summary>Drops the in-memory index (after <c>POST /_emulator/reset</c>).</summary>
    public void ResetCaches()
    {
        lock (store.Sync) { _entries.Clear(); _ranked.Clear(); }
    }

    private List<DrawEntry> EntriesOf(string drawId)
    {
        lock (store.Sync)
        {
            if (!_entries.TryGetValue(drawId, out var list))
                _entries[drawId] = list = store.Where<DrawEntry>(e => e.DrawId == drawId).OrderBy(e => e.EntrantNumber ?? int.MaxValue).ToList();
            return list;
        }
    }

    private static string EntryId(string drawId, string consumerId) => drawId + ":" + consumerId;

    public DrawEntry? EntryOf(string drawId, string consumerId) => store.Get<DrawEntry>(EntryId(drawId, consumerId));

    // ------------------------------------------------------------------ lookup

    public DistributionBase? Find(string organizationId, string id) => Get(organizationId, id);

    public DrawDistribution? Get(string organizationId, string? id) => store.GetOwned<DrawDistribution>(organizationId, id);

    /// <summary>The draw or 404 <c>Draw not found</c>.</summary>
    public DrawDistribution Require(string organizationId, string? id) => Get(organizationId, id) ?? throw ApiErrors.NotFoundError(NotFound);

    public IEnumerable<DistributionBase> ForSequence(string organizationId, string sequenceId) =>
        store.OfOrganization<DrawDistribution>(organizationId, sequenceId);

    public List<DrawDistribution> List(string organizationId, string? sequenceId = null) => store.OfOrganization<DrawDistribution>(organizationId, sequenceId);

    // ------------------------------------------------------------------ admin

    private sealed class Fields
    {
        public string? Name, TimeZone;
        public DateTimeOffset? DrawAt, OpenAt, CloseAt;
        public int? WinnerCount, AdmissionExpirationSeconds, Capacity;
        public bool? ContinueSelecting, LoyaltyBias, SupportsGuest;
    }

    /// <summary>Reads the admin create (all required fields) or update (only what is present) body.</summary>
    private static Fields Read(BodyReader body, bool create)
    {
        var f = new Fields();
        bool Has(string k) => body.Root.ContainsKey(k);
        if (create || Has("name")) f.Name = body.String("name", required: true, minLength: 1);
        if (create || Has("drawAt")) f.DrawAt = body.DateTime("drawAt", required: true, nullable: false);
        if (create || Has("winnerCount")) f.WinnerCount = body.Int("winnerCount", required: true, min: 1);
        if (Has("admissionExpirationSeconds")) f.AdmissionExpirationSeconds = body.Int("admissionExpirationSeconds", nullable: true, min: 1);
        if (Has("capacity")) f.Capacity = body.Int("capacity", nullable: true, min: 1);
        if (Has("closeAt")) f.CloseAt = body.DateTime("closeAt", nullable: true);
        if (Has("openAt")) f.OpenAt = body.DateTime("openAt", nullable: true);
        if (Has("continueSelectingUntilCompleted")) f.ContinueSelecting = body.Bool("continueSelectingUntilCompleted", nullable: true);
        if (Has("loyaltyBiasEnabled")) f.LoyaltyBias = body.Bool("loyaltyBiasEnabled");
        if (Has("supportsGuest")) f.SupportsGuest = body.Bool("supportsGuest");
        if (Has("timeZone")) f.TimeZone = body.String("timeZone", nullable: create, minLength: 1);
        return f;
    }

    /// <summary>Checks the merged timing (openAt &lt; closeAt, openAt ≤ drawAt).</summary>
    private static void CheckTiming(BodyReader body, DateTimeOffset? openAt, DateTimeOffset? closeAt, DateTimeOffset drawAt)
    {
        DistributionFields.CheckWindow(body, openAt, closeAt);
        if (openAt is { } o && drawAt < o)
            body.AddIssue("drawAt", "check", "drawAt at or after openAt", body.Root["drawAt"], "Invalid value: drawAt must not be before openAt");
    }

    /// <summary>Reads a create body for its issues without saving anything (the sequence is unknown or missing); unlike
    /// <see cref="Create"/> it skips the timing checks.</summary>
    public void ValidateCreate(Organization org, BodyReader body) => Read(body, create: true);

    /// <summary>
    /// admin-part2.md <c>POST /draws</c> body (or a nested <c>sequence.draws[]</c> item): saves the draw and schedules its
    /// selection at <c>drawAt</c> unless <paramref name="body"/> collected issues (then nothing is saved; the caller throws).
    /// </summary>
    public DrawDistribution Create(Organization org, Sequence sequence, BodyReader body, string actor)
    {
        var f = Read(body, create: true);
        if (f.DrawAt is { } drawAt) CheckTiming(body, f.OpenAt, f.CloseAt, drawAt);
        var now = Now(org.Id);
        var d = new DrawDistribution
        {
            OrganizationId = org.Id, SequenceId = sequence.Id, ExperienceId = sequence.ExperienceId, Name = f.Name ?? "",
            TimeZone = f.TimeZone ?? DistributionFields.DefaultTimeZone(store, sequence, org),
            OpenAt = f.OpenAt, CloseAt = f.CloseAt, DrawAt = f.DrawAt ?? now, WinnerCount = f.WinnerCount ?? 1,
            AdmissionExpirationSeconds = f.AdmissionExpirationSeconds, Capacity = f.Capacity,
            ContinueSelectingUntilCompleted = f.ContinueSelecting, LoyaltyBiasEnabled = f.LoyaltyBias ?? false,
            SupportsGuest = f.SupportsGuest ?? true, CreatedAt = now, CreatedBy = actor,
        };
        if (body.HasIssues) return d;
        return store.Transaction(() =>
        {
            d.Id = ids.NewUuid("draw");
            store.Put(d);
            lifecycle.Track(d);
            ScheduleRun(d);
            return d;
        });
    }

    DistributionBase IDistributionEngine.Create(Organization org, Sequence sequence, BodyReader body, string actor) =>
        Create(org, sequence, body, actor);

    /// <summary>admin-part2.md <c>PUT /draws/{id}</c>: partial update; 409 <c>Cannot update closed distribution</c> once drawn.</summary>
    public DrawDistribution Update(DrawDistribution d, BodyReader body, string actor)
    {
        var f = Read(body, create: false);
        CheckTiming(body, body.Root.ContainsKey("openAt") ? f.OpenAt : d.OpenAt, body.Root.ContainsKey("closeAt") ? f.CloseAt : d.CloseAt, f.DrawAt ?? d.DrawAt);
        body.ThrowIfInvalid();
        return store.Transaction(() =>
        {
            if (d.Drawn) throw ApiErrors.Conflict("Cannot update closed distribution", "Winners have already been drawn.");
            var changes = new FieldChanges(body);
            changes.Set("name", d.Name, f.Name ?? d.Name, v => d.Name = v);
            changes.Set("timeZone", d.TimeZone, f.TimeZone ?? d.TimeZone, v => d.TimeZone = v);
            changes.Set("drawAt", d.DrawAt, f.DrawAt ?? d.DrawAt, v => d.DrawAt = v);
            changes.Set("winnerCount", d.WinnerCount, f.WinnerCount ?? d.WinnerCount, v => d.WinnerCount = v);
            changes.Set("admissionExpirationSeconds", d.AdmissionExpirationSeconds, f.AdmissionExpirationSeconds, v => d.AdmissionExpirationSeconds = v);
            changes.Set("capacity", d.Capacity, f.Capacity, v => d.Capacity = v);
            changes.Set("closeAt", d.CloseAt, f.CloseAt, v => d.CloseAt = v);
            changes.Set("openAt", d.OpenAt, f.OpenAt, v => d.OpenAt = v);
            changes.Set("continueSelectingUntilCompleted", d.ContinueSelectingUntilCompleted, f.ContinueSelecting, v => d.ContinueSelectingUntilCompleted = v);
            changes.Set("loyaltyBiasEnabled", d.LoyaltyBiasEnabled, f.LoyaltyBias ?? d.LoyaltyBiasEnabled, v => d.LoyaltyBiasEnabled = v);
            changes.Set("supportsGuest", d.SupportsGuest, f.SupportsGuest ?? d.SupportsGuest, v => d.SupportsGuest = v);
            if (changes.Names.Count > 0)
            {
                d.UpdatedAt = Now(d.OrganizationId);
                d.UpdatedBy = actor;
                store.Put(d);
                ScheduleRun(d);
            }
            lifecycle.Updated(d, changes.Names);
            return d;
        });
    }

    /// <summary>admin-part2.md <c>DELETE /draws/{id}</c>: removes the draw, its entries and its jobs; returns the draw.</summary>
    public DrawDistribution Delete(DrawDistribution d, string actor)
    {
        return store.Transaction(() =>
        {
            foreach (var e in EntriesOf(d.Id).ToList()) store.Delete<DrawEntry>(e.Id);
            _entries.Remove(d.Id);
            _ranked.Remove(d.Id);
            scheduler.Cancel(RunJobKind + ":" + d.Id);
            lifecycle.Untrack(d);
            store.Delete<DrawDistribution>(d.Id);
            return d;
        });
    }

    private void ScheduleRun(DrawDistribution d)
    {
        if (d.Drawn) scheduler.Cancel(RunJobKind + ":" + d.Id);
        else scheduler.Schedule(RunJobKind + ":" + d.Id, RunJobKind, d.DrawAt, new JsonObject { ["drawId"] = d.Id }, d.OrganizationId);
    }

    /// <summary>admin-part2.md <c>Draw</c>.</summary>
    public JsonObject ToJson(DistributionBase distribution)
    {
        var d = (DrawDistribution)distribution;
        var j = d.CommonJson();
        j["drawAt"] = Json.Iso(d.DrawAt);
        j["winnerCount"] = d.WinnerCount;
        j["supportsGuest"] = d.SupportsGuest;
        j["admissionExpirationSeconds"] = d.AdmissionExpirationSeconds;
        j["capacity"] = d.Capacity;
        j["continueSelectingUntilCompleted"] = d.ContinueSelectingUntilCompleted;
        j["loyaltyBiasEnabled"] = d.LoyaltyBiasEnabled;
        return j;
    }

    public JsonObject ToJson(DrawDistribution d) => ToJson((DistributionBase)d);

    /// <summary>consumer-part1.md <c>GET /draws/{drawId}</c> (public metadata).</summary>
    public JsonObject PublicJson(DrawDistribution d) => new()
    {
        ["id"] = d.Id, ["timeZone"] = d.TimeZone, ["drawAt"] = Json.Iso(d.DrawAt), ["supportsGuest"] = d.SupportsGuest,
        ["capacity"] = d.Capacity, ["closeAt"] = Json.Iso(d.CloseAt),
        ["continueSelectingUntilCompleted"] = d.ContinueSelectingUntilCompleted, ["loyaltyBiasEnabled"] = d.LoyaltyBiasEnabled,
        ["openAt"] = Json.Iso(d.OpenAt), ["statusOverride"] = d.StatusOverride, ["statusOverrideAt"] = Json.Iso(d.StatusOverrideAt),
        ["statusOverrideBy"] = d.StatusOverrideBy, ["teardownStatus"] = d.TeardownStatus,
    };

    // ------------------------------------------------------------------ consumer

    /// <summary>
    /// The DRAWSTATUS body (consumer-part1.md): <c>{status:"ENTERED"}</c> | <c>{status:"NOT_ENTERED"}</c> |
    /// <c>{status:"WON", admissionGrant, admissionToken (older pages), expiresAt?, wonAt}</c> |
    /// <c>{status:"COMPLETED", completedAt?}</c> | <c>{status:"DENIED", reason, deniedAt}</c>.
    /// </summary>
    public JsonObject StatusJson(DrawEntry? e)
    {
        if (e is null) return new JsonObject { ["status"] = "NOT_ENTERED" };
        switch (e.Status)
        {
            case "WON":
                var grant = store.Get<AdmissionGrant>(e.GrantId);
                var won = new JsonObject { ["status"] = "WON", ["admissionGrant"] = grant?.Token ?? "", ["admissionToken"] = grant?.Token ?? "" };
                if (grant?.ExpiresAt is { } exp) won["expiresAt"] = Json.Iso(exp);
                if (e.WonAt is { } w) won["wonAt"] = Json.Iso(w);
                return won;
            case "COMPLETED":
                var c = new JsonObject { ["status"] = "COMPLETED" };
                if (e.CompletedAt is { } at) c["completedAt"] = Json.Iso(at);
                return c;
            case "DENIED":
                return new JsonObject { ["status"] = "DENIED", ["reason"] = e.Reason ?? "ADMIN_ACTION", ["deniedAt"] = Json.Iso(e.DeniedAt ?? default) };
            default:
                return new JsonObject { ["status"] = "ENTERED" };
        }
    }

    /// <summary>consumer-part2.md <c>GET /draws/{drawId}/status</c>.</summary>
    public JsonObject Status(DrawDistribution d, string consumerId) => StatusJson(EntryOf(d.Id, consumerId));

    /// <summary>
    /// consumer-part1.md <c>POST /draws/{drawId}/enter</c>. Re-entry returns the existing entry's status. 401
    /// <c>Authentication required</c> for a guest when <c>supportsGuest</c> is false; 423 / 400 as described on the class.
    /// </summary>
    public JsonObject Enter(Organization org, DrawDistribution d, string consumerId, bool isGuest, string? fingerprint)
    {
        return store.Transaction(() =>
        {
            var now = Now(org.Id);
            var index = EntriesOf(d.Id); // built before any Put, so a new entry is added exactly once
            var existing = EntryOf(d.Id, consumerId);
            if (existing is not null && !(existing.Status == "DENIED" && existing.Reason == "CAPACITY_EXCEEDED" && existing.EntrantNumber is null))
                return StatusJson(existing);
            if (isGuest && !d.SupportsGuest)
                throw ApiErrors.Unauthorized(ApiErrors.AuthenticationRequired, "This draw requires a signed-in consumer.");
            EnsureOpen(d, now);
            if (d.Capacity is int cap && d.ActiveEntries >= cap)
            {
                var refused = existing ?? new DrawEntry { Id = EntryId(d.Id, consumerId), OrganizationId = org.Id, DrawId = d.Id, ConsumerId = consumerId };
                refused.Status = "DENIED"; refused.Reason = "CAPACITY_EXCEEDED"; refused.DeniedAt = now;
                refused.Fingerprint = string.IsNullOrEmpty(fingerprint) ? refused.Fingerprint : fingerprint;
                store.Put(refused);
                if (existing is null) index.Add(refused);
                return StatusJson(refused);
            }
            var e = existing ?? new DrawEntry { Id = EntryId(d.Id, consumerId), OrganizationId = org.Id, DrawId = d.Id, ConsumerId = consumerId };
            e.Status = "ENTERED"; e.Reason = null; e.DeniedAt = null;
            e.EntrantNumber = d.NextEntrantNumber++;
            e.EnteredAt = now;
            e.Fingerprint = string.IsNullOrEmpty(fingerprint) ? null : fingerprint;
            d.ActiveEntries++;
            store.Put(e);
            store.Put(d);
            if (existing is null) index.Add(e);
            outbox.Record(org.Id, "draw.consumer.entered", new JsonObject
            {
                ["drawId"] = d.Id, ["sequenceId"] = d.SequenceId, ["experienceId"] = d.ExperienceId, ["consumerId"] = consumerId,
                ["enteredAt"] = Json.Iso(now), ["entrantNumber"] = e.EntrantNumber,
            });
            return StatusJson(e);
        });
    }

    /// <summary>423 <c>Draw is not open yet</c> + ISO <c>Retry-After</c> (openAt) before it opens; 400 <c>Draw is closed</c> after.</summary>
    private static void EnsureOpen(DrawDistribution d, DateTimeOffset now)
    {
        switch (d.TimingState(now))
        {
            case "upcoming":
                throw new ApiException(423, "Draw is not open yet", null, null,
                    new Dictionary<string, string> { ["Retry-After"] = Json.Iso(d.OpenAt ?? now) });
            case "active": return;
            default: throw ApiErrors.BadRequest("Draw is closed");
        }
    }

    /// <summary>
    /// consumer-part1.md <c>POST /draws/{drawId}/leave</c> (pre-grant only): an <c>ENTERED</c> consumer leaves before the
    /// selection and is <c>NOT_ENTERED</c> again (may re-enter while the draw is open; the entrant number is not reused).
    /// Not entered: <c>NOT_ENTERED</c> (idempotent). After the selection, or WON/COMPLETED/DENIED: 400 <c>Draw is closed</c>.
    /// </summary>
    public JsonObject Leave(DrawDistribution d, string consumerId)
    {
        return store.Transaction(() =>
        {
            var e = EntryOf(d.Id, consumerId);
            if (e is null) return StatusJson(null);
            if (d.Drawn || e.Status != "ENTERED")
            {
                if (e.Status == "DENIED" && e.Reason == "CAPACITY_EXCEEDED" && e.EntrantNumber is null && !d.Drawn)
                {
                    store.Delete<DrawEntry>(e.Id);
                    EntriesOf(d.Id).Remove(e);
                    return StatusJson(null);
                }
                throw ApiErrors.BadRequest("Draw is closed", "Only an entry that has not been drawn yet can leave.");
            }
            store.Delete<DrawEntry>(e.Id);
            EntriesOf(d.Id).Remove(e);
            d.ActiveEntries = Math.Max(0, d.ActiveEntries - 1);
            store.Put(d);
            return StatusJson(null);
        });
    }

    /// <summary>
    /// consumer-part1.md <c>POST /draws/{drawId}/deny</c> <c>{consumerId, reason}</c> (secret key): the consumer becomes
    /// <c>DENIED</c> with that reason (a winner's grant is revoked, and with backfill a replacement is selected). A consumer
    /// who never entered gets a DENIED entry (so cannot enter later). A COMPLETED consumer stays COMPLETED.
    /// 404 <c>Consumer not found</c> for an unknown consumer of the organization.
    /// </summary>
    public JsonObject Deny(Organization org, DrawDistribution d, string consumerId, string reason)
    {
        return store.Transaction(() =>
        {
            if (consumers.Get(org.Id, consumerId) is null) throw ApiErrors.NotFoundError("Consumer not found");
            var now = Now(org.Id);
            var index = EntriesOf(d.Id);
            var e = EntryOf(d.Id, consumerId);
            if (e?.Status == "COMPLETED") return StatusJson(e);
            if (e is null)
            {
                e = new DrawEntry { Id = EntryId(d.Id, consumerId), OrganizationId = org.Id, DrawId = d.Id, ConsumerId = consumerId };
                index.Add(e);
            }
            var wasWinner = e.Status == "WON";
            if (e.Status == "ENTERED" && !d.Drawn) d.ActiveEntries = Math.Max(0, d.ActiveEntries - 1);
            if (wasWinner && store.Get<AdmissionGrant>(e.GrantId) is { } g) grants.Revoke(g);
            e.Status = "DENIED"; e.Reason = reason; e.DeniedAt = now;
            store.Put(e);
            store.Put(d);
            if (wasWinner) Backfill(org, d, now);
            return StatusJson(e);
        });
    }

    // ------------------------------------------------------------------ selection

    /// <summary>
    /// Selects the winners (job <c>draw.run</c> at <c>drawAt</c>, or <c>POST /_emulator/draws/{id}/run</c>). Idempotent:
    /// a drawn draw is left as it is. Returns <c>{drawId, drawnAt, totalEntrants, winnersSelected, winners:[consumerId]}</c>.
    /// </summary>
    public JsonObject Run(DrawDistribution d)
    {
        return store.Transaction(() =>
        {
            if (!d.Drawn && !d.Killed && !d.Archived && store.Get<DrawDistribution>(d.Id) is not null)
            {
                var org = orgs.ById(d.OrganizationId)!;
                var now = Now(d.OrganizationId);
                var pool = EntriesOf(d.Id).Where(e => e.Status == "ENTERED").OrderBy(e => e.EntrantNumber).ToList();
                new SeededRandom(ids.NextBytes("draw:" + d.Id)).Shuffle(pool);
                for (int i = 0; i < pool.Count; i++) pool[i].Rank = i + 1;
                _ranked[d.Id] = pool.ToArray();
                d.Drawn = true;
                d.DrawnAt = now;
                d.TotalEntrants = pool.Count;
                d.ActiveEntries = 0;
                var winners = Math.Min(d.WinnerCount, pool.Count);
                d.NextBackfillRank = winners + 1;
                for (int i = 0; i < pool.Count; i++)
                {
                    if (i < winners) Win(org, d, pool[i], now);
                    else
                    {
                        var e = pool[i];
                        e.Status = "DENIED"; e.Reason = "NOT_SELECTED"; e.DeniedAt = now;
                        store.Put(e);
                        outbox.Record(d.OrganizationId, "draw.consumer.lost", new JsonObject
                        {
                            ["drawId"] = d.Id, ["sequenceId"] = d.SequenceId, ["experienceId"] = d.ExperienceId,
                            ["consumerId"] = e.ConsumerId, ["lostAt"] = Json.Iso(now),
                        });
                    }
                }
                store.Put(d);
                scheduler.Cancel(RunJobKind + ":" + d.Id);
                outbox.Record(d.OrganizationId, "draw.completed", new JsonObject
                {
                    ["drawId"] = d.Id, ["sequenceId"] = d.SequenceId, ["experienceId"] = d.ExperienceId, ["completedAt"] = Json.Iso(now),
                    ["totalEntrants"] = d.TotalEntrants, ["winnersSelected"] = d.WinnersSelected,
                });
            }
            var list = EntriesOf(d.Id).Where(e => e.WinnerPosition is not null).OrderBy(e => e.WinnerPosition).Select(e => (JsonNode)e.ConsumerId).ToArray();
            return new JsonObject
            {
                ["drawId"] = d.Id, ["drawn"] = d.Drawn, ["drawnAt"] = Json.Iso(d.DrawnAt), ["totalEntrants"] = d.TotalEntrants,
                ["winnersSelected"] = d.WinnersSelected, ["winners"] = new JsonArray(list),
            };
        });
    }

    private void Win(Organization org, DrawDistribution d, DrawEntry e, DateTimeOffset now)
    {
        d.WinnersSelected++;
        DateTimeOffset? expiresAt = d.AdmissionExpirationSeconds is int s ? now.AddSeconds(s) : null;
        e.WinnerPosition = d.WinnersSelected;
        var grant = grants.Issue(org, d, e.ConsumerId, expiresAt, e.WinnerPosition, e.Fingerprint);
        e.Status = "WON"; e.Reason = null; e.DeniedAt = null; e.WonAt = now; e.GrantId = grant.Id;
        store.Put(e);
        store.Put(d);
        outbox.Record(d.OrganizationId, "draw.consumer.won", new JsonObject
        {
            ["drawId"] = d.Id, ["sequenceId"] = d.SequenceId, ["experienceId"] = d.ExperienceId, ["consumerId"] = e.ConsumerId,
            ["wonAt"] = Json.Iso(now), ["admissionToken"] = grant.Token, ["winnerPosition"] = e.WinnerPosition,
        });
    }

    /// <summary>Whether a lapsed or denied winner is replaced now (see the class summary).</summary>
    private bool CanBackfill(DrawDistribution d, DateTimeOffset now) =>
        d.Drawn && d.ContinueSelectingUntilCompleted == true && !d.Killed && d.StatusOverride != "ended" &&
        !(d.CloseAt is { } close && close > d.DrawAt && now >= close);

    private void Backfill(Organization org, DrawDistribution d, DateTimeOffset now)
    {
        if (!CanBackfill(d, now)) return;
        if (!_ranked.TryGetValue(d.Id, out var ranked))
            _ranked[d.Id] = ranked = EntriesOf(d.Id).Where(e => e.Rank is not null).OrderBy(e => e.Rank).ToArray();
        for (var rank = d.NextBackfillRank; rank <= ranked.Length; rank++)
        {
            var e = ranked[rank - 1];
            if (e.Status == "DENIED" && e.Reason == "NOT_SELECTED")
            {
                d.NextBackfillRank = rank + 1;
                Win(org, d, e, now);
                return;
            }
        }
        d.NextBackfillRank = ranked.Length + 1;
        store.Put(d);
    }

    /// <summary>The merchant completed a winner's grant: <c>COMPLETED</c>.</summary>
    internal void OnGrantCompleted(AdmissionGrant grant)
    {
        store.Transaction(() =>
        {
            var e = EntryOf(grant.DistributionId, grant.ConsumerId);
            if (e is null || e.GrantId != grant.Id) return;
            e.Status = "COMPLETED";
            e.CompletedAt = grant.CompletedAt ?? Now(grant.OrganizationId);
            store.Put(e);
        });
    }

    /// <summary>A winner's grant lapsed: <c>DENIED ADMISSION_EXPIRED</c>, then backfill.</summary>
    internal void OnGrantExpired(AdmissionGrant grant)
    {
        store.Transaction(() =>
        {
            var e = EntryOf(grant.DistributionId, grant.ConsumerId);
            var d = store.Get<DrawDistribution>(grant.DistributionId);
            if (e is null || d is null || e.GrantId != grant.Id || e.Status != "WON") return;
            var now = Now(grant.OrganizationId);
            e.Status = "DENIED"; e.Reason = "ADMISSION_EXPIRED"; e.DeniedAt = grant.ExpiresAt ?? now;
            store.Put(e);
            if (orgs.ById(d.OrganizationId) is { } org) Backfill(org, d, now);
        });
    }

    // ------------------------------------------------------------------ journeys, QA

    private static string Lower(DrawEntry? e) => e?.Status switch
    {
        null => "not_entered", "ENTERED" => "entered", "WON" => "won", "COMPLETED" => "completed", _ => "denied",
    };

    private JsonObject ConsumerJson(DrawDistribution d, DrawEntry? e)
    {
        var c = new JsonObject { ["status"] = Lower(e), ["distributionId"] = d.Id };
        if (e is null) return c;
        c["id"] = e.Id;
        if (e.EnteredAt is { } at) c["enteredAt"] = Json.Iso(at);
        if (e.Status == "WON" && store.Get<AdmissionGrant>(e.GrantId) is { } g) c["admissionGrant"] = g.Token;
        if (e.WonAt is { } w && e.Status is "WON" or "COMPLETED") c["grantedAt"] = Json.Iso(w);
        if (e.Status == "DENIED" && e.Reason is { } r) c["deniedReason"] = r;
        return c;
    }

    private static JsonObject Outcome(DrawDistribution d, string type, DateTimeOffset? at, string? reason = null)
    {
        var o = new JsonObject { ["type"] = type };
        if (at is { } t) o["at"] = Json.Iso(t);
        o["distributionId"] = d.Id;
        o["distributionType"] = DistributionTypes.Draw;
        if (reason is not null) o["reason"] = reason;
        return o;
    }

    /// <summary>
    /// Journey view (consumer-part1.md <c>GET /consumers/me</c>): <c>scheduled</c> before <c>openAt</c>; <c>enterable</c>
    /// (not_entered) while open; <c>participating</c> (entered) while open; <c>settling</c> (entered) between the end of
    /// entries and the selection; <c>granted</c> (won, grant usable); <c>ended</c> with outcome <c>completed</c>,
    /// <c>lost</c> (NOT_SELECTED), <c>expired</c> (grant lapsed), <c>denied</c> (reason), or <c>closed</c> (never entered).
    /// </summary>
    public Participation View(DistributionBase distribution, string consumerId)
    {
        var d = (DrawDistribution)distribution;
        var now = Now(d.OrganizationId);
        var state = d.TimingState(now);
        var e = EntryOf(d.Id, consumerId);
        var c = ConsumerJson(d, e);
        if (e is null || (e.Status == "DENIED" && e.Reason == "CAPACITY_EXCEEDED" && state == "active"))
        {
            if (state == "upcoming") return new Participation("scheduled", null);
            if (state == "active") return new Participation("enterable", c);
            return new Participation("ended", c, Outcome: Outcome(d, "closed", d.EntriesCloseAt));
        }
        switch (e.Status)
        {
            case "ENTERED":
                return new Participation(state == "active" ? "participating" : "settling", c);
            case "WON":
                var g = store.Get<AdmissionGrant>(e.GrantId);
                if (g is not null && g.IsUsable(now)) return new Participation("granted", c, g.ToGrantJson());
                return new Participation("ended", c, Outcome: Outcome(d, "expired", g?.ExpiresAt));
            case "COMPLETED":
                return new Participation("ended", c, Outcome: Outcome(d, "completed", e.CompletedAt));
            default:
                return e.Reason switch
                {
                    "NOT_SELECTED" => new Participation("ended", c, Outcome: Outcome(d, "lost", e.DeniedAt)),
                    "ADMISSION_EXPIRED" => new Participation("ended", c, Outcome: Outcome(d, "expired", e.DeniedAt)),
                    _ => new Participation("ended", c, Outcome: Outcome(d, "denied", e.DeniedAt, e.Reason)),
                };
        }
    }

    /// <summary><c>GET /_emulator/distributions/{id}/participants</c>: every entry in entry order with its state.</summary>
    public IReadOnlyList<JsonObject> Participants(DistributionBase distribution)
    {
        lock (store.Sync)
        {
            return EntriesOf(distribution.Id).Select(e =>
            {
                var j = new JsonObject
                {
                    ["consumerId"] = e.ConsumerId, ["status"] = e.Status, ["entrantNumber"] = e.EntrantNumber,
                    ["enteredAt"] = Json.Iso(e.EnteredAt),
                };
                if (e.Rank is not null) j["rank"] = e.Rank;
                if (e.WinnerPosition is not null) j["winnerPosition"] = e.WinnerPosition;
                if (e.WonAt is { } w) j["wonAt"] = Json.Iso(w);
                if (e.Reason is not null) { j["reason"] = e.Reason; j["deniedAt"] = Json.Iso(e.DeniedAt); }
                if (e.CompletedAt is { } c) j["completedAt"] = Json.Iso(c);
                if (e.Status == "WON" && store.Get<AdmissionGrant>(e.GrantId) is { } g) j["admissionGrant"] = g.Token;
                return j;
            }).ToList();
        }
    }

    /// <summary><c>POST /_emulator/distributions/{id}/simulate</c>: N new guest consumers enter (normal rules apply).</summary>
    public IReadOnlyList<string> Simulate(Organization org, DistributionBase distribution, int count)
    {
        var d = (DrawDistribution)distribution;
        return store.Transaction(() =>
        {
            EnsureOpen(d, Now(org.Id));
            var list = new List<string>(count);
            for (int i = 0; i < count; i++)
            {
                var c = consumers.Create(org.Id, "guest", guest: true);
                // Synthetic guests are let in even when supportsGuest is false (a QA shortcut).
                Enter(org, d, c.Id, isGuest: false, null);
                list.Add(c.Id);
            }
            return (IReadOnlyList<string>)list;
        });
    }
}

/// <summary>Tells the <see cref="DrawEngine"/> about completed and lapsed draw grants (resolved lazily: no DI cycle).</summary>
public sealed class DrawGrantListener(IServiceProvider services) : IGrantListener
{
    public string DistributionType => DistributionTypes.Draw;
    public void OnCompleted(AdmissionGrant grant) => services.GetRequiredService<DrawEngine>().OnGrantCompleted(grant);
    public void OnExpired(AdmissionGrant grant) => services.GetRequiredService<DrawEngine>().OnGrantExpired(grant);
}

/// <summary>Scheduled job <c>draw.run</c>: selects winners at <c>drawAt</c>.</summary>
public sealed class DrawRunJob(IServiceProvider services) : IJobHandler
{
    public string Kind => DrawEngine.RunJobKind;
    public Task RunAsync(ScheduledJob job, CancellationToken cancellationToken)
    {
        var engine = services.GetRequiredService<DrawEngine>();
        if (engine.Get(job.OrganizationId ?? "", job.Payload?["drawId"]?.GetValue<string>()) is { } d) engine.Run(d);
        return Task.CompletedTask;
    }
}
