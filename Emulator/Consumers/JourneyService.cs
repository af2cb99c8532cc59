using System.Text.Json.Nodes;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Distributions;
using Fanfare.Emulator.Distributions.Sequences;
using Fanfare.Emulator.Distributions.Waitlists;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Store;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.Consumers;

/// <summary>
/// <c>GET /consumers/me</c> (consumer-part1.md): <c>{active:{journeys:[Journey]}, waitlists:[{waitlistId, sequenceId,
/// experienceId, enteredAt, position}]}</c>. A journey is listed for every live experience the consumer entered (and did
/// not leave), was routed or gated in, takes part in (any distribution whose consumer status is not <c>not_*</c>), or
/// waits for (active waitlist entry). Gated (last route gated, nothing joined yet) → <c>{experienceId, journeyStage:"gated",
/// gates, selected:{sequenceId}, updatedAt}</c>; otherwise <c>{experienceId, journeyStage:"routed", sequenceId, sequence,
/// offers?, updatedAt}</c>, where <c>sequence</c> is the phase view of the sequence's most relevant distribution (the one
/// the consumer takes part in, else the open one, else the next scheduled, else the last ended):
/// <c>{phase, mechanism, distribution:{type, id, sequenceId, lifecycle, opensAt?, closesAt?, settlesAt?, details},
/// consumer?, grant?, outcome?}</c> built from <see cref="IDistributionEngine.View"/>; <c>{phase:"unavailable"}</c> when
/// the sequence has no distribution.
/// </summary>
public sealed class JourneyService(DocumentStore store, ClockResolver clocks, ExperienceService experiences, SequenceService sequences,
    WaitlistEngine waitlists)
{
    private static readonly HashSet<string> NotJoined = ["not_queued", "not_entered", "not_bid", "not_booked"];

    private static readonly Dictionary<string, string> DefaultStatus = new()
    {
        [DistributionTypes.Queue] = "not_queued", [DistributionTypes.Draw] = "not_entered", [DistributionTypes.Auction] = "not_bid",
        [DistributionTypes.TimedRelease] = "not_entered", [DistributionTypes.Appointment] = "not_booked",
    };

    private static readonly Dictionary<string, int> PhaseRank = new()
    {
        ["granted"] = 6, ["settling"] = 5, ["participating"] = 4, ["enterable"] = 3, ["ended"] = 2, ["scheduled"] = 1,
    };

    private sealed record Seen(IDistributionEngine Engine, DistributionBase Distribution, Participation View)
    {
        public bool Joined => View.Consumer?["status"] is JsonValue v && v.TryGetValue<string>(out var s) && !NotJoined.Contains(s);
    }

    /// <summary>
    /// Which experiences can show a journey for a consumer, at one store state: the ones the consumer entered, was routed or
    /// gated in, or takes part in (a distribution whose consumer status is not <c>not_*</c>). That set is a function of stored
    /// documents (the consumer statuses come from the participation documents) and of one instant only: a view has no
    /// consumer before its distribution's <c>openAt</c>. So it is cached until the store changes or the clock reaches the next
    /// <c>openAt</c> still ahead (a distribution opening can make a participation count); what the journeys show (phases,
    /// grants, timestamps) is always computed afresh. Only kept for consumers without active waitlist entries (reading those
    /// may advance them on the clock).
    /// </summary>
    private readonly StoreReadCache<(string Org, string Mode, string Consumer), (string[] Experiences, DateTimeOffset? ValidUntil)> _journeyExperiences = new(store);

    private readonly StoreReadCache<(string Org, string Mode, string Consumer), bool> _exists = new(store);

    /// <summary>True when the consumer is stored in the organization (cached until the store changes).</summary>
    public bool ConsumerExists(Organization org, string consumerId) =>
        _exists.Get((org.Id, DocumentStore.Mode, consumerId), () => store.Get<Consumer>(consumerId) is { } c && c.OrganizationId == org.Id);

    public JsonObject Me(Organization org, string consumerId)
    {
        var key = (org.Id, DocumentStore.Mode, consumerId);
        if (_journeyExperiences.TryGet(key, out var cached) && cached.Experiences.Length == 0 && Valid(cached.ValidUntil)) return Empty();
        // One hold of the store lock for the whole walk (reentrant): the many small lookups below re-enter it instead of
        // queueing again behind concurrent requests for each one, and the answer reflects one consistent state.
        lock (store.Sync)
        {
            var stamp = store.ChangeStamp;
            string[]? only = _journeyExperiences.TryGet(key, out var plan) && Valid(plan.ValidUntil) ? plan.Experiences : null;
            var shown = new List<string>();
            var result = MeLocked(org, consumerId, only, shown, out var hasEntries, out var nextOpen);
            if (only is null && !hasEntries) _journeyExperiences.Set(key, stamp, (shown.ToArray(), nextOpen));
            return result;
        }

        bool Valid(DateTimeOffset? until) => until is not { } u || clocks.For(org.Id).GetUtcNow() < u;
    }

    private static JsonObject Empty() => new() { ["active"] = new JsonObject { ["journeys"] = new JsonArray() }, ["waitlists"] = new JsonArray() };

    /// <param name="org">The consumer's organization.</param>
    /// <param name="consumerId">The consumer whose journeys are read.</param>
    /// <param name="only">The experiences to look at (a cached <see cref="_journeyExperiences"/>), or null for all.</param>
    /// <param name="shown">Receives the experiences that passed the participation check.</param>
    /// <param name="hasEntries">True when the consumer has active waitlist entries in the store.</param>
    /// <param name="nextOpen">The earliest <c>openAt</c> after now among the distributions looked at (null: none).</param>
    private JsonObject MeLocked(Organization org, string consumerId, string[]? only, List<string> shown, out bool hasEntries,
        out DateTimeOffset? nextOpen)
    {
        var now = clocks.For(org.Id).GetUtcNow();
        nextOpen = null;
        hasEntries = store.First<WaitlistEntry>(e => e.OrganizationId == org.Id && e.ConsumerId == consumerId && WaitlistStatus.IsActive(e.Status)) is not null;
        var journeys = new JsonArray();
        var entries = hasEntries ? waitlists.ActiveEntriesOf(org.Id, consumerId) : [];
        var list = only is null ? experiences.List(org.Id) : only.Select(id => experiences.Find(org.Id, id)).OfType<Experience>().ToList();
        foreach (var e in list)
        {
            var doc = store.Get<ExperienceJourney>(ExperienceJourney.KeyOf(e.Id, consumerId));
            var seqs = sequences.ByPriority(org.Id, e.Id);
            var views = seqs.ToDictionary(s => s.Id, s => sequences.Distributions(org.Id, s.Id)
                .Select(x => new Seen(x.Engine, x.Distribution, x.Engine.View(x.Distribution, consumerId))).ToList());
            foreach (var distributionViews in views.Values)
                foreach (var v in distributionViews)
                    if (v.Distribution.OpenAt is { } open && open > now && (nextOpen is null || open < nextOpen)) nextOpen = open;
            var joined = seqs.FirstOrDefault(s => views[s.Id].Any(v => v.Joined));
            var waiting = entries.FirstOrDefault(w => seqs.Any(s => s.Id == w.SequenceId));
            var active = doc is { LeftAt: null } && (doc.EnteredAt is not null || doc.Outcome is "routed" or "gated");
            if (joined is null && waiting is null && !active) continue;
            shown.Add(e.Id);

            if (joined is null && waiting is null && doc!.Outcome == "gated")
            {
                var gatedJourney = new JsonObject
                {
                    ["experienceId"] = e.Id, ["journeyStage"] = "gated", ["gates"] = doc.Gates?.DeepClone() ?? new JsonArray(),
                };
                if (doc.SequenceId is not null) gatedJourney["selected"] = new JsonObject { ["sequenceId"] = doc.SequenceId };
                gatedJourney["updatedAt"] = Json.Iso(doc.UpdatedAt);
                journeys.Add(gatedJourney);
                continue;
            }
            var sequenceId = joined?.Id ?? (doc?.Outcome == "routed" ? doc.SequenceId : null) ?? waiting?.SequenceId ?? seqs.FirstOrDefault()?.Id;
            if (sequenceId is null || !views.TryGetValue(sequenceId, out var seen)) continue;
            var j = new JsonObject
            {
                ["experienceId"] = e.Id, ["journeyStage"] = "routed", ["sequenceId"] = sequenceId, ["sequence"] = SequenceView(seen, now),
            };
            if (doc?.Offers is { Count: > 0 } offers) j["offers"] = offers.DeepClone();
            j["updatedAt"] = Json.Iso(doc?.UpdatedAt ?? now);
            journeys.Add(j);
        }
        var waitlistArr = new JsonArray();
        foreach (var w in entries)
            waitlistArr.Add(new JsonObject
            {
                ["waitlistId"] = w.WaitlistId, ["sequenceId"] = w.SequenceId,
                ["experienceId"] = store.Get<Sequence>(w.SequenceId)?.ExperienceId ?? "",
                ["enteredAt"] = Json.Iso(w.EnteredAt), ["position"] = waitlists.Position(w),
            });
        return new JsonObject { ["active"] = new JsonObject { ["journeys"] = journeys }, ["waitlists"] = waitlistArr };
    }

    private static JsonObject SequenceView(List<Seen> seen, DateTimeOffset now)
    {
        if (seen.Count == 0) return new JsonObject { ["phase"] = "unavailable", ["reason"] = "NO_DISTRIBUTIONS" };
        var pick = seen.Where(s => s.Joined).OrderByDescending(s => PhaseRank.GetValueOrDefault(s.View.Phase)).FirstOrDefault()
            ?? seen.FirstOrDefault(s => s.View.Phase == "enterable")
            ?? seen.Where(s => s.View.Phase == "scheduled").OrderBy(s => s.Distribution.OpenAt).FirstOrDefault()
            ?? seen.Last();
        var (engine, d, p) = (pick.Engine, pick.Distribution, pick.View);
        var view = new JsonObject { ["phase"] = p.Phase, ["mechanism"] = engine.Type, ["distribution"] = DistributionJson(engine, d, p, now) };
        if (p.Phase is "scheduled" or "unavailable") return view;
        view["consumer"] = p.Consumer?.DeepClone() ?? new JsonObject { ["status"] = DefaultStatus.GetValueOrDefault(engine.Type, "not_entered"), ["distributionId"] = d.Id };
        if (p.Phase == "granted" && p.Grant is not null) view["grant"] = p.Grant.DeepClone();
        if (p.Phase == "ended")
            view["outcome"] = p.Outcome?.DeepClone() ?? new JsonObject { ["type"] = "closed", ["distributionId"] = d.Id, ["distributionType"] = engine.Type };
        return view;
    }

    /// <summary>The journey <c>Distribution</c>: <c>lifecycle</c> = scheduled | open | settling | closed; <c>details</c> = the
    /// type's own fields (its admin JSON minus the common ones) plus <c>name</c> and <c>timeZone</c>.</summary>
    private static JsonObject DistributionJson(IDistributionEngine engine, DistributionBase d, Participation p, DateTimeOffset now)
    {
        var lifecycle = p.Phase == "settling" ? "settling" : d.TimingState(now) switch
        {
            "upcoming" => "scheduled", "active" => "open", _ => "closed",
        };
        var o = new JsonObject { ["type"] = engine.Type, ["id"] = d.Id, ["sequenceId"] = d.SequenceId, ["lifecycle"] = lifecycle };
        if (d.OpenAt is { } open) o["opensAt"] = Json.Iso(open);
        if (d.CloseAt is { } close) o["closesAt"] = Json.Iso(close);
        var json = engine.ToJson(d);
        var settles = ExperienceService.ParseIso(json["settleAt"]) ?? ExperienceService.ParseIso(json["drawAt"]);
        if (settles is { } st) o["settlesAt"] = Json.Iso(st);
        var common = d.CommonJson();
        var details = new JsonObject { ["name"] = d.Name, ["timeZone"] = d.TimeZone };
        foreach (var (k, v) in json)
            if (!common.ContainsKey(k)) details[k] = v?.DeepClone();
        o["details"] = details;
        return o;
    }
}
