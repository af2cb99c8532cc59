using System.Text.Json.Nodes;
using Fanfare.Emulator.Auth;
using Fanfare.Emulator.Consumers;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.Auth;

/// <summary>
/// The seven consumer-auth operations of consumer-part1.md on the consumer port (behavior.md §2). Responses:
/// SESSIONRESP <c>{session:{type,consumerId,guestId?,expiresAt,email?,phone?},accessToken,refreshToken,
/// refreshTokenTtlSeconds,beaconToken}</c>; refresh <c>{accessToken,refreshToken,refreshTokenTtlSeconds,
/// accessTokenExpiresAt,beaconToken}</c>. Errors: 401 <c>Authentication required</c> / <c>Secret key required</c>,
/// 400 <c>validation_error</c>, and the flow-specific 401/409 bodies of <see cref="ConsumerAuthEngine"/>.
/// </summary>
public sealed class AuthApi : IFeatureModule
{
    public int Order => 10;

    public void AddServices(IServiceCollection services, EmulatorOptions options)
    {
        // Read from the seed when first needed: a restart on a non-empty store does not re-apply the seed.
        services.AddSingleton(sp => OtpSettings.From(sp.GetRequiredService<SeedLoader>().Seed));
        services.AddSingleton<ConsumerDirectory>();
        services.AddSingleton<SessionIssuer>();
        services.AddSingleton<ConsumerAuthEngine>();
    }

    /// <summary>Seed: top-level <c>otp</c> settings, and each organization's <c>consumers</c> (<c>{id?,email?,phone?,fullName?}</c>).</summary>
    public void ApplySeed(IServiceProvider services, Organization org, JsonObject orgSeed, JsonObject seed)
    {
        services.GetRequiredService<OtpSettings>().Load(seed);

        var directory = services.GetRequiredService<ConsumerDirectory>();
        foreach (var node in orgSeed["consumers"] as JsonArray ?? [])
        {
            if (node is not JsonObject c) continue;
            var email = c["email"]?.GetValue<string>()?.Trim().ToLowerInvariant();
            var phone = c["phone"]?.GetValue<string>() is { } p ? PhoneNumbers.Normalize(p, c["defaultCountry"]?.GetValue<string>()) : null;
            directory.Create(org.Id, "seed", email, phone, c["fullName"]?.GetValue<string>());
        }
    }

    public void MapEndpoints(EmulatorRoutes routes)
    {
        var g = routes.Consumer.MapGroup("/auth").WithTags("Consumer auth");

        // consumer-part1.md POST /auth/guest — publishable key; no body → SESSIONRESP with session.type "guest".
        g.MapPost("/guest", (Caller caller, ConsumerAuthEngine auth) => Results.Json(auth.Guest(caller.RequireOrganization())))
            .WithName("postAuthGuest").WithSummary("Create guest session");

        // consumer-part1.md POST /auth/otp/request — {email} or {phone, defaultCountry?}, name? → {ok:true}.
        g.MapPost("/otp/request", async (HttpRequest req, Caller caller, ConsumerAuthEngine auth) =>
        {
            var org = caller.RequireOrganization();
            var body = await BodyReader.ReadAsync(req, required: true);
            var (channel, recipient) = ReadRecipient(body);
            var name = body.String("name");
            body.ThrowIfInvalid();
            auth.RequestOtp(org, channel, recipient!, name);
            return TypedResults.Json(new OtpRequested(true), AuthJson.Default.OtpRequested);
        }).WithName("postAuthOtpRequest").WithSummary("Request OTP for email or phone authentication");

        // consumer-part1.md POST /auth/otp/verify — {code, email | phone, defaultCountry?} → SESSIONRESP (authenticated).
        g.MapPost("/otp/verify", async (HttpRequest req, Caller caller, ConsumerAuthEngine auth) =>
        {
            var org = caller.RequireOrganization();
            var body = await BodyReader.ReadAsync(req, required: true);
            var code = body.String("code", required: true);
            var (channel, recipient) = ReadRecipient(body);
            body.ThrowIfInvalid();
            return Results.Json(auth.VerifyOtp(org, channel, recipient!, code!, caller.Consumer));
        }).WithName("postAuthOtpVerify").WithSummary("Verify OTP and authenticate (email or phone)");

        // consumer-part1.md POST /auth/external/authorize — secret key; {provider, issuer, subject, canonicalSubject?, claims?}
        // → {exchangeCode:"exc_…", expiresAt (now+60 s), resolution:"created"|"existing"|"linked"}.
        g.MapPost("/external/authorize", async (HttpRequest req, Caller caller, ConsumerAuthEngine auth) =>
        {
            var org = caller.RequireSecret();
            var body = await BodyReader.ReadAsync(req, required: true);
            var provider = body.String("provider", required: true, minLength: 1);
            var issuer = body.String("issuer", required: true, minLength: 1);
            var subject = body.String("subject", required: true, minLength: 1);
            var canonical = body.String("canonicalSubject", minLength: 1, maxLength: 255);
            var claims = body.Object("claims");
            if (claims is not null)
            {
                var length = claims.ToJsonString().Length;
                if (length > ConsumerAuthEngine.MaxClaimsJsonChars)
                    body.AddIssue("claims", "max_length", $"<={ConsumerAuthEngine.MaxClaimsJsonChars}", length,
                        $"Invalid length: Expected <={ConsumerAuthEngine.MaxClaimsJsonChars} JSON characters but received {length}");
                foreach (var key in new[] { "email", "fullName", "name" })
                    if (claims[key] is { } v && (v is not JsonValue jv || !jv.TryGetValue<string>(out _)))
                        body.AddIssue("claims", "string", "string", v, $"Invalid type: Expected claims.{key} to be string", "schema");
            }
            body.ThrowIfInvalid();
            return Results.Json(auth.Authorize(org, provider!, issuer!, subject!, canonical, claims));
        }).WithName("postAuthExternalAuthorize").WithSummary("Create a one-time exchange code for an external identity (server-to-server)");

        // consumer-part1.md POST /auth/external/exchange — publishable key; {exchangeCode} → SESSIONRESP.
        g.MapPost("/external/exchange", async (HttpRequest req, Caller caller, ConsumerAuthEngine auth) =>
        {
            var org = caller.RequireOrganization();
            var body = await BodyReader.ReadAsync(req, required: true);
            var code = body.String("exchangeCode", required: true);
            body.ThrowIfInvalid();
            return Results.Json(auth.Exchange(org, code!, caller.Consumer));
        }).WithName("postAuthExternalExchange").WithSummary("Exchange an external one-time code for a Fanfare consumer session (browser)");

        // consumer-part1.md POST /auth/refresh — {refreshToken} → refresh response; 401 {"error":"invalid refresh token"}.
        g.MapPost("/refresh", async (HttpRequest req, Caller caller, SessionIssuer sessions) =>
        {
            var org = caller.RequireOrganization();
            var body = await BodyReader.ReadAsync(req);
            var token = body.String("refreshToken");
            body.ThrowIfInvalid();
            return Results.Json(sessions.Refresh(org, token));
        }).WithName("postAuthRefresh").WithSummary("Refresh access token");

        // consumer-part1.md POST /auth/logout — consumer access token → 204; the session's tokens are refused afterwards.
        g.MapPost("/logout", (Caller caller, SessionIssuer sessions) =>
        {
            var principal = caller.RequireConsumer();
            sessions.Revoke(principal.SessionId, "logout");
            return Results.NoContent();
        }).WithName("postAuthLogout").WithSummary("Logout current authenticated session and best-effort revoke its refresh token");
    }

    /// <summary>Email (lower-cased) or E.164 phone from <c>email</c> / <c>phone</c> + <c>defaultCountry</c>.</summary>
    private static (string Channel, string? Recipient) ReadRecipient(BodyReader body)
    {
        var email = body.String("email", format: "email");
        var phone = body.String("phone");
        var country = body.String("defaultCountry");
        if (country is not null && !PhoneNumbers.IsKnownCountry(country))
            body.AddIssue("defaultCountry", "country", "ISO 3166-1 alpha-2 country code", body.Root["defaultCountry"], $"Invalid country: Received \"{country}\"");
        if (email is not null) return ("email", email.Trim().ToLowerInvariant());
        if (phone is not null)
        {
            var e164 = PhoneNumbers.Normalize(phone, country);
            if (e164 is null)
                body.AddIssue("phone", "phone", "E.164 phone number", body.Root["phone"], $"Invalid phone: Received \"{phone}\"");
            return ("sms", e164);
        }
        if (!body.HasIssues)
            body.Add(new ValidationIssue("schema", "string", "string", "undefined", "Invalid type: Expected email or phone but received undefined",
                Validation.PathFor(body.Root, "email")));
        return ("email", null);
    }
}

/// <summary>The answer of <c>POST /auth/otp/request</c> (consumer-part1.md): <c>{"ok": true}</c>.</summary>
public sealed record OtpRequested(bool Ok);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[System.Text.Json.Serialization.JsonSerializable(typeof(OtpRequested))]
internal sealed partial class AuthJson : System.Text.Json.Serialization.JsonSerializerContext;
