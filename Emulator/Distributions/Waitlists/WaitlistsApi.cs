using System.Text.Json.Nodes;
using Fanfare.Emulator.Auth;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Events;

namespace Fanfare.Emulator.Distributions.Waitlists;

/// <summary>
/// Waitlists over HTTP (engine: <see cref="WaitlistEngine"/>).
/// Admin (secret key; admin-part4.md): <c>GET|POST /waitlists</c> (<c>{sequenceId, capacity?}</c>; one per sequence),
/// <c>GET|PUT|DELETE /waitlists/{id}</c> → <c>Waitlist</c>; <c>GET /waitlists/{id}/consumers</c> → <c>[WaitlistEntry]</c>
/// (status <c>waitlisted|notified|converted|left</c>); <c>POST|GET /waitlists/{id}/export</c> → <c>WaitlistExport</c>
/// (completed at once; GET 404 <c>Export not found</c> before the first); <c>GET /waitlists/{id}/export/{fileId}</c> → the CSV
/// as a bare JSON string (404 <c>Export file not found</c>).
/// Consumer (consumer-part2.md, access token): <c>POST /waitlists/{id}/enter</c> → <c>{id, waitlistId, sequenceId, consumerId,
/// enteredAt}</c> (409 <c>{"code":"DISTRIBUTION_ORDER_LIMIT",…}</c> / <c>{"code":"WAITLIST_FULL",…}</c>);
/// <c>DELETE /waitlists/{id}/leave</c> → <c>{left}</c>; <c>GET /waitlists/{id}/status</c> → <c>{waitlistId, isEntered, enteredAt?,
/// sequenceId?, status?, position?, notifiedAt?}</c>. 404 <c>Waitlist not found</c>; 401 <c>Authentication required</c>.
/// </summary>
public sealed class WaitlistsApi : IFeatureModule
{
    public int Order => 30;

    public void AddServices(IServiceCollection services, EmulatorOptions options)
    {
        services.AddSingleton<WaitlistConversions>();
        services.AddSingleton<IEventSubscriber>(sp => sp.GetRequiredService<WaitlistConversions>());
        services.AddSingleton<WaitlistEngine>();
        services.AddSingleton<IDistributionLifecycleListener>(sp => sp.GetRequiredService<WaitlistEngine>());
    }

    public void MapEndpoints(EmulatorRoutes routes)
    {
        var g = routes.Admin.MapGroup("/waitlists").WithTags("Waitlists");

        g.MapDistributionAdmin<WaitlistEngine, Waitlist>(
            new("Waitlists", "List waitlists with bidirectional cursor-based pagination", "Create a waitlist", "Get a waitlist",
                "Update a waitlist", "Delete a waitlist")
            {
                Actor = c => c.Actor(), ListFiltersBySequence = false, SequenceId = SequenceIdRule.LiveUuid,
                ValidateBeforeSequenceNotFound = true, UpdateBodyRequired = false,
            });

        g.MapGet("/{id}/consumers", (string id, Caller caller, WaitlistEngine waitlists) =>
        {
            var w = waitlists.Require(caller.RequireSecret().Id, id);
            var arr = new JsonArray();
            foreach (var e in waitlists.Entries(w))
            {
                waitlists.Refresh(e);
                arr.Add(e.ToAdminJson());
            }
            return Results.Json(arr);
        }).WithName("getWaitlistsByIdConsumers").WithSummary("Get the consumers for a waitlist");

        g.MapGet("/{id}/export", (string id, Caller caller, WaitlistEngine waitlists) =>
        {
            var w = waitlists.Require(caller.RequireSecret().Id, id);
            return Results.Json((waitlists.LatestExport(w) ?? throw ApiErrors.NotFoundError("Export not found")).ToJson());
        }).WithName("getWaitlistsByIdExport").WithSummary("Get the export job for a waitlist");

        g.MapPost("/{id}/export", (string id, Caller caller, WaitlistEngine waitlists) =>
        {
            var w = waitlists.Require(caller.RequireSecret().Id, id);
            return Results.Json(waitlists.Export(w, caller.Actor()).ToJson());
        }).WithName("postWaitlistsByIdExport").WithSummary("Export a waitlist");

        g.MapGet("/{id}/export/{fileId}", (string id, string fileId, Caller caller, WaitlistEngine waitlists) =>
        {
            var w = waitlists.Require(caller.RequireSecret().Id, id);
            var export = waitlists.ExportFile(w, fileId) ?? throw ApiErrors.NotFoundError("Export file not found");
            return new JsonResult(200, JsonValue.Create(export.Csv));
        }).WithName("getWaitlistsByIdExportByFileId").WithSummary("Download a waitlist export file");

        var c = routes.Consumer.MapGroup("/waitlists").WithTags("Waitlists");

        c.MapPost("/{id}/enter", (string id, Caller caller, WaitlistEngine waitlists) =>
        {
            var principal = caller.RequireConsumer();
            var org = caller.RequireOrganization();
            var w = waitlists.Require(org.Id, id);
            return Results.Json(WaitlistEngine.EntryJson(waitlists.Enter(org, w, principal.ConsumerId)));
        }).WithName("postWaitlistsByWaitlistIdEnter").WithSummary("Enter a waitlist");

        c.MapDelete("/{id}/leave", (string id, Caller caller, WaitlistEngine waitlists) =>
        {
            var principal = caller.RequireConsumer();
            var w = waitlists.Require(caller.RequireOrganization().Id, id);
            return Results.Json(new JsonObject { ["left"] = waitlists.Leave(w, principal.ConsumerId) });
        }).WithName("deleteWaitlistsByWaitlistIdLeave").WithSummary("Leave a waitlist");

        c.MapGet("/{id}/status", (string id, Caller caller, WaitlistEngine waitlists) =>
        {
            var principal = caller.RequireConsumer();
            var w = waitlists.Require(caller.RequireOrganization().Id, id);
            return Results.Json(waitlists.Status(w, principal.ConsumerId));
        }).WithName("getWaitlistsByWaitlistIdStatus").WithSummary("Check waitlist status");
    }
}
