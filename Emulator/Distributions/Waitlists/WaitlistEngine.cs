using System.Text;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Consumers;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Messaging;
using Fanfare.Emulator.Distributions;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Distributions.Sequences;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Events;
using Fanfare.Emulator.Infrastructure.Ids;
using Fanfare.Emulator.Infrastructure.Store;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.Distributions.Waitlists;

/// <summary>
/// Marks waitlist entries <c>CONVERTED</c> when their consumer takes part in a distribution of the waitlist's sequence.
/// Hears the outbox (<c>*.consumer.entered</c>, <c>*.consumer.admitted</c>, <c>*.consumer.won</c>, <c>auction.bid.placed</c>
/// carrying <c>sequenceId</c> + <c>consumerId</c>) and direct calls (appointment bookings). No HTTP, no events of its own.
/// </summary>
public sealed class WaitlistConversions(DocumentStore store, ClockResolver clocks) : IEventSubscriber
{
    private static readonly string[] Suffixes = [".consumer.entered", ".consumer.admitted", ".consumer.won", ".bid.placed"];

    public void OnEvent(OutboxEvent evt)
    {
        if (!Suffixes.Any(s => evt.Type.EndsWith(s, StringComparison.Ordinal))) return;
        var sequenceId = evt.Data["sequenceId"] is JsonValue s && s.TryGetValue<string>(out var sid) ? sid : null;
        var consumerId = evt.Data["consumerId"] is JsonValue c && c.TryGetValue<string>(out var cid) ? cid : null;
        if (sequenceId is not null && consumerId is not null) Convert(evt.OrganizationId, sequenceId, consumerId);
    }

    /// <summary>Converts the consumer's active entry on the sequence's waitlist, if any.</summary>
    public void Convert(string organizationId, string sequenceId, string consumerId)
    {
        store.Transaction(() =>
        {
            var now = clocks.For(organizationId).GetUtcNow();
            foreach (var e in store.Where<WaitlistEntry>(e => e.OrganizationId == organizationId && e.SequenceId == sequenceId
                         && e.ConsumerId == consumerId && WaitlistStatus.IsActive(e.Status)))
            {
                e.Status = WaitlistStatus.Converted;
                e.ConvertedAt = now;
                e.UpdatedAt = now;
                store.Put(e);
            }
        });
    }
}

/// <summary>
/// Waitlists (behavior.md §3.8): one per sequence; consumers enter / leave / check status; every active entry becomes
/// <c>NOTIFIED</c> (with an email or SMS in the fake inbox) when a distribution of its sequence opens on the clock
/// (<see cref="IDistributionLifecycleListener.OnOpened"/>), or at once when one is already open at entry; <c>CONVERTED</c>
/// when the consumer then takes part in that sequence. Entry is refused with the non-standard 409
/// <c>{"code":"DISTRIBUTION_ORDER_LIMIT",…}</c> once the consumer reached the sequence's order limit
/// (<see cref="OrderLimits"/>), and with 409 <c>{"code":"WAITLIST_FULL",…}</c> at capacity.
/// </summary>
public sealed class WaitlistEngine(DocumentStore store, IdGenerator ids, ClockResolver clocks, OrderLimits orderLimits,
    WaitlistConversions conversions, MessageOutbox messages, OrganizationDirectory orgs, IServiceProvider services)
    : IAdminDistributionEngine<Waitlist>, IDistributionLifecycleListener
{
    public const string NotFound = "Waitlist not found";
    private static readonly HashSet<string> NotParticipating = ["not_queued", "not_entered", "not_bid", "not_booked", "left", "cancelled"];

    private DistributionRegistry Registry => services.GetRequiredService<DistributionRegistry>();

    public Waitlist? Find(string organizationId, string? id) =>
        store.Get<Waitlist>(id) is { } w && w.OrganizationId == organizationId && !w.Archived ? w : null;

    public Waitlist Require(string organizationId, string? id) => Find(organizationId, id) ?? throw ApiErrors.NotFoundError(NotFound);

    public Waitlist? ForSequence(string organizationId, string sequenceId) =>
        store.First<Waitlist>(w => w.OrganizationId == organizationId && w.SequenceId == sequenceId && !w.Archived);

    /// <summary>The organization's live waitlists in creation order, optionally of one sequence.</summary>
    public List<Waitlist> List(string organizationId, string? sequenceId = null) =>
        store.Where<Waitlist>(w => w.OrganizationId == organizationId && !w.Archived && (sequenceId is null || w.SequenceId == sequenceId));

    public JsonObject ToJson(Waitlist w) => w.ToJson();

    /// <summary>admin-part4.md <c>POST /waitlists</c> <c>{sequenceId, capacity?}</c>: reads <c>capacity</c> (integer ≥ 1 or
    /// null); 400 on issues, then as <see cref="Create(Organization, Sequence, int?, string, string?)"/>.</summary>
    public Waitlist Create(Organization org, Sequence sequence, BodyReader body, string actor)
    {
        var capacity = ReadCapacity(body);
        body.ThrowIfInvalid();
        return Create(org, sequence, capacity, actor);
    }

    public void ValidateCreate(Organization org, BodyReader body) => ReadCapacity(body);

    private static int? ReadCapacity(BodyReader body) => body.Int("capacity", nullable: true, min: 1);

    /// <summary>Creates the sequence's waitlist. A second one for the same sequence is a 400 <c>unique</c> issue on <c>sequenceId</c>.</summary>
    public Waitlist Create(Organization org, Sequence sequence, int? capacity, string actor, string? id = null)
    {
        return store.Transaction(() =>
        {
            if (ForSequence(org.Id, sequence.Id) is not null)
                throw Validation.Single("sequenceId", "unique", "unique", "\"" + sequence.Id + "\"", "validation.unique");
            var w = new Waitlist
            {
                Id = id ?? ids.NewUuid("waitlist"), OrganizationId = org.Id, SequenceId = sequence.Id, Capacity = capacity,
                CreatedAt = clocks.For(org.Id).GetUtcNow(), CreatedBy = actor,
            };
            store.Put(w);
            return w;
        });
    }

    /// <summary>admin-part4.md <c>PUT /waitlists/{id}</c> <c>{capacity?}</c>: 400 on issues; <c>capacity</c> changes when present.</summary>
    public Waitlist Update(Waitlist w, BodyReader body, string actor)
    {
        var capacity = ReadCapacity(body);
        body.ThrowIfInvalid();
        return store.Transaction(() =>
        {
            if (body.Root.ContainsKey("capacity")) w.Capacity = capacity;
            w.UpdatedAt = clocks.For(w.OrganizationId).GetUtcNow();
            w.UpdatedBy = actor;
            store.Put(w);
            return w;
        });
    }

    /// <summary>Deletes (archives) a waitlist; its entries stay for history but it no longer answers.</summary>
    public Waitlist Archive(Waitlist w, string actor)
    {
        return store.Transaction(() =>
        {
            w.Archived = true;
            w.UpdatedAt = clocks.For(w.OrganizationId).GetUtcNow();
            w.UpdatedBy = actor;
            store.Put(w);
            return w;
        });
    }

    Waitlist IAdminDistributionEngine<Waitlist>.Delete(Waitlist w, string actor) => Archive(w, actor);

    public List<WaitlistEntry> Entries(Waitlist w) => store.Where<WaitlistEntry>(e => e.WaitlistId == w.Id);

    public WaitlistEntry? EntryOf(Waitlist w, string consumerId) => store.First<WaitlistEntry>(e => e.WaitlistId == w.Id && e.ConsumerId == consumerId);

    /// <summary>The consumer's active entries in an organization (for <c>GET /consumers/me</c>).</summary>
    public List<WaitlistEntry> ActiveEntriesOf(string organizationId, string consumerId)
    {
        var list = store.Where<WaitlistEntry>(e => e.OrganizationId == organizationId && e.ConsumerId == consumerId && WaitlistStatus.IsActive(e.Status));
        foreach (var e in list) Refresh(e);
        return list.Where(e => WaitlistStatus.IsActive(e.Status) && Find(organizationId, e.WaitlistId) is not null).ToList();
    }

    /// <summary>1-based rank among the waitlist's active entries, in entry order.</summary>
    public int Position(WaitlistEntry entry)
    {
        var active = store.Where<WaitlistEntry>(e => e.WaitlistId == entry.WaitlistId && WaitlistStatus.IsActive(e.Status))
            .OrderBy(e => e.EnteredAt).ToList();
        var i = active.FindIndex(e => e.Id == entry.Id);
        return i < 0 ? 0 : i + 1;
    }

    /// <summary>
    /// <c>POST /waitlists/{id}/enter</c> (and the admin <c>POST /sequences/{id}/waitlist/enter</c>): re-entry returns the
    /// existing active entry; a left (or converted) entry is reactivated with a new <c>enteredAt</c>.
    /// </summary>
    public WaitlistEntry Enter(Organization org, Waitlist w, string consumerId)
    {
        return store.Transaction(() =>
        {
            var existing = EntryOf(w, consumerId);
            if (existing is not null && WaitlistStatus.IsActive(existing.Status)) return existing;
            if (orderLimits.Reached(org.Id, w.SequenceId, consumerId) is { } limit)
                throw new ApiException(409, "DISTRIBUTION_ORDER_LIMIT", null, new JsonObject
                {
                    ["code"] = "DISTRIBUTION_ORDER_LIMIT",
                    ["action"] = "reroute",
                    ["message"] = "Entry denied: per-person order limit reached",
                    ["details"] = new JsonObject
                    {
                        ["sequenceId"] = w.SequenceId, ["waitlistId"] = w.Id, ["limitId"] = limit.Id, ["productId"] = limit.ProductId,
                        ["maxQuantity"] = limit.MaxQuantity, ["timeWindowSeconds"] = limit.TimeWindowSeconds, ["timeWindowType"] = limit.TimeWindowType,
                    },
                });
            if (w.Capacity is int cap && store.Where<WaitlistEntry>(e => e.WaitlistId == w.Id && WaitlistStatus.IsActive(e.Status)).Count >= cap)
                throw new ApiException(409, "WAITLIST_FULL", null, new JsonObject
                {
                    ["code"] = "WAITLIST_FULL", ["message"] = "The waitlist is full.",
                    ["details"] = new JsonObject { ["waitlistId"] = w.Id, ["capacity"] = cap },
                });
            var now = clocks.For(org.Id).GetUtcNow();
            var entry = existing ?? new WaitlistEntry { Id = ids.NewUuid("waitlist-entry"), OrganizationId = org.Id, WaitlistId = w.Id, SequenceId = w.SequenceId, ConsumerId = consumerId };
            entry.Status = WaitlistStatus.Waiting;
            entry.EnteredAt = now;
            entry.NotifiedAt = null; entry.ConvertedAt = null; entry.LeftAt = null;
            entry.UpdatedAt = now;
            store.Put(entry);
            if (SequenceIsOpen(org.Id, w.SequenceId, now)) Notify(org, entry, now);
            return entry;
        });
    }

    /// <summary><c>DELETE /waitlists/{id}/leave</c>: true when an active entry was left.</summary>
    public bool Leave(Waitlist w, string consumerId)
    {
        return store.Transaction(() =>
        {
            var e = EntryOf(w, consumerId);
            if (e is null || !WaitlistStatus.IsActive(e.Status)) return false;
            var now = clocks.For(w.OrganizationId).GetUtcNow();
            e.Status = WaitlistStatus.Left;
            e.LeftAt = now;
            e.UpdatedAt = now;
            store.Put(e);
            return true;
        });
    }

    /// <summary>
    /// <c>GET /waitlists/{id}/status</c>: <c>{waitlistId, isEntered, enteredAt?, sequenceId?}</c> plus the emulator's
    /// <c>status</c> (<c>WAITING</c>/<c>NOTIFIED</c>/<c>CONVERTED</c>/<c>LEFT</c>), <c>position</c> and <c>notifiedAt</c> when entered.
    /// </summary>
    public JsonObject Status(Waitlist w, string consumerId)
    {
        var e = EntryOf(w, consumerId);
        if (e is not null) Refresh(e);
        var body = new JsonObject { ["waitlistId"] = w.Id, ["isEntered"] = e is not null && WaitlistStatus.IsActive(e.Status) };
        if (e is null) return body;
        body["enteredAt"] = Json.Iso(e.EnteredAt);
        body["sequenceId"] = w.SequenceId;
        body["status"] = e.Status;
        if (WaitlistStatus.IsActive(e.Status)) body["position"] = Position(e);
        if (e.NotifiedAt is { } n) body["notifiedAt"] = Json.Iso(n);
        return body;
    }

    /// <summary>The consumer-facing entry shape <c>{id, waitlistId, sequenceId, consumerId, enteredAt}</c>.</summary>
    public static JsonObject EntryJson(WaitlistEntry e) => new()
    {
        ["id"] = e.Id, ["waitlistId"] = e.WaitlistId, ["sequenceId"] = e.SequenceId, ["consumerId"] = e.ConsumerId, ["enteredAt"] = Json.Iso(e.EnteredAt),
    };

    /// <summary>Brings an entry up to date on read: notifies a waiting entry whose sequence is open, and converts an active
    /// entry whose consumer already takes part in a distribution of the sequence (engines that record no entry event, e.g.
    /// timed releases, are caught here).</summary>
    public void Refresh(WaitlistEntry e)
    {
        if (!WaitlistStatus.IsActive(e.Status)) return;
        var now = clocks.For(e.OrganizationId).GetUtcNow();
        if (e.Status == WaitlistStatus.Waiting && SequenceIsOpen(e.OrganizationId, e.SequenceId, now) && orgs.ById(e.OrganizationId) is { } org)
            store.Transaction(() => Notify(org, e, now)); // opened without an open event (e.g. openAt moved into the past)
        foreach (var (engine, d) in Registry.ForSequence(e.OrganizationId, e.SequenceId))
        {
            if (d.Archived) continue;
            var status = engine.View(d, e.ConsumerId).Consumer?["status"]?.GetValue<string>();
            if (status is not null && !NotParticipating.Contains(status))
            {
                conversions.Convert(e.OrganizationId, e.SequenceId, e.ConsumerId);
                return;
            }
        }
    }

    /// <summary><c>POST /waitlists/{id}/export</c>: a completed export whose file is a CSV of every entry.</summary>
    public WaitlistExport Export(Waitlist w, string actor)
    {
        return store.Transaction(() =>
        {
            var entries = Entries(w);
            var directory = services.GetRequiredService<ConsumerDirectory>();
            var csv = new StringBuilder("consumerId,email,phone,fullName,status,enteredAt,notifiedAt\n");
            foreach (var e in entries)
            {
                var c = directory.Get(w.OrganizationId, e.ConsumerId);
                csv.Append(string.Join(',', new[] { e.ConsumerId, c?.Email, c?.Phone, c?.FullName, WaitlistStatus.Admin(e.Status), Json.Iso(e.EnteredAt), Json.Iso(e.NotifiedAt) }
                    .Select(Csv))).Append('\n');
            }
            var previous = store.Where<WaitlistExport>(x => x.WaitlistId == w.Id).Count;
            var now = clocks.For(w.OrganizationId).GetUtcNow();
            var export = new WaitlistExport
            {
                Id = ids.NewUuid("waitlist-export"), OrganizationId = w.OrganizationId, WaitlistId = w.Id, Status = "COMPLETED", Progress = 100,
                ConsumerCount = entries.Count, LastFileId = previous + 1, Csv = csv.ToString(), CreatedAt = now, CreatedBy = actor, UpdatedAt = now, UpdatedBy = actor,
            };
            store.Put(export);
            return export;
        });
    }

    private static string Csv(string? v) =>
        v is null ? "" : v.IndexOfAny([',', '"', '\n']) >= 0 ? "\"" + v.Replace("\"", "\"\"") + "\"" : v;

    public WaitlistExport? LatestExport(Waitlist w) => store.Where<WaitlistExport>(x => x.WaitlistId == w.Id).LastOrDefault();

    public WaitlistExport? ExportFile(Waitlist w, string fileId) =>
        store.First<WaitlistExport>(x => x.WaitlistId == w.Id && (x.LastFileId?.ToString() == fileId || x.Id == fileId));

    /// <summary>A distribution of a waitlisted sequence opened: every <c>WAITING</c> entry becomes <c>NOTIFIED</c>.</summary>
    public void OnOpened(DistributionBase distribution)
    {
        if (distribution.Archived || ForSequence(distribution.OrganizationId, distribution.SequenceId) is not { } w) return;
        var org = orgs.ById(w.OrganizationId);
        if (org is null) return;
        store.Transaction(() =>
        {
            var now = clocks.For(org.Id).GetUtcNow();
            foreach (var e in Entries(w).Where(e => e.Status == WaitlistStatus.Waiting)) Notify(org, e, now);
        });
    }

    private bool SequenceIsOpen(string organizationId, string sequenceId, DateTimeOffset now) =>
        Registry.ForSequence(organizationId, sequenceId).Any(x => !x.Distribution.Archived && x.Distribution.IsOpen(now));

    private void Notify(Organization org, WaitlistEntry e, DateTimeOffset now)
    {
        e.Status = WaitlistStatus.Notified;
        e.NotifiedAt = now;
        e.UpdatedAt = now;
        store.Put(e);
        var consumer = services.GetRequiredService<ConsumerDirectory>().Get(org.Id, e.ConsumerId);
        var sequence = store.Get<Sequence>(e.SequenceId);
        var what = sequence?.Name is { Length: > 0 } name ? name : "the drop";
        if (consumer?.Email is { } email)
            messages.SendEmail(org.Id, email, $"{org.Name} <no-reply@{org.Slug}.fanfare.local>", $"{what} is open now",
                $"Good news: {what} is open now. You were on the waitlist, so head back and enter while it lasts.",
                $"<p>Good news: <strong>{System.Net.WebUtility.HtmlEncode(what)}</strong> is open now.</p><p>You were on the waitlist, so head back and enter while it lasts.</p>",
                null);
        else if (consumer?.Phone is { } phone)
            messages.SendSms(org.Id, phone, org.Name, $"{org.Name}: {what} is open now. You were on the waitlist, head back and enter while it lasts.", null);
    }
}
