using System.Text.Json.Nodes;
using Fanfare.Emulator.Auth;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Distributions.Experiences;

/// <summary>
/// Consumer experiences (consumer-part2.md), on the consumer port:
/// <list type="bullet">
/// <item><c>GET /experiences/{experienceId}</c> (any key of the organization) → <c>Experience</c> with sequences and distributions
/// (see <see cref="ExperienceService.ConsumerJson"/>).</item>
/// <item><c>POST /experiences/{experienceId}/enter</c> (access token) → <c>{experienceId, enteredAt, experience}</c>; entering again
/// returns the first <c>enteredAt</c>.</item>
/// <item><c>DELETE /experiences/{experienceId}/leave</c> (access token) → <c>{left}</c> (false when not entered).</item>
/// <item><c>POST /experiences/{experienceId}/route</c> <c>{accessCode?}</c> → the routing result (<see cref="ExperienceRouter"/>).</item>
/// <item><c>POST /experiences/archived-status</c> <c>{experienceIds:[uuid]}</c> → <c>{liveExperienceIds}</c>: the ids that name a live
/// (not deleted) experience of the caller's organization, in request order.</item>
/// </list>
/// Errors: 401 <c>Authentication required</c>, 404 <c>Experience not found</c> (also for another organization's experience), 400.
/// </summary>
public sealed class ConsumerExperiencesApi : IFeatureModule
{
    public int Order => 210;

    public void AddServices(IServiceCollection services, EmulatorOptions options) => services.AddSingleton<ExperienceRouter>();

    public void MapEndpoints(EmulatorRoutes routes)
    {
        var g = routes.Consumer.MapGroup("/experiences").WithTags("Experiences");

        g.MapGet("/{id}", (string id, Caller caller, ExperienceService experiences, Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json) =>
        {
            var org = caller.RequireOrganization();
            // The same bytes Results.Json writes for ConsumerJson, from the read cache while the store is unchanged.
            return Utf8Json.Of(experiences.ConsumerJsonUtf8(experiences.Require(org.Id, id), org, json.Value.SerializerOptions));
        }).WithName("getExperiencesByExperienceId").WithSummary("Get experience details with distributions");

        g.MapPost("/{id}/enter", (string id, Caller caller, ExperienceService experiences, DocumentStore store, ClockResolver clocks) =>
        {
            var principal = caller.RequireConsumer();
            var org = caller.RequireOrganization();
            var e = experiences.Require(org.Id, id);
            var journey = store.Transaction(() =>
            {
                var key = ExperienceJourney.KeyOf(e.Id, principal.ConsumerId);
                var now = clocks.For(org.Id).GetUtcNow();
                var j = store.Get<ExperienceJourney>(key) ?? new ExperienceJourney { Id = key, OrganizationId = org.Id, ExperienceId = e.Id, ConsumerId = principal.ConsumerId };
                if (j.EnteredAt is null || j.LeftAt is not null) { j.EnteredAt = now; j.LeftAt = null; j.UpdatedAt = now; store.Put(j); }
                return j;
            });
            return Results.Json(new JsonObject
            {
                ["experienceId"] = e.Id, ["enteredAt"] = Json.Iso(journey.EnteredAt!.Value), ["experience"] = experiences.ConsumerJson(e, org),
            });
        }).WithName("postExperiencesByExperienceIdEnter").WithSummary("Enter an experience");

        g.MapDelete("/{id}/leave", (string id, Caller caller, ExperienceService experiences, DocumentStore store, ClockResolver clocks) =>
        {
            var principal = caller.RequireConsumer();
            var org = caller.RequireOrganization();
            var e = experiences.Require(org.Id, id);
            var left = store.Transaction(() =>
            {
                var j = store.Get<ExperienceJourney>(ExperienceJourney.KeyOf(e.Id, principal.ConsumerId));
                if (j is null || j.LeftAt is not null || (j.EnteredAt is null && j.Outcome is null)) return false;
                j.LeftAt = clocks.For(org.Id).GetUtcNow();
                j.UpdatedAt = j.LeftAt.Value;
                store.Put(j);
                return true;
            });
            return Results.Json(new JsonObject { ["left"] = left });
        }).WithName("deleteExperiencesByExperienceIdLeave").WithSummary("Leave an experience");

        g.MapPost("/{id}/route", async (string id, HttpRequest req, Caller caller, ExperienceService experiences, ExperienceRouter router) =>
        {
            var org = caller.RequireOrganization();
            var body = await BodyReader.ReadAsync(req);
            var accessCode = body.String("accessCode");
            body.ThrowIfInvalid();
            var e = experiences.Require(org.Id, id);
            return Results.Json(router.Route(org, e, caller.Consumer, accessCode));
        }).WithName("postExperiencesByExperienceIdRoute").WithSummary("Find appropriate sequence for a consumer");

        g.MapPost("/archived-status", async (HttpRequest req, Caller caller, ExperienceService experiences) =>
        {
            var org = caller.RequireOrganization();
            var body = await BodyReader.ReadAsync(req, required: true);
            var ids = body.StringArray("experienceIds", required: true);
            foreach (var bad in (ids ?? []).Where(x => !Guid.TryParse(x, out _)))
                body.AddIssue("experienceIds", "uuid", "UUID", JsonValue.Create(bad), $"Invalid UUID: Received \"{bad}\"");
            body.ThrowIfInvalid();
            var live = ids!.Distinct().Where(x => experiences.Find(org.Id, x) is not null).Select(x => (JsonNode)x).ToArray();
            return Results.Json(new JsonObject { ["liveExperienceIds"] = new JsonArray(live) });
        }).WithName("postExperiencesArchivedStatus").WithSummary("Resolve the live (non-archived) subset of a set of experiences");
    }
}
