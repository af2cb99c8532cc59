using System.Text.Json.Nodes;
using Fanfare.Emulator.Auth;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Distributions.Waitlists;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Ids;
using Fanfare.Emulator.Infrastructure.Scheduling;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Distributions.ScheduledEvents;

/// <summary>
/// <c>GET /scheduled-events</c> (admin, secret key; admin-part4.md): the organization's timed work, derived from its live
/// distributions and the scheduler, in <c>scheduledAt</c> order, cursor-paginated. One event per distribution instant
/// (<c>openAt</c>, <c>closeAt</c>, <c>drawAt</c>, <c>settleAt</c>) with <c>topic: "distributionUpdate"</c> and
/// <c>payload: {distributionId, distributionType, sequenceId, experienceId, field, action: "open"|"close"|"draw"|"settle"}</c>;
/// one per waitlist export (<c>topic: "exportWaitlist"</c>). <c>status</c>: <c>pending</c> while a scheduler job for it waits
/// or the instant lies ahead of the emulator clock, <c>completed</c> once past. Ids are stable (name-derived UUIDs).
/// </summary>
public sealed class ScheduledEventsApi : IFeatureModule
{
    public void MapEndpoints(EmulatorRoutes routes)
    {
        routes.Admin.MapGet("/scheduled-events", (HttpRequest req, Caller caller, DistributionRegistry registry, DocumentStore store, ClockResolver clocks) =>
        {
            var org = caller.RequireSecret();
            var now = clocks.For(org.Id).GetUtcNow();
            var events = new List<(DateTimeOffset At, string Id, JsonObject Json)>();
            void Add(string key, DateTimeOffset at, string topic, JsonObject payload, DateTimeOffset createdAt, string createdBy,
                DateTimeOffset? updatedAt, string? updatedBy, string? jobId)
            {
                var id = IdGenerator.DeriveUuid("scheduled-event", key);
                var pending = at > now || (jobId is not null && store.Get<ScheduledJob>(jobId) is not null);
                events.Add((at, id, new JsonObject
                {
                    ["id"] = id, ["organizationId"] = org.Id, ["createdAt"] = Json.Iso(createdAt), ["createdBy"] = createdBy,
                    ["archived"] = false, ["updatedAt"] = Json.Iso(updatedAt), ["updatedBy"] = updatedBy, ["announcementId"] = null,
                    ["topic"] = topic, ["payload"] = payload, ["scheduledAt"] = Json.Iso(at), ["status"] = pending ? "pending" : "completed",
                }));
            }
            foreach (var engine in registry.Engines)
                foreach (var d in store.Where<Fanfare.Emulator.Distributions.Experiences.Sequence>(s => s.OrganizationId == org.Id).SelectMany(s => engine.ForSequence(org.Id, s.Id)).Where(d => !d.Archived))
                {
                    var json = engine.ToJson(d);
                    var instants = new List<(string Field, string Action, DateTimeOffset At, string? Job)>();
                    if (d.OpenAt is { } o) instants.Add(("openAt", "open", o, $"{DistributionLifecycle.OpenJob}:{d.Id}"));
                    if (d.CloseAt is { } c) instants.Add(("closeAt", "close", c, $"{DistributionLifecycle.CloseJob}:{d.Id}"));
                    if (ExperienceService.ParseIso(json["drawAt"]) is { } da) instants.Add(("drawAt", "draw", da, null));
                    if (ExperienceService.ParseIso(json["settleAt"]) is { } sa) instants.Add(("settleAt", "settle", sa, null));
                    foreach (var (field, action, at, job) in instants)
                        Add($"{d.Id}/{field}", at, "distributionUpdate", new JsonObject
                        {
                            ["distributionId"] = d.Id, ["distributionType"] = d.DistributionType, ["sequenceId"] = d.SequenceId,
                            ["experienceId"] = d.ExperienceId, ["field"] = field, ["action"] = action,
                        }, d.CreatedAt, d.CreatedBy, d.UpdatedAt, d.UpdatedBy, job);
                }
            foreach (var x in store.Where<WaitlistExport>(x => x.OrganizationId == org.Id))
                Add($"{x.Id}/export", x.CreatedAt, "exportWaitlist", new JsonObject
                {
                    ["waitlistId"] = x.WaitlistId, ["exportId"] = x.Id, ["fileId"] = x.LastFileId,
                }, x.CreatedAt, x.CreatedBy, x.UpdatedAt, x.UpdatedBy, null);
            var ordered = events.OrderBy(e => e.At).ThenBy(e => e.Id, StringComparer.Ordinal).ToList();
            return Results.Json(Pagination.Page(ordered, e => e.Id, e => e.Json, req.Query));
        }).WithTags("Scheduled events").WithName("getScheduledEvents").WithSummary("List scheduled events with bidirectional cursor-based pagination");
    }
}
