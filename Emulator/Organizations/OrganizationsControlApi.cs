using Fanfare.Emulator.Auth.Tokens;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Organizations;
using Fanfare.Emulator.Control;

namespace Fanfare.Emulator.Organizations;

/// <summary>
/// The well-known credentials and the reset switch:
/// <c>GET /_emulator/organizations</c> → <c>{"organizations":[{organizationId,name,slug,publishableKey,secretKey,
/// livePublishableKey,liveSecretKey,webhookSecret,customerTokenSecret,liveCustomerTokenSecret}]}</c>;
/// <c>POST /_emulator/reset</c> → 200 <c>{"reset":true,"durationMs":N}</c>;
/// <c>GET /.well-known/jwks.json</c> on the consumer and admin ports (one OKP/Ed25519 key per organization, kid = id).
/// </summary>
public sealed class OrganizationsControlApi : IFeatureModule
{
    public int Order => 0;

    /// <summary>One organization as <c>GET /_emulator/organizations</c> lists it (also used by <c>/_emulator/sandboxes</c>).</summary>
    public static object View(Organization o) => new
    {
        organizationId = o.Id, name = o.Name, slug = o.Slug,
        publishableKey = o.PublishableKey, secretKey = o.SecretKey,
        livePublishableKey = o.LivePublishableKey, liveSecretKey = o.LiveSecretKey,
        webhookSecret = o.WebhookSecret,
        customerTokenSecret = o.CustomerTokenSecret, liveCustomerTokenSecret = o.LiveCustomerTokenSecret,
    };

    public void MapEndpoints(EmulatorRoutes routes)
    {
        // The default world's organizations; a sandbox's are listed under it (GET /_emulator/sandboxes).
        routes.Control.MapGet("/organizations", (OrganizationDirectory orgs, IServiceProvider sp) => Results.Json(new
        {
            organizations = orgs.All().Where(o => sp.GetService<Control.Faults.ISandboxLookup>()?.SandboxOf(o.Id) is null).Select(View),
        })).WithName("emulatorOrganizations").WithSummary("Organizations of the seed with their deterministic keys.");

        routes.Control.MapPost("/reset", async Task<IResult> (EmulatorReset reset, Infrastructure.Store.DocumentStore store) =>
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            reset.Run();
            await store.WhenCommittedAsync(); // durationMs includes the commit, as the client sees it
            // Written by hand: serializing an anonymous type builds its reflection serializer (Reflection.Emit) on the
            // first reset of a process, milliseconds on the reset's round trip.
            var ms = Math.Round(started.Elapsed.TotalMilliseconds, 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Results.Text("{\"reset\":true,\"durationMs\":" + ms + "}", "application/json; charset=utf-8");
        }).WithName("emulatorReset").WithSummary("Restores the seed state: data, inbox, SMS, scheduled work and clock.");

        foreach (var group in new[] { routes.Consumer, routes.Admin })
            group.MapGet("/.well-known/jwks.json", (TokenService tokens) => Results.Json(tokens.Jwks()))
                .WithSummary("JSON Web Key Set (OKP / Ed25519) that verifies access tokens and admission grants.");
    }
}
