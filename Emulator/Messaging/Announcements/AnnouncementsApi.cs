using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Fanfare.Emulator.Auth;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Scheduling;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.Messaging.Announcements;

/// <summary>
/// Announcements on the admin port (admin-part1.md, secret key), all 200:
/// <list type="bullet">
/// <item><c>GET /announcements</c> → <c>{data:[Announcement], pageInfo}</c> (cursor pagination, behavior.md §6; archived ones are left out).</item>
/// <item><c>POST /announcements</c>, body one of: <c>{timingStrategy:"POINT_IN_TIME", scheduledAt, …}</c>,
/// <c>{timingStrategy:"RELATIVE", anchorEntity:"EXPERIENCE", anchorMoment:"OPEN"|"CLOSE", offsetSeconds, …}</c>,
/// <c>{timingStrategy:"RELATIVE", anchorEntity:"DISTRIBUTION", anchorMoment:"OPEN"|"CLOSE"|"SETTLE", offsetSeconds,
/// distributionId, distributionType, …}</c> with the common <c>{type, content, title, includeAudience, includeWaitlist,
/// experienceId, timeZone, creativeDocument?, metadata?, link?, imageUrl?, shortContent?, templateData?, sequenceId? …}</c>
/// → Announcement. <c>scheduledAt</c> without an offset is a local time in <c>timeZone</c>.</item>
/// <item><c>GET|PUT|DELETE /announcements/{id}</c> → Announcement; PUT takes any field and reschedules; DELETE archives
/// it and cancels a delivery not yet made. 404 <c>Announcement not found</c>.</item>
/// </list>
/// Errors: 400 <c>validation_error</c>; 404 <c>Experience not found</c> / <c>Sequence not found</c> / <c>Distribution not found</c>
/// for references outside the organization; 401.
/// <para>Control plane: <c>GET /_emulator/announcements[?organizationId=]</c> → <c>{data:[{announcementId, organizationId,
/// experienceId, type, title, archived, timingStrategy, status:"scheduled"|"unscheduled"|"sent"|"cancelled", dueAt, sentAt,
/// delivered, recipients:[{consumerId, source:"waitlist"|"audience", to, messageId, status:"sent"|"recorded"|"skipped", reason}]}]}</c>;
/// <c>POST /_emulator/announcements/{id}/send</c> sends it now → that entry (409 once sent or archived).</para>
/// </summary>
public sealed class AnnouncementsApi : IFeatureModule
{
    public void AddServices(IServiceCollection services, EmulatorOptions options)
    {
        services.AddSingleton<AnnouncementEngine>();
        services.AddSingleton<IJobHandler, AnnouncementJob>();
        services.AddSingleton<Infrastructure.Events.IEventSubscriber, AnnouncementReplanner>();
        services.TryAddSingleton<IAudienceMembers, NoAudienceMembers>();
    }

    public void MapEndpoints(EmulatorRoutes routes)
    {
        var g = routes.Admin.MapGroup("/announcements").WithTags("Distributions");

        g.MapGet("", (HttpRequest req, Caller caller, AnnouncementEngine engine) =>
        {
            var org = caller.RequireSecret();
            return Results.Json(Pagination.Page(engine.List(org.Id), a => a.Id, a => a.ToJson(), req.Query));
        }).WithName("getAnnouncements").WithSummary("List announcements with bidirectional cursor-based pagination");

        g.MapPost("", async (HttpRequest req, Caller caller, AnnouncementEngine engine) =>
        {
            var org = caller.RequireSecret();
            var body = await BodyReader.ReadAsync(req, required: true);
            return Results.Json(engine.Create(org, body, caller.Actor()).ToJson());
        }).WithName("postAnnouncements").WithSummary("Create an announcement");

        g.MapGet("/{id}", (string id, Caller caller, AnnouncementEngine engine) =>
            Results.Json(engine.Require(caller.RequireSecret().Id, id).ToJson()))
            .WithName("getAnnouncementsById").WithSummary("Get an announcement");

        g.MapPut("/{id}", async (string id, HttpRequest req, Caller caller, AnnouncementEngine engine) =>
        {
            var org = caller.RequireSecret();
            engine.Require(org.Id, id);
            var body = await BodyReader.ReadAsync(req, required: true);
            return Results.Json(engine.Update(org, id, body, caller.Actor()).ToJson());
        }).WithName("putAnnouncementsById").WithSummary("Update an announcement");

        g.MapDelete("/{id}", (string id, Caller caller, AnnouncementEngine engine) =>
        {
            var org = caller.RequireSecret();
            return Results.Json(engine.Delete(org, id, caller.Actor()).ToJson());
        }).WithName("deleteAnnouncementsById").WithSummary("Delete an announcement");

        routes.Control.MapGet("/announcements", (HttpRequest req, Infrastructure.Store.DocumentStore store) =>
        {
            var orgId = req.Query["organizationId"].FirstOrDefault();
            var list = store.Where<Announcement>(a => orgId is null || a.OrganizationId == orgId);
            return Results.Json(new JsonObject { ["data"] = new JsonArray(list.Select(a => (JsonNode)a.DeliveryJson()).ToArray()) });
        }).WithName("emulatorAnnouncements").WithSummary("Announcements with their delivery state and recipients (social types: recorded as sent).");

        routes.Control.MapPost("/announcements/{id}/send", (string id, AnnouncementEngine engine) =>
            Results.Json(engine.SendNow(id).DeliveryJson()))
            .WithName("emulatorAnnouncementsSend").WithSummary("Sends an announcement now, whatever its timing.");
    }
}
