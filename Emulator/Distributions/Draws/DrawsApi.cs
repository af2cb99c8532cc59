using Fanfare.Emulator.Auth;
using Fanfare.Emulator.Distributions.Grants;
using Fanfare.Emulator.Distributions;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Scheduling;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.Distributions.Draws;

/// <summary>
/// Draws (lotteries) over HTTP; the rules live in <see cref="DrawEngine"/>.
/// <para>Admin port, secret key (admin-part2.md): <c>GET /draws</c> (cursor pagination <c>first/after/last/before</c>,
/// optional <c>sequenceId</c> filter) → <c>{data:[Draw], pageInfo}</c>; <c>POST /draws</c> <c>{sequenceId, name, drawAt,
/// winnerCount, admissionExpirationSeconds?, capacity?, closeAt?, continueSelectingUntilCompleted?, loyaltyBiasEnabled?,
/// openAt?, supportsGuest?, timeZone?}</c> → <c>Draw</c> (404 <c>Sequence not found</c>); <c>GET|PUT|DELETE /draws/{id}</c>
/// → <c>Draw</c> (404 <c>Draw not found</c>; PUT after the selection: 409 <c>Cannot update closed distribution</c>).</para>
/// <para>Consumer port (consumer-part1.md, consumer-part2.md): <c>GET /draws/{drawId}</c> (any key of the organization)
/// → public draw; with a consumer access token: <c>POST /draws/{drawId}/enter</c> (optional <c>X-Fingerprint</c>),
/// <c>POST /draws/{drawId}/leave</c>, <c>GET /draws/{drawId}/status</c> → DRAWSTATUS; secret key:
/// <c>POST /draws/{drawId}/deny</c> <c>{consumerId, reason}</c> → DRAWSTATUS. Errors: 401 <c>Authentication required</c>,
/// 404 <c>Draw not found</c>, 423 <c>Draw is not open yet</c> + ISO <c>Retry-After</c>, 400 <c>Draw is closed</c>.</para>
/// <para>Control plane: <c>POST /_emulator/draws/{id}/run</c> selects the winners now →
/// <c>{drawId, drawn, drawnAt, totalEntrants, winnersSelected, winners:[consumerId]}</c>.</para>
/// </summary>
public sealed class DrawsApi : IFeatureModule
{
    public int Order => 30;

    public void AddServices(IServiceCollection services, EmulatorOptions options)
    {
        services.AddSingleton<DrawEngine>();
        services.AddSingleton<IDistributionEngine>(sp => sp.GetRequiredService<DrawEngine>());
        services.AddSingleton<IGrantListener, DrawGrantListener>();
        services.AddSingleton<IJobHandler, DrawRunJob>();
    }

    public void OnReset(IServiceProvider services) => services.GetRequiredService<DrawEngine>().ResetCaches();

    public void MapEndpoints(EmulatorRoutes routes)
    {
        // ---------------- admin (admin-part2.md)
        routes.Admin.MapGroup("/draws").WithTags("Draws").MapDistributionAdmin<DrawEngine, DrawDistribution>(
            new("Draws", "List draws with bidirectional cursor-based pagination", "Create a draw", "Get a draw", "Update a draw", "Delete a draw")
            {
                ValidateBeforeSequenceNotFound = true,
            });

        // ---------------- consumer (consumer-part1.md / consumer-part2.md)
        var consumer = routes.Consumer.MapGroup("/draws").WithTags("Draws");

        consumer.MapGet("/{drawId}", (string drawId, Caller caller, DrawEngine engine) =>
        {
            var org = caller.RequireOrganization();
            return Results.Json(engine.PublicJson(engine.Require(org.Id, drawId)));
        }).WithName("getDrawsByDrawId").WithSummary("Get draw details (public metadata)");

        consumer.MapPost("/{drawId}/enter", (string drawId, HttpRequest req, Caller caller, DrawEngine engine) =>
        {
            var who = caller.RequireConsumer();
            var org = caller.RequireOrganization();
            var d = engine.Require(org.Id, drawId);
            return Results.Json(engine.Enter(org, d, who.ConsumerId, who.IsGuest, req.Headers["X-Fingerprint"].ToString()));
        }).WithName("postDrawsByDrawIdEnter").WithSummary("Enter a draw");

        consumer.MapPost("/{drawId}/leave", (string drawId, Caller caller, DrawEngine engine) =>
        {
            var who = caller.RequireConsumer();
            var org = caller.RequireOrganization();
            return Results.Json(engine.Leave(engine.Require(org.Id, drawId), who.ConsumerId));
        }).WithName("postDrawsByDrawIdLeave").WithSummary("Leave a draw (pre-grant only)");

        consumer.MapGet("/{drawId}/status", (string drawId, Caller caller, DrawEngine engine) =>
        {
            var who = caller.RequireConsumer();
            var org = caller.RequireOrganization();
            return Results.Json(engine.Status(engine.Require(org.Id, drawId), who.ConsumerId));
        }).WithName("getDrawsByDrawIdStatus").WithSummary("Get the current consumer's draw status");

        consumer.MapPost("/{drawId}/deny", async (string drawId, HttpRequest req, Caller caller, DrawEngine engine) =>
        {
            var org = caller.RequireSecret();
            var body = await BodyReader.ReadAsync(req, required: true);
            var consumerId = body.String("consumerId", required: true, minLength: 1);
            var reason = body.String("reason", required: true, minLength: 1);
            body.ThrowIfInvalid();
            var d = engine.Require(org.Id, drawId);
            return Results.Json(engine.Deny(org, d, consumerId!, reason!));
        }).WithName("postDrawsByDrawIdDeny").WithSummary("Deny a consumer from the draw (secret key)");

        // ---------------- control plane
        routes.Control.MapPost("/draws/{id}/run", (string id, DrawEngine engine, OrganizationDirectory orgs) =>
        {
            foreach (var org in orgs.All())
                if (engine.Get(org.Id, id) is { } d) return Results.Json(engine.Run(d));
            throw ApiErrors.NotFoundError(DrawEngine.NotFound);
        }).WithName("emulatorRunDraw").WithSummary("Select a draw's winners now (QA helper)");
    }
}
