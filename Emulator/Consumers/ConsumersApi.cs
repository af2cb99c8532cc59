using Fanfare.Emulator.Auth;
using Fanfare.Emulator.Consumers;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure.Errors;

namespace Fanfare.Emulator.Consumers;

/// <summary>
/// Consumer-port consumer operations (consumer-part1.md):
/// <list type="bullet">
/// <item><c>GET /consumers/me</c> (access token) → active journeys and waitlists (<see cref="JourneyService"/>); 401
/// <c>Authentication required</c>; 404 <c>Consumer not found</c> when the token's consumer no longer exists.</item>
/// <item><c>GET /consumers/{id}</c> (secret key, server-side) → the consumer profile (<see cref="ConsumerProfiles.Profile"/>);
/// 401 <c>Secret key required</c> for a publishable key; 404 <c>Consumer not found</c> (also for another organization's consumer).</item>
/// </list>
/// </summary>
public sealed class ConsumersApi : IFeatureModule
{
    public int Order => 210;

    public void AddServices(IServiceCollection services, EmulatorOptions options) => services.AddSingleton<JourneyService>();

    public void MapEndpoints(EmulatorRoutes routes)
    {
        var g = routes.Consumer.MapGroup("/consumers").WithTags("Consumers");

        g.MapGet("/me", (Caller caller, ConsumerDirectory directory, JourneyService journeys) =>
        {
            var principal = caller.RequireConsumer();
            var org = caller.RequireOrganization();
            if (!journeys.ConsumerExists(org, principal.ConsumerId)) throw ApiErrors.NotFoundError("Consumer not found");
            return Results.Json(journeys.Me(org, principal.ConsumerId));
        }).WithName("getConsumersMe").WithSummary("Get active journeys for the current authenticated consumer");

        g.MapGet("/{id}", (string id, Caller caller, ConsumerDirectory directory) =>
        {
            var org = caller.RequireSecret();
            var c = directory.Get(org.Id, id) ?? throw ApiErrors.NotFoundError("Consumer not found");
            return Results.Json(ConsumerProfiles.Profile(c));
        }).WithName("getConsumersByIdConsumerApi").WithSummary("Get consumer by ID (requires secret key)");
    }
}
