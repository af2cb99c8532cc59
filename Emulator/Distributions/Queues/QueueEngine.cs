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

namespace Fanfare.Emulator.Distributions.Queues;

/// <summary>
/// The queue engine (behavior.md §3.3), on the emulator clock, without HTTP:
/// <list type="bullet">
/// <item>Entry: positions from 1 in entry order; a position is the rank among consumers still QUEUED. Re-entry while
/// QUEUED, GRANTED, COMPLETED or DENIED returns the existing participation unchanged; after LEFT or an expired grant,
/// entering again (while open) puts the consumer at the back with a new position. Checks, in order: guest support
/// (403), not open yet (423 + ISO <c>Retry-After</c>), closed (200 <c>DENIED</c> reason <c>QUEUE_CLOSED</c>, recorded with
/// <c>queue.consumer.denied</c>), capacity (429 <c>Queue is full</c> + <c>Retry-After: 30</c>).</item>
/// <item>Admission: ONE scheduled job per queue (<c>queue.admit:{queueId}</c>) runs every max(60 / admitRate, 1) seconds
/// while consumers wait and admits the batch that fell due (admitRate × elapsed minutes, fractions carried over), from the
/// front, stopping at <c>maxAdmissions</c> and at <c>closeAt</c>. Each admitted consumer gets an admission grant valid
/// <c>admissionExpirationSeconds</c> (claims include <c>position</c> = position at entry) → GRANTED.</item>
/// <item><c>estimatedWaitTimeInSeconds = ceil(position / admitRate × 60)</c>.</item>
/// <item>Grant completed by the merchant → COMPLETED (+ <c>queue.consumer.completed</c>, <c>orderId</c> from the completion
/// metadata). Grant lapsed → NOT_QUEUED with <c>dequeuedAt</c>: re-enterable while the queue is open (no event).</item>
/// <item>At <c>closeAt</c> everyone still waiting is DENIED with <c>QUEUE_CLOSED</c>; GRANTED consumers may finish.</item>
/// </list>
/// Events (behavior.md §7.4): <c>queue.consumer.entered|admitted|completed|left|denied</c>. An in-memory
/// <see cref="QueueLine"/> per queue keeps positions O(log n) for 10,000 waiting consumers.
/// </summary>
public sealed class QueueEngine(DocumentStore store, IdGenerator ids, ClockResolver clocks, Scheduler scheduler, EventOutbox outbox,
    OrganizationDirectory orgs, AdmissionGrants grants, DistributionLifecycle lifecycle, ConsumerDirectory consumers)
    : IDistributionEngine, IAdminDistributionEngine<QueueDistribution>, IDistributionLifecycleListener
{
    public const string AdmitJobKind = "queue.admit";
    public const string NotFound = "Queue not found";
    public const string NotInQueue = "Consumer not in queue";
    public static readonly string[] DenyReasons = ["QUEUE_CLOSED", "BOT_DETECTED", "VALIDATION_LIMIT_REACHED", "ORDER_LIMIT_EXCEEDED", "ADMISSION_EXPIRED"];

    private readonly Dictionary<string, QueueLine> _lines = new(StringComparer.Ordinal);

    public string Type => DistributionTypes.Queue;
    public string NestedKey => "queues";
    public string NotFoundError => NotFound;

    // ---------------------------------------------------------------- lookup

    public QueueDistribution? Get(string organizationId, string id) => store.GetOwned<QueueDistribution>(organizationId, id);

    /// <summary>The queue or 404 <c>Queue not found</c>.</summary>
    public QueueDistribution Require(string organizationId, string id) => Get(organizationId, id) ?? throw ApiErrors.NotFoundError(NotFound);

    public DistributionBase? Find(string organizationId, string id) => Get(organizationId, id);

    public IEnumerable<DistributionBase> ForSequence(string organizationId, string sequenceId) =>
        store.OfOrganization<QueueDistribution>(organizationId, sequenceId);

    /// <summary>An organization's queues in creation order, optionally of one sequence.</summary>
    public List<QueueDistribution> List(string organizationId, string? sequenceId = null) => store.OfOrganization<QueueDistribution>(organizationId, sequenceId);

    public JsonObject ToJson(DistributionBase distribution) => ((QueueDistribution)distribution).ToJson();

    public JsonObject ToJson(QueueDistribution queue) => queue.ToJson();

    private DateTimeOffset Now(string organizationId) => clocks.For(organizationId).GetUtcNow();

    private QueueLine Line(QueueDistribution q)
    {
        lock (store.Sync)
        {
            if (!_lines.TryGetValue(q.Id, out var line))
                _lines[q.Id] = line = QueueLine.Build(store.Where<QueueParticipant>(p => p.QueueId == q.Id));
            return line;
        }
    }

    /// <summary>Drops every in-memory index (after <c>POST /_emulator/reset</c>); they are rebuilt from the store on use.</summary>
    public void ResetIndex()
    {
        lock (store.Sync) _lines.Clear();
    }

    private static string ParticipantId(string queueId, string consumerId) => IdGenerator.DeriveUuid("queue-participant", queueId + "/" + consumerId);

    // ---------------------------------------------------------------- admin

    /// <summary>
    /// Creates a queue from an admin create body (admin-part4.md <c>POST /queues</c>, or nested in an experience's
    /// sequence without <c>sequenceId</c>): <c>name</c>, <c>admitRate</c> (&gt; 0) required; <c>admissionExpirationSeconds</c>,
    /// <c>capacity</c>, <c>maxAdmissions</c>, <c>openAt</c>, <c>closeAt</c>, <c>timeZone</c> nullable; <c>supportsGuest</c>
    /// (default true), <c>loyaltyBiasEnabled</c> (default false). Nothing is stored when the body has issues.
    /// </summary>
    public QueueDistribution Create(Organization org, Sequence sequence, BodyReader body, string actor)
    {
        return store.Transaction(() =>
        {
            var q = Read(org, sequence, body, actor);
            if (body.HasIssues) return q;
            q.Id = ids.NewUuid("queue");
            store.Put(q);
            lifecycle.Track(q);
            return q;
        });
    }

    DistributionBase IDistributionEngine.Create(Organization org, Sequence sequence, BodyReader body, string actor) =>
        Create(org, sequence, body, actor);

    public void ValidateCreate(Organization org, BodyReader body) => Read(org, new Sequence(), body, "");

    private QueueDistribution Read(Organization org, Sequence sequence, BodyReader body, string actor)
    {
        var q = new QueueDistribution();
        DistributionFields.ReadCreate(body, q, org, sequence, store, actor, Now(org.Id));
        q.AdmitRate = ReadAdmitRate(body, required: true) ?? 0;
        q.AdmissionExpirationSeconds = body.Number("admissionExpirationSeconds", nullable: true, min: 1);
        q.Capacity = body.Int("capacity", nullable: true, min: 1);
        q.MaxAdmissions = body.Int("maxAdmissions", nullable: true, min: 1);
        q.SupportsGuest = body.Bool("supportsGuest") ?? true;
        q.LoyaltyBiasEnabled = body.Bool("loyaltyBiasEnabled") ?? false;
        return q;
    }

    private static double? ReadAdmitRate(BodyReader body, bool required)
    {
        var rate = body.Number("admitRate", required: required);
        if (rate is <= 0)
        {
            body.AddIssue("admitRate", "gt_value", ">0", body.Root["admitRate"], $"Invalid value: Expected >0 but received {rate}");
            return null;
        }
        return rate;
    }

    /// <summary>
    /// <c>PUT /queues/{id}</c>: only the fields present change. 409 <c>Cannot update closed distribution</c> once the queue
    /// ended (or was killed). Records <c>distribution.updated</c> with the changed fields; a new <c>admitRate</c> applies
    /// from the next admission.
    /// </summary>
    public QueueDistribution Update(QueueDistribution queue, BodyReader body, string actor)
    {
        return store.Transaction(() =>
        {
            var live = Require(queue.OrganizationId, queue.Id);
            var now = Now(queue.OrganizationId);
            if (live.TimingState(now) is "ended" or "killed") throw ApiErrors.Conflict("Cannot update closed distribution");
            var q = DistributionQueries.Detached(live);
            var changes = new FieldChanges(body);
            DistributionFields.ReadUpdate(body, q, changes);
            if (body.Root.ContainsKey("admitRate") && ReadAdmitRate(body, required: true) is { } rate)
                changes.Set("admitRate", q.AdmitRate, rate, v => q.AdmitRate = v);
            changes.Set("admissionExpirationSeconds", q.AdmissionExpirationSeconds, body.Number("admissionExpirationSeconds", nullable: true, min: 1),
                v => q.AdmissionExpirationSeconds = v);
            changes.Set("capacity", q.Capacity, body.Int("capacity", nullable: true, min: 1), v => q.Capacity = v);
            changes.Set("maxAdmissions", q.MaxAdmissions, body.Int("maxAdmissions", nullable: true, min: 1), v => q.MaxAdmissions = v);
            if (body.Root.ContainsKey("supportsGuest") && body.Bool("supportsGuest", required: true) is { } g)
                changes.Set("supportsGuest", q.SupportsGuest, g, v => q.SupportsGuest = v);
            if (body.Root.ContainsKey("loyaltyBiasEnabled") && body.Bool("loyaltyBiasEnabled", required: true) is { } lb)
                changes.Set("loyaltyBiasEnabled", q.LoyaltyBiasEnabled, lb, v => q.LoyaltyBiasEnabled = v);
            body.ThrowIfInvalid();
            if (changes.Names.Count > 0) { q.UpdatedAt = now; q.UpdatedBy = actor; }
            store.Put(q);
            lifecycle.Updated(q, changes.Names);
            if (changes.Names.Contains("admitRate") && q.NextAdmissionAt is not null)
            {
                var at = (q.LastAdmissionRunAt ?? now) + Period(q);
                ScheduleAdmission(q, at < now ? now : at);
            }
            EnsureAdmissionJob(q, now);
            return q;
        });
    }

    /// <summary><c>DELETE /queues/{id}</c>: removes the queue, its participations and its jobs; returns the deleted queue.</summary>
    public QueueDistribution Delete(QueueDistribution queue, string actor)
    {
        return store.Transaction(() =>
        {
            var q = Require(queue.OrganizationId, queue.Id);
            var line = Line(q);
            foreach (var p in line.All.ToList()) store.Delete<QueueParticipant>(p.Id);
            _lines.Remove(q.Id);
            scheduler.Cancel(AdmitJobId(q.Id));
            lifecycle.Untrack(q);
            store.Delete<QueueDistribution>(q.Id);
            return q;
        });
    }

    // ---------------------------------------------------------------- consumer

    /// <summary>
    /// <c>POST /queues/{queueId}/enter</c> for <paramref name="consumerId"/>. Returns the <c>QueueConsumerStatus</c>.
    /// Errors: 403 guest refused, 423 not open yet, 429 full (see the class summary).
    /// </summary>
    public JsonObject Enter(Organization org, QueueDistribution queue, string consumerId, bool isGuest, string? fingerprint)
    {
        return store.Transaction(() =>
        {
            var q = Require(org.Id, queue.Id);
            var line = Line(q);
            var now = Now(org.Id);
            var p = line.Get(consumerId);
            if (p is not null && p.Status is QueueStatuses.Queued or QueueStatuses.Granted or QueueStatuses.Completed or QueueStatuses.Denied)
                return StatusJson(q, p, consumerId, line, now);
            if (isGuest && !q.SupportsGuest)
                throw new ApiException(403, "Guest access not allowed", "This queue requires a signed-in consumer; guests cannot enter.",
                    new JsonObject
                    {
                        ["error"] = "Guest access not allowed", ["code"] = "AUTH_REQUIRED",
                        ["message"] = "This queue requires a signed-in consumer; guests cannot enter.",
                    });
            var state = q.TimingState(now);
            if (state == "upcoming")
                throw new ApiException(423, "Queue is not open yet", null, null,
                    new Dictionary<string, string> { ["Retry-After"] = DistributionFields.RetryAfter(q.OpenAt!.Value) });
            p ??= NewParticipant(q, consumerId);
            if (state is "ended" or "killed")
            {
                DenyParticipant(q, p, line, "QUEUE_CLOSED", now);
                return StatusJson(q, p, consumerId, line, now);
            }
            if (q.Capacity is int cap && line.QueuedCount >= cap)
                throw new ApiException(429, "Queue is full", null, null, new Dictionary<string, string> { ["Retry-After"] = "30" });

            p.Status = QueueStatuses.Queued;
            p.EntryPosition = line.Enqueue(p);
            p.EnteredAt = now;
            p.GrantedAt = p.ExpiresAt = p.DequeuedAt = p.LeftAt = p.CompletedAt = p.DeniedAt = p.ExpiredAt = null;
            p.DeniedReason = null;
            p.GrantId = null;
            p.Fingerprint = string.IsNullOrEmpty(fingerprint) ? null : fingerprint;
            p.Entries++;
            store.Put(p);
            outbox.Record(org.Id, "queue.consumer.entered", Data(q, consumerId, new JsonObject
            {
                ["position"] = p.EntryPosition, ["enteredAt"] = Json.Iso(now),
            }));
            EnsureAdmissionJob(q, now);
            return StatusJson(q, p, consumerId, line, now);
        });
    }

    /// <summary>A new participation object; the line tracks it once it is queued or denied.</summary>
    private static QueueParticipant NewParticipant(QueueDistribution q, string consumerId) => new()
    {
        Id = ParticipantId(q.Id, consumerId), OrganizationId = q.OrganizationId, QueueId = q.Id, ConsumerId = consumerId,
    };

    /// <summary>
    /// <c>POST /queues/{queueId}/leave</c>: a QUEUED consumer (or a GRANTED one, whose grant is revoked) → LEFT, with
    /// <c>queue.consumer.left</c> (<c>positionWhenLeft</c>). 404 <c>Consumer not in queue</c> otherwise.
    /// </summary>
    public JsonObject Leave(Organization org, QueueDistribution queue, string consumerId)
    {
        return store.Transaction(() =>
        {
            var q = Require(org.Id, queue.Id);
            var line = Line(q);
            var now = Now(org.Id);
            var p = line.Get(consumerId);
            if (p is null || p.Status is not (QueueStatuses.Queued or QueueStatuses.Granted)) throw ApiErrors.NotFoundError(NotInQueue);
            int? positionWhenLeft = line.Position(consumerId);
            if (p.Status == QueueStatuses.Granted) RevokeGrant(p);
            line.Remove(consumerId);
            p.Status = QueueStatuses.Left;
            p.LeftAt = now;
            p.DequeuedAt = now;
            store.Put(p);
            outbox.Record(org.Id, "queue.consumer.left", Data(q, consumerId, new JsonObject
            {
                ["leftAt"] = Json.Iso(now), ["positionWhenLeft"] = positionWhenLeft,
            }));
            return StatusJson(q, p, consumerId, line, now);
        });
    }

    /// <summary><c>GET /queues/{queueId}/status</c>: the consumer's <c>QueueConsumerStatus</c> (NOT_QUEUED when never entered).</summary>
    public JsonObject Status(Organization org, QueueDistribution queue, string consumerId)
    {
        lock (store.Sync)
        {
            var q = Require(org.Id, queue.Id);
            var line = Line(q);
            return StatusJson(q, line.Get(consumerId), consumerId, line, Now(org.Id));
        }
    }

    /// <summary>
    /// <c>POST /queues/{queueId}/admit</c> (server side): admits a QUEUED consumer now, whatever the rate and
    /// <c>maxAdmissions</c>. A GRANTED or COMPLETED consumer's status is returned unchanged. 404 <c>Consumer not in queue</c>
    /// for anyone else.
    /// </summary>
    public JsonObject Admit(Organization org, QueueDistribution queue, string consumerId)
    {
        return store.Transaction(() =>
        {
            var q = Require(org.Id, queue.Id);
            var line = Line(q);
            var now = Now(org.Id);
            var p = line.Get(consumerId);
            if (p is null || p.Status is not (QueueStatuses.Queued or QueueStatuses.Granted or QueueStatuses.Completed))
                throw ApiErrors.NotFoundError(NotInQueue);
            if (p.Status == QueueStatuses.Queued)
            {
                AdmitParticipant(org, q, p, line, now);
                store.Put(q);
            }
            return StatusJson(q, p, consumerId, line, now);
        });
    }

    /// <summary>
    /// <c>POST /queues/{queueId}/deny</c> (server side): the consumer → DENIED with <paramref name="reason"/> (a waiting
    /// consumer leaves the line, a granted one loses its grant; a consumer who never entered is recorded as denied, so a
    /// later entry returns DENIED). A COMPLETED or already DENIED consumer is returned unchanged. 404 <c>Consumer not
    /// found</c> for an unknown consumer id.
    /// </summary>
    public JsonObject Deny(Organization org, QueueDistribution queue, string consumerId, string reason)
    {
        return store.Transaction(() =>
        {
            var q = Require(org.Id, queue.Id);
            var line = Line(q);
            var now = Now(org.Id);
            var p = line.Get(consumerId);
            if (p is null && consumers.Get(org.Id, consumerId) is null) throw ApiErrors.NotFoundError("Consumer not found");
            p ??= NewParticipant(q, consumerId);
            if (p.Status is not (QueueStatuses.Completed or QueueStatuses.Denied)) DenyParticipant(q, p, line, reason, now);
            return StatusJson(q, p, consumerId, line, now);
        });
    }

    /// <summary>
    /// QA helper <c>POST /_emulator/queues/{id}/admit</c> <c>{"count":N}</c>: admits the next <paramref name="count"/> waiting
    /// consumers now, ignoring the rate and <c>maxAdmissions</c>. Returns <c>{queueId, admitted:[{consumerId, position,
    /// admissionGrant, expiresAt}], waiting}</c>.
    /// </summary>
    public JsonObject AdmitNext(Organization org, QueueDistribution queue, int count)
    {
        return store.Transaction(() =>
        {
            var q = Require(org.Id, queue.Id);
            var line = Line(q);
            var now = Now(org.Id);
            var admitted = new JsonArray();
            foreach (var p in line.Front(count))
            {
                var grant = AdmitParticipant(org, q, p, line, now);
                admitted.Add(new JsonObject
                {
                    ["consumerId"] = p.ConsumerId, ["position"] = p.EntryPosition, ["admissionGrant"] = grant.Token,
                    ["expiresAt"] = Json.Iso(grant.ExpiresAt),
                });
            }
            store.Put(q);
            return new JsonObject { ["queueId"] = q.Id, ["admitted"] = admitted, ["waiting"] = line.QueuedCount };
        });
    }

    // ---------------------------------------------------------------- transitions

    private AdmissionGrant AdmitParticipant(Organization org, QueueDistribution q, QueueParticipant p, QueueLine line, DateTimeOffset now)
    {
        line.Remove(p.ConsumerId);
        DateTimeOffset? expiresAt = q.AdmissionExpirationSeconds is double s ? now.AddSeconds(s) : null;
        var grant = grants.Issue(org, q, p.ConsumerId, expiresAt, p.EntryPosition, p.Fingerprint);
        p.Status = QueueStatuses.Granted;
        p.GrantId = grant.Id;
        p.GrantedAt = now;
        p.ExpiresAt = expiresAt;
        p.DequeuedAt = now;
        q.AdmittedCount++;
        store.Put(p);
        outbox.Record(org.Id, "queue.consumer.admitted", Data(q, p.ConsumerId, new JsonObject
        {
            ["enteredAt"] = Json.Iso(p.EnteredAt), ["admittedAt"] = Json.Iso(now), ["admissionToken"] = grant.Token,
            ["waitTimeSeconds"] = p.EnteredAt is { } e ? (long)Math.Round((now - e).TotalSeconds) : 0,
        }));
        return grant;
    }

    private void DenyParticipant(QueueDistribution q, QueueParticipant p, QueueLine line, string reason, DateTimeOffset now)
    {
        if (p.Status == QueueStatuses.Granted) RevokeGrant(p);
        line.Remove(p.ConsumerId);
        line.Track(p);
        p.Status = QueueStatuses.Denied;
        p.DeniedReason = reason;
        p.DeniedAt = now;
        p.DequeuedAt = now;
        store.Put(p);
        outbox.Record(q.OrganizationId, "queue.consumer.denied", Data(q, p.ConsumerId, new JsonObject
        {
            ["deniedAt"] = Json.Iso(now), ["reason"] = reason,
        }));
    }

    private void RevokeGrant(QueueParticipant p)
    {
        if (store.Get<AdmissionGrant>(p.GrantId) is { } g) grants.Revoke(g);
    }

    /// <summary>Merchant completed the grant → COMPLETED + <c>queue.consumer.completed</c>.</summary>
    internal void OnGrantCompleted(AdmissionGrant grant)
    {
        store.Transaction(() =>
        {
            var q = store.Get<QueueDistribution>(grant.DistributionId);
            if (q is null) return;
            var line = Line(q);
            var p = line.Get(grant.ConsumerId);
            if (p is null || p.GrantId != grant.Id) return;
            var now = grant.CompletedAt ?? Now(q.OrganizationId);
            p.Status = QueueStatuses.Completed;
            p.CompletedAt = now;
            store.Put(p);
            outbox.Record(q.OrganizationId, "queue.consumer.completed", Data(q, p.ConsumerId, new JsonObject
            {
                ["completedAt"] = Json.Iso(now), ["orderId"] = grant.CompletionMetadata?["orderId"]?.DeepClone(),
            }));
        });
    }

    /// <summary>Grant lapsed → NOT_QUEUED (re-enterable while open), <c>dequeuedAt</c> = expiry instant.</summary>
    internal void OnGrantExpired(AdmissionGrant grant)
    {
        store.Transaction(() =>
        {
            var q = store.Get<QueueDistribution>(grant.DistributionId);
            if (q is null) return;
            var p = Line(q).Get(grant.ConsumerId);
            if (p is null || p.GrantId != grant.Id || p.Status != QueueStatuses.Granted) return;
            var now = Now(q.OrganizationId);
            p.Status = QueueStatuses.NotQueued;
            p.ExpiredAt = now;
            p.DequeuedAt = now;
            store.Put(p);
        });
    }

    /// <summary>At <c>closeAt</c>: everyone still waiting → DENIED <c>QUEUE_CLOSED</c>; the admission job stops.</summary>
    public void OnClosed(DistributionBase distribution)
    {
        if (distribution is not QueueDistribution) return;
        store.Transaction(() =>
        {
            var q = store.Get<QueueDistribution>(distribution.Id);
            if (q is null) return;
            var now = Now(q.OrganizationId);
            if (q.TimingState(now) is not ("ended" or "killed")) return;
            var line = Line(q);
            foreach (var p in line.Waiting().ToList()) DenyParticipant(q, p, line, "QUEUE_CLOSED", now);
            scheduler.Cancel(AdmitJobId(q.Id));
            q.NextAdmissionAt = null;
            store.Put(q);
        });
    }

    // ---------------------------------------------------------------- admission job

    private static string AdmitJobId(string queueId) => AdmitJobKind + ":" + queueId;

    private static TimeSpan Period(QueueDistribution q) => TimeSpan.FromSeconds(Math.Max(1.0, 60.0 / q.AdmitRate));

    private static bool CapReached(QueueDistribution q) => q.MaxAdmissions is int max && q.AdmittedCount >= max;

    private void ScheduleAdmission(QueueDistribution q, DateTimeOffset at)
    {
        q.NextAdmissionAt = at;
        scheduler.Schedule(AdmitJobId(q.Id), AdmitJobKind, at, new JsonObject { ["queueId"] = q.Id }, q.OrganizationId);
        store.Put(q);
    }

    /// <summary>Starts the queue's admission job when consumers wait and none is scheduled.</summary>
    private void EnsureAdmissionJob(QueueDistribution q, DateTimeOffset now)
    {
        if (q.NextAdmissionAt is not null || Line(q).QueuedCount == 0 || !q.IsOpen(now) || CapReached(q)) return;
        q.LastAdmissionRunAt = now;
        q.AdmitCredit = 0;
        ScheduleAdmission(q, now + Period(q));
    }

    /// <summary>The admission job: admits what fell due since the last run, then schedules the next run while consumers wait.</summary>
    internal void RunAdmission(string queueId)
    {
        store.Transaction(() =>
        {
            var q = store.Get<QueueDistribution>(queueId);
            if (q is null) return;
            var org = orgs.ById(q.OrganizationId);
            if (org is null) return;
            var now = Now(q.OrganizationId);
            q.NextAdmissionAt = null;
            var line = Line(q);
            if (!q.IsOpen(now) || line.QueuedCount == 0 || CapReached(q))
            {
                q.AdmitCredit = 0;
                store.Put(q);
                return;
            }
            var credit = q.AdmitCredit + Math.Max(0, (now - (q.LastAdmissionRunAt ?? now)).TotalMinutes) * q.AdmitRate;
            var due = (int)Math.Min(int.MaxValue, Math.Floor(credit + 1e-6));
            var n = Math.Min(due, line.QueuedCount);
            if (q.MaxAdmissions is int max) n = Math.Min(n, Math.Max(0, max - q.AdmittedCount));
            foreach (var p in line.Front(n)) AdmitParticipant(org, q, p, line, now);
            credit -= n;
            q.AdmitCredit = line.QueuedCount == 0 || CapReached(q) ? 0 : Math.Max(0, credit);
            q.LastAdmissionRunAt = now;
            if (line.QueuedCount > 0 && !CapReached(q)) ScheduleAdmission(q, now + Period(q));
            else store.Put(q);
        });
    }

    // ---------------------------------------------------------------- shapes

    private static JsonObject Data(QueueDistribution q, string consumerId, JsonObject extra)
    {
        var d = new JsonObject { ["queueId"] = q.Id, ["sequenceId"] = q.SequenceId, ["experienceId"] = q.ExperienceId, ["consumerId"] = consumerId };
        foreach (var (k, v) in extra.ToList()) { extra.Remove(k); d[k] = v; }
        return d;
    }

    /// <summary>Estimated wait for a position: <c>ceil(position / admitRate × 60)</c> seconds.</summary>
    public static int EstimatedWaitSeconds(QueueDistribution q, int position) =>
        (int)Math.Min(int.MaxValue, Math.Ceiling(position / q.AdmitRate * 60 - 1e-9));

    /// <summary>
    /// The OpenAPI <c>QueueConsumerStatus</c> variant for the participation, plus the older pages' fields
    /// (<c>queueId</c>, <c>consumerId</c>, <c>enteredAt</c>; <c>admissionToken</c> and <c>admittedAt</c> when GRANTED,
    /// <c>denyReason</c> when DENIED).
    /// </summary>
    private JsonObject StatusJson(QueueDistribution q, QueueParticipant? p, string consumerId, QueueLine line, DateTimeOffset now)
    {
        var status = p?.Status ?? QueueStatuses.NotQueued;
        var j = new JsonObject { ["status"] = status };
        switch (status)
        {
            case QueueStatuses.Queued:
                var position = line.Position(consumerId) ?? p!.EntryPosition;
                j["position"] = position;
                j["estimatedWaitTimeInSeconds"] = EstimatedWaitSeconds(q, position);
                j["positionDisplayMode"] = q.LoyaltyBiasEnabled ? "qualitative" : "precise";
                break;
            case QueueStatuses.Granted:
                var grant = store.Get<AdmissionGrant>(p!.GrantId);
                j["admissionGrant"] = grant?.Token;
                j["admissionToken"] = grant?.Token;
                if (p.ExpiresAt is { } exp) j["expiresAt"] = Json.Iso(exp);
                j["dequeuedAt"] = Json.Iso(p.DequeuedAt);
                j["position"] = p.EntryPosition;
                j["admittedAt"] = Json.Iso(p.GrantedAt);
                break;
            case QueueStatuses.Completed:
                j["completedAt"] = Json.Iso(p!.CompletedAt);
                j["position"] = p.EntryPosition;
                break;
            case QueueStatuses.Denied:
                j["reason"] = p!.DeniedReason;
                j["denyReason"] = p.DeniedReason;
                j["dequeuedAt"] = Json.Iso(p.DequeuedAt);
                j["position"] = null;
                break;
            default: // NOT_QUEUED, LEFT
                if (p?.DequeuedAt is { } dq) j["dequeuedAt"] = Json.Iso(dq);
                j["position"] = null;
                break;
        }
        j["queueId"] = q.Id;
        j["consumerId"] = consumerId;
        if (p?.EnteredAt is { } entered) j["enteredAt"] = Json.Iso(entered);
        return j;
    }

    /// <summary>The journey <c>QueueConsumer</c> (lowercase status) of consumer-part1.md <c>GET /consumers/me</c>.</summary>
    private JsonObject ConsumerJson(QueueDistribution q, QueueParticipant? p, string consumerId, QueueLine line)
    {
        var j = new JsonObject { ["status"] = (p?.Status ?? QueueStatuses.NotQueued).ToLowerInvariant() };
        if (p is null) { j["distributionId"] = q.Id; return j; }
        if (p.Status == QueueStatuses.Granted && store.Get<AdmissionGrant>(p.GrantId) is { } g) j["admissionGrant"] = g.Token;
        if (p.DeniedReason is not null && p.Status == QueueStatuses.Denied) j["deniedReason"] = p.DeniedReason;
        j["distributionId"] = q.Id;
        if (p.EnteredAt is { } e) j["enteredAt"] = Json.Iso(e);
        if (p.GrantedAt is { } ga && p.Status is QueueStatuses.Granted or QueueStatuses.Completed) j["grantedAt"] = Json.Iso(ga);
        j["id"] = p.Id;
        if (line.Position(consumerId) is int pos) j["position"] = pos;
        return j;
    }

    /// <summary>
    /// Journey view: <c>scheduled</c> before <c>openAt</c>; while open <c>enterable</c> (not_queued / left),
    /// <c>participating</c> (queued), <c>granted</c> (with the <c>Grant</c>), <c>ended</c> (completed / denied outcomes);
    /// once closed, a usable grant stays <c>granted</c>, everything else is <c>ended</c> (outcome <c>completed</c>,
    /// <c>denied</c>, <c>expired</c> or <c>closed</c>).
    /// </summary>
    public Participation View(DistributionBase distribution, string consumerId)
    {
        lock (store.Sync)
        {
            var q = (QueueDistribution)distribution;
            var line = Line(q);
            var now = Now(q.OrganizationId);
            var p = line.Get(consumerId);
            var consumer = ConsumerJson(q, p, consumerId, line);
            var state = q.TimingState(now);
            if (state == "upcoming") return new Participation("scheduled", null);
            JsonObject Outcome(string type, DateTimeOffset? at, string? reason = null)
            {
                var o = new JsonObject { ["type"] = type };
                if (at is { } t) o["at"] = Json.Iso(t);
                o["distributionId"] = q.Id;
                o["distributionType"] = DistributionTypes.Queue;
                if (reason is not null) o["reason"] = reason;
                return o;
            }
            switch (p?.Status)
            {
                case QueueStatuses.Granted when store.Get<AdmissionGrant>(p.GrantId) is { } g && g.IsUsable(now):
                    return new Participation("granted", consumer, g.ToGrantJson());
                case QueueStatuses.Completed:
                    return new Participation("ended", consumer, null, Outcome("completed", p.CompletedAt));
                case QueueStatuses.Denied:
                    return new Participation("ended", consumer, null, Outcome("denied", p.DeniedAt, p.DeniedReason));
                case QueueStatuses.Queued when state == "active":
                    return new Participation("participating", consumer);
            }
            if (state == "active") return new Participation("enterable", consumer);
            if (p?.ExpiredAt is { } expired && p.Status == QueueStatuses.NotQueued)
                return new Participation("ended", consumer, null, Outcome("expired", expired));
            if (p?.Status == QueueStatuses.Left) return new Participation("ended", consumer, null, Outcome("left", p.LeftAt));
            return new Participation("ended", consumer, null, Outcome("closed", q.CloseAt));
        }
    }

    /// <summary>QA listing: every participation in entry order with its state.</summary>
    public IReadOnlyList<JsonObject> Participants(DistributionBase distribution)
    {
        lock (store.Sync)
        {
            var q = (QueueDistribution)distribution;
            var line = Line(q);
            return line.All.OrderBy(p => p.Seq).Select(p =>
            {
                var j = new JsonObject
                {
                    ["consumerId"] = p.ConsumerId, ["status"] = p.Status, ["position"] = line.Position(p.ConsumerId),
                    ["entryPosition"] = p.EntryPosition == 0 ? null : p.EntryPosition,
                    ["enteredAt"] = Json.Iso(p.EnteredAt), ["grantedAt"] = Json.Iso(p.GrantedAt), ["expiresAt"] = Json.Iso(p.ExpiresAt),
                    ["dequeuedAt"] = Json.Iso(p.DequeuedAt), ["leftAt"] = Json.Iso(p.LeftAt), ["completedAt"] = Json.Iso(p.CompletedAt),
                    ["deniedAt"] = Json.Iso(p.DeniedAt), ["deniedReason"] = p.DeniedReason, ["expiredAt"] = Json.Iso(p.ExpiredAt),
                    ["entries"] = p.Entries,
                };
                return j;
            }).ToList();
        }
    }

    /// <summary>
    /// QA: <paramref name="count"/> synthetic consumers (guests, or registered consumers when the queue refuses guests)
    /// enter, in one step. Stops early when the queue is full; 423 when it is not open yet.
    /// </summary>
    public IReadOnlyList<string> Simulate(Organization org, DistributionBase distribution, int count)
    {
        return store.Transaction(() =>
        {
            var q = Require(org.Id, distribution.Id);
            var now = Now(org.Id);
            if (q.TimingState(now) == "upcoming")
                throw new ApiException(423, "Queue is not open yet", null, null,
                    new Dictionary<string, string> { ["Retry-After"] = DistributionFields.RetryAfter(q.OpenAt!.Value) });
            var entered = new List<string>(count);
            for (int i = 0; i < count; i++)
            {
                if (q.Capacity is int cap && Line(q).QueuedCount >= cap) break;
                var c = consumers.Create(org.Id, q.SupportsGuest ? "guest" : "admin", guest: q.SupportsGuest);
                Enter(org, q, c.Id, c.IsGuest, null);
                entered.Add(c.Id);
            }
            return (IReadOnlyList<string>)entered;
        });
    }
}
