using System.Text.Json.Nodes;
using Fanfare.Emulator.Auth;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure.Errors;

namespace Fanfare.Emulator.Organizations;

/// <summary>
/// <c>GET /organizations/{organizationId}/settings</c> (consumer-part2.md; any key of that organization) →
/// <c>{frameAncestors: string[], cdp?: {"google-analytics"?: {measurementId, enabledEvents?}}}</c>, from the organization's
/// seed entry <c>settings</c> (default <c>{"frameAncestors": []}</c>); the hosts set with <c>PUT /organizations</c>
/// <c>embeddingAllowedHosts</c> are added to <c>frameAncestors</c>. 404 <c>Organization not found</c> for another
/// organization's id; 401 <c>Authentication required</c>.
/// </summary>
public sealed class OrganizationSettingsApi : IFeatureModule
{
    public void MapEndpoints(EmulatorRoutes routes)
    {
        routes.Consumer.MapGet("/organizations/{organizationId}/settings", (string organizationId, Caller caller) =>
        {
            var org = caller.RequireOrganization();
            if (!string.Equals(org.Id, organizationId, StringComparison.OrdinalIgnoreCase)) throw ApiErrors.NotFoundError("Organization not found");
            var settings = org.Seed?["settings"] as JsonObject;
            var hosts = (settings?["frameAncestors"] as JsonArray ?? [])
                .Select(x => x is JsonValue v && v.TryGetValue<string>(out var h) ? h : null).OfType<string>()
                .Concat(org.EmbeddingAllowedHosts ?? []).Distinct().ToList();
            var body = new JsonObject { ["frameAncestors"] = new JsonArray(hosts.Select(h => (JsonNode)h).ToArray()) };
            if (settings?["cdp"] is JsonObject cdp) body["cdp"] = cdp.DeepClone();
            return Results.Json(body);
        }).WithTags("Organizations").WithName("getOrganizationsByOrganizationIdSettings").WithSummary("Get client-facing organization settings (CSP allowlist)");
    }
}
