using System.Text.Json.Nodes;
using Fanfare.Emulator.Auth;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Distributions;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Distributions.Sequences;
using Fanfare.Emulator.Distributions.Waitlists;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Store;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.Distributions.Experiences;

/// <summary>
/// Audience membership for routing (<c>AUDIENCE_NOT_MEMBER</c>). An audiences feature registers an implementation; with
/// none registered, nobody is a member of any audience, so audience-restricted sequences are never selected.
/// </summary>
public interface IAudienceMembership
{
    bool IsMember(string organizationId, string audienceId, string consumerId);
}

/// <summary>A consumer's relation to one experience: entered/left, and the last routing result.</summary>
public sealed class ExperienceJourney : IDocument
{
    /// <summary><c>{experienceId}:{consumerId}</c>.</summary>
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public string ExperienceId { get; set; } = "";
    public string ConsumerId { get; set; } = "";
    public DateTimeOffset? EnteredAt { get; set; }
    public DateTimeOffset? LeftAt { get; set; }
    /// <summary>Last route outcome: <c>routed</c>, <c>gated</c>, <c>no_access</c>, or null (never routed).</summary>
    public string? Outcome { get; set; }
    public string? SequenceId { get; set; }
    public JsonArray? Gates { get; set; }
    public JsonArray? Offers { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    public static string KeyOf(string experienceId, string consumerId) => experienceId + ":" + consumerId;
}

/// <summary>
/// <c>POST /experiences/{experienceId}/route</c> (consumer-part2.md; behavior.md §3.1): evaluates the experience's live
/// sequences by descending priority. A sequence whose <c>audienceId</c> the consumer is not a member of is out of reach
/// (<c>AUDIENCE_NOT_MEMBER</c>). Otherwise its gates are: <c>access_code</c> (<c>missing</c>/<c>invalid</c>) when it — or the
/// experience — has an access code (compared trimmed, case-insensitively) and the body's <c>accessCode</c> is absent/wrong;
/// <c>authentication</c> (<c>required</c>) without a consumer access token, or for a guest when none of the sequence's
/// distributions supports guests (auctions and appointments never do). The first gate-free sequence is <c>selected</c>
/// (<c>admissible</c>; outcome <c>routed</c>) with the gated ones as <c>offers</c>; else the first gated one is selected
/// (outcome <c>gated</c>); else <c>no_access</c> (<c>NO_SEQUENCES</c> when there are none, else <c>NO_ACCESS</c> + the
/// audience reasons). With a consumer token the result is remembered for <c>GET /consumers/me</c>.
/// </summary>
public sealed class ExperienceRouter(DocumentStore store, ClockResolver clocks, SequenceService sequences, WaitlistEngine waitlists,
    IEnumerable<IAudienceMembership> audiences)
{
    public JsonObject Route(Organization org, Experience e, ConsumerPrincipal? consumer, string? accessCode)
    {
        var now = clocks.For(org.Id).GetUtcNow();
        var seqs = sequences.ByPriority(org.Id, e.Id);
        var body = new JsonObject { ["schemaVersion"] = 1, ["experienceId"] = e.Id };
        if (seqs.Count == 0)
        {
            body["outcome"] = "no_access";
            body["offers"] = new JsonArray();
            body["outcomeReasons"] = new JsonArray(Reason("NO_SEQUENCES", "This experience has no sequences."));
            Remember(org, e, consumer, "no_access", null, null, null, now);
            return body;
        }
        JsonObject? selected = null;
        var gated = new List<JsonObject>();
        var blocked = new JsonArray();
        foreach (var s in seqs)
        {
            if (s.AudienceId is { Length: > 0 } audienceId && !(consumer is not null && audiences.Any(a => a.IsMember(org.Id, audienceId, consumer.ConsumerId))))
            {
                blocked.Add(Reason("AUDIENCE_NOT_MEMBER", $"Sequence {s.Id} is limited to an audience the consumer is not a member of."));
                continue;
            }
            var gates = new JsonArray();
            var code = s.AccessCode is { Length: > 0 } ? s.AccessCode : e.AccessCode;
            if (code is { Length: > 0 })
            {
                if (string.IsNullOrWhiteSpace(accessCode))
                    gates.Add(new JsonObject { ["type"] = "access_code", ["status"] = "missing", ["reason"] = Reason("ACCESS_CODE_REQUIRED", "An access code is required.") });
                else if (!string.Equals(accessCode.Trim(), code.Trim(), StringComparison.OrdinalIgnoreCase))
                    gates.Add(new JsonObject { ["type"] = "access_code", ["status"] = "invalid", ["reason"] = Reason("ACCESS_CODE_INVALID", "The access code is not valid.") });
            }
            if (consumer is null || (consumer.IsGuest && !SupportsGuests(org.Id, s)))
                gates.Add(new JsonObject
                {
                    ["type"] = "authentication", ["status"] = "required",
                    ["reason"] = Reason("AUTH_REQUIRED", consumer is null ? "Sign in (or start a guest session) to continue." : "This sequence requires a verified consumer."),
                });
            var reasons = new JsonArray(gates.Select(g => g!["reason"]!.DeepClone()).ToArray());
            var offer = new JsonObject
            {
                ["sequence"] = new JsonObject
                {
                    ["id"] = s.Id, ["name"] = s.Name, ["experienceId"] = e.Id, ["priority"] = s.Priority, ["color"] = s.Color,
                    ["availability"] = Availability(org.Id, s, now),
                },
                ["status"] = gates.Count == 0 ? "admissible" : "gated",
                ["gates"] = gates,
                ["reasons"] = reasons,
            };
            if (gates.Count == 0 && selected is null) selected = offer;
            else if (gates.Count > 0) gated.Add(offer);
        }
        if (selected is not null)
        {
            body["outcome"] = "routed";
            body["selected"] = selected;
            body["offers"] = new JsonArray(gated.Select(o => (JsonNode)o).ToArray());
            body["outcomeReasons"] = new JsonArray();
            Remember(org, e, consumer, "routed", selected["sequence"]!["id"]!.GetValue<string>(), null, (JsonArray)body["offers"]!, now);
        }
        else if (gated.Count > 0)
        {
            var first = gated[0];
            body["outcome"] = "gated";
            body["selected"] = first;
            body["offers"] = new JsonArray();
            body["outcomeReasons"] = first["reasons"]!.DeepClone();
            Remember(org, e, consumer, "gated", first["sequence"]!["id"]!.GetValue<string>(), (JsonArray)first["gates"]!, null, now);
        }
        else
        {
            body["outcome"] = "no_access";
            body["offers"] = new JsonArray();
            var reasons = new JsonArray(Reason("NO_ACCESS", "No sequence of this experience is open to this consumer."));
            foreach (var r in blocked) reasons.Add(r!.DeepClone());
            body["outcomeReasons"] = reasons;
            Remember(org, e, consumer, "no_access", null, null, null, now);
        }
        return body;
    }

    private static JsonObject Reason(string code, string detail) => new() { ["code"] = code, ["detail"] = detail };

    /// <summary>True when the sequence has no distributions or one of them declares <c>supportsGuest: true</c>.</summary>
    public bool SupportsGuests(string organizationId, Sequence s)
    {
        var dists = sequences.Distributions(organizationId, s.Id);
        return dists.Count == 0 || dists.Any(x => x.Engine.ToJson(x.Distribution)["supportsGuest"] is JsonValue v && v.TryGetValue<bool>(out var b) && b);
    }

    /// <summary><c>open</c> (a distribution is active), <c>upcoming</c> / <c>waitlist</c> (one is ahead; <c>waitlist</c> when the
    /// sequence has a waitlist), else <c>closed</c> (a sequence without distributions but with a waitlist is <c>waitlist</c>).</summary>
    public string Availability(string organizationId, Sequence s, DateTimeOffset now)
    {
        var states = sequences.Distributions(organizationId, s.Id).Select(x => x.Distribution.TimingState(now)).ToList();
        var hasWaitlist = waitlists.ForSequence(organizationId, s.Id) is not null;
        if (states.Contains("active")) return "open";
        if (states.Contains("upcoming") || (states.Count == 0 && hasWaitlist)) return hasWaitlist ? "waitlist" : "upcoming";
        return "closed";
    }

    private void Remember(Organization org, Experience e, ConsumerPrincipal? consumer, string outcome, string? sequenceId,
        JsonArray? gates, JsonArray? offers, DateTimeOffset now)
    {
        if (consumer is null) return;
        store.Transaction(() =>
        {
            var id = ExperienceJourney.KeyOf(e.Id, consumer.ConsumerId);
            var j = store.Get<ExperienceJourney>(id) ?? new ExperienceJourney { Id = id, OrganizationId = org.Id, ExperienceId = e.Id, ConsumerId = consumer.ConsumerId };
            j.Outcome = outcome;
            j.SequenceId = sequenceId;
            j.Gates = (JsonArray?)gates?.DeepClone();
            j.Offers = (JsonArray?)offers?.DeepClone();
            j.UpdatedAt = now;
            j.LeftAt = null;
            store.Put(j);
        });
    }
}
