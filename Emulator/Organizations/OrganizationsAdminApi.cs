using System.Text.Json.Nodes;
using Fanfare.Emulator.Auth;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;

namespace Fanfare.Emulator.Organizations;

/// <summary>
/// The organization of the calling secret key, on the admin port (admin-part3.md; behavior.md §1.2, §10.4), all 200:
/// <list type="bullet">
/// <item><c>GET /organizations/current</c> (alias <c>/organizations/me</c>, old docs) → ORGANIZATION.</item>
/// <item><c>PUT /organizations</c> <c>{companyName?, companyUrl?, countryCode?, currencyCode?, defaultMessagingChannel?:
/// "EMAIL"|"SMS", embeddingAllowedHosts?, languageCode?, slug?, timeZone?}</c> → ORGANIZATION. A slug breaking the rules of
/// §10.4 → 400 <c>Invalid slug format</c> (message says why: format, length, <c>--</c>, reserved word); another
/// organization's slug → 400 <c>Slug already taken</c> (behavior.md §4.3). Other bad fields → 400 <c>validation_error</c>.</item>
/// <item><c>GET /organizations/slug/availability?slug=</c> → <c>{slug, available, suggestions:[string], reason?:
/// "TAKEN"|"RESERVED"|"INVALID_FORMAT"}</c>; suggestions are free, valid slugs derived from the one asked for (empty when
/// it is available). The caller's own slug counts as available.</item>
/// <item><c>GET /organizations/current/sdk-config</c> → <c>{organizationId, publishableKey}</c> (the key of the caller's mode).</item>
/// <item><c>POST /organizations/secret-key/rotate</c> → <c>{secretKey}</c>: a new secret key of the caller's mode
/// (<c>sk_test_…</c> or <c>sk_live_…</c>), shown this once; the previous one is refused (401) at once on every port.
/// <c>GET /_emulator/organizations</c> shows the new key; <c>POST /_emulator/reset</c> restores the well-known one.</item>
/// </list>
/// ORGANIZATION = <c>{companyName, companyUrl|null, countryCode, currencyCode, defaultMessagingChannel, embeddingAllowedHosts|null,
/// languageCode, publishableKey, slug, state:"ACTIVE", timeZone}</c> plus, from the older guide, <c>{id, name, createdAt, updatedAt}</c>.
/// Auth: secret key (401 <c>Authentication required</c> / <c>Secret key required</c>).
/// </summary>
public sealed class OrganizationsAdminApi : IFeatureModule
{
    public void AddServices(IServiceCollection services, EmulatorOptions options) => services.AddSingleton<OrganizationAdmin>();

    public void MapEndpoints(EmulatorRoutes routes)
    {
        var g = routes.Admin.MapGroup("/organizations").WithTags("Organizations");

        foreach (var path in new[] { "/current", "/me" })
        {
            var b = g.MapGet(path, (Caller caller, OrganizationAdmin admin) =>
            {
                var org = caller.RequireSecret();
                return Results.Json(OrganizationAdmin.ToJson(org, caller.Environment));
            });
            if (path == "/current") b.WithName("getOrganizationsCurrent").WithSummary("Get the current organization details");
            else b.ExcludeFromDescription();
        }

        g.MapPut("", async (HttpRequest req, Caller caller, OrganizationAdmin admin) =>
        {
            var org = caller.RequireSecret();
            var body = await BodyReader.ReadAsync(req);
            var updated = admin.Update(org, body);
            return Results.Json(OrganizationAdmin.ToJson(updated, caller.Environment));
        }).WithName("putOrganizations").WithSummary("Update organization details");

        g.MapGet("/slug/availability", (HttpRequest req, Caller caller, OrganizationAdmin admin) =>
        {
            var org = caller.RequireSecret();
            if (!req.Query.TryGetValue("slug", out var values))
                throw Validation.Single("slug", "string", "string", "undefined", "Invalid type: Expected string but received undefined", "schema");
            var slug = values.ToString();
            return Results.Json(admin.Availability(slug, org));
        }).WithName("getOrganizationsSlugAvailability").WithSummary("Check if an organization slug is available");

        g.MapGet("/current/sdk-config", (Caller caller) =>
        {
            var org = caller.RequireSecret();
            return Results.Json(new JsonObject
            {
                ["organizationId"] = org.Id,
                ["publishableKey"] = caller.Environment == "live" ? org.LivePublishableKey : org.PublishableKey,
            });
        }).WithName("getOrganizationsCurrentSdkConfig").WithSummary("Get the current organization's client-safe SDK configuration");

        g.MapPost("/secret-key/rotate", (Caller caller, OrganizationAdmin admin) =>
        {
            var org = caller.RequireSecret();
            return Results.Json(new JsonObject { ["secretKey"] = admin.RotateSecretKey(org, caller.Environment) });
        }).WithName("postOrganizationsSecretKeyRotate").WithSummary("Rotate the organization's secret key, returning the new value exactly once");
    }
}
