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

    /// <summary>
    /// Writes <c>{"reset":true,"durationMs":N}</c> (N in milliseconds, one decimal, as <c>Math.Round(ms, 1)</c> prints it)
    /// straight to the response: a result type, a string encoder or double formatting would be code that a reset is often
    /// the first in its process to run (JIT-compiled on the round trip of the first reset after start).
    /// </summary>
    private static Task WriteResetAnswer(HttpResponse response, double ms)
    {
        var body = new byte[64];
        var n = 0;
        void Append(ReadOnlySpan<byte> text) { text.CopyTo(body.AsSpan(n)); n += text.Length; }
        Append("{\"reset\":true,\"durationMs\":"u8);
        var tenths = (long)Math.Round(Math.Max(ms, 0) * 10);
        System.Buffers.Text.Utf8Formatter.TryFormat(tenths / 10, body.AsSpan(n), out var written);
        n += written;
        if (tenths % 10 != 0)
        {
            body[n++] = (byte)'.';
            body[n++] = (byte)('0' + tenths % 10);
        }
        Append("}"u8);
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = n;
        return response.Body.WriteAsync(body, 0, n);
    }

    public void MapEndpoints(EmulatorRoutes routes)
    {
        // The default world's organizations; a sandbox's are listed under it (GET /_emulator/sandboxes).
        routes.Control.MapGet("/organizations", (OrganizationDirectory orgs, IServiceProvider sp) => Results.Json(new
        {
            organizations = orgs.All().Where(o => sp.GetService<Control.Faults.ISandboxLookup>()?.SandboxOf(o.Id) is null).Select(View),
        })).WithName("emulatorOrganizations").WithSummary("Organizations of the seed with their deterministic keys.");

        routes.Control.MapPost("/reset", Task (HttpContext ctx, EmulatorReset reset) =>
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            reset.Run(); // returns once the new state is in the file: durationMs includes the commit, as the client sees it
            return WriteResetAnswer(ctx.Response, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }).WithName("emulatorReset").WithSummary("Restores the seed state: data, inbox, SMS, scheduled work and clock.");

        foreach (var group in new[] { routes.Consumer, routes.Admin })
            group.MapGet("/.well-known/jwks.json", (TokenService tokens) => Results.Json(tokens.Jwks()))
                .WithSummary("JSON Web Key Set (OKP / Ed25519) that verifies access tokens and admission grants.");
    }
}
