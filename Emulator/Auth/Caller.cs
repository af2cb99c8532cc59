using System.Text.Json.Nodes;
using Fanfare.Emulator.Auth.Tokens;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Store;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.Auth;

/// <summary>A consumer's authenticated session, as an access token proves it.</summary>
public sealed record ConsumerPrincipal(string ConsumerId, string SessionId, string OrganizationId, bool IsGuest, JsonObject Claims);

/// <summary>
/// Who is calling (behavior.md §1.2), resolved once per request from:
/// <c>X-Publishable-Key</c>; <c>Authorization: Bearer sk_…</c>; <c>X-Organization-Id</c> + <c>X-Secret-Key</c>;
/// <c>?api_key=</c>; and a consumer access token in <c>Authorization: Bearer</c>. Credentials of two organizations in
/// one request are refused (401). Bind it as an endpoint parameter.
/// </summary>
public sealed class Caller
{
    private const string ItemKey = "fanfare.caller";

    public Organization? Organization { get; init; }
    public CredentialKind Kind { get; init; }
    /// <summary><c>test</c> or <c>live</c>, from the key used, or for a consumer access token alone the mode of its
    /// session (behavior.md §1.3). The store's ambient mode for the request (<see cref="DataModeModule"/>).</summary>
    public string Environment { get; init; } = "test";
    public ConsumerPrincipal? Consumer { get; init; }
    /// <summary>True when credentials were present but did not resolve (unknown key, mixed organizations).</summary>
    public bool Invalid { get; init; }

    public static ValueTask<Caller?> BindAsync(HttpContext ctx) => ValueTask.FromResult<Caller?>(From(ctx));

    public static Caller From(HttpContext ctx)
    {
        if (ctx.Items.TryGetValue(ItemKey, out var c) && c is Caller cached) return cached;
        var caller = Resolve(ctx);
        ctx.Items[ItemKey] = caller;
        return caller;
    }

    /// <summary>The organization, for operations any key (or consumer token) may call. 401 <c>Authentication required</c>.</summary>
    public Organization RequireOrganization()
    {
        if (Invalid || Organization is null) throw ApiErrors.Unauthorized();
        return Organization;
    }

    /// <summary>Secret-key operations: 401 <c>Secret key required</c> for a publishable key, 401 <c>Authentication required</c> for none.</summary>
    public Organization RequireSecret()
    {
        if (Invalid || Organization is null) throw ApiErrors.Unauthorized();
        if (Kind != CredentialKind.Secret) throw ApiErrors.SecretRequired();
        return Organization;
    }

    /// <summary>Operations of a signed-in consumer (access token): 401 <c>Authentication required</c>.</summary>
    public ConsumerPrincipal RequireConsumer()
    {
        if (Invalid || Consumer is null || Organization is null) throw ApiErrors.Unauthorized();
        return Consumer;
    }

    /// <summary>True when the request carries any of the credentials <see cref="From"/> reads.</summary>
    public static bool HasCredentials(HttpRequest req) =>
        req.Headers.Authorization.Count > 0 || req.Headers.ContainsKey("X-Publishable-Key") || req.Headers.ContainsKey("X-Secret-Key")
        || (req.QueryString.HasValue && req.Query.ContainsKey("api_key"));

    private static Caller Resolve(HttpContext ctx)
    {
        var sp = ctx.RequestServices;
        var orgs = sp.GetRequiredService<OrganizationDirectory>();
        var req = ctx.Request;
        string? bearer = null;
        var auth = req.Headers.Authorization.ToString();
        if (auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) bearer = auth[7..].Trim();

        var found = new List<(Organization Org, CredentialKind Kind, string Env)>();
        bool invalid = false;
        void AddKey(string? key)
        {
            if (string.IsNullOrEmpty(key)) return;
            if (orgs.ByKey(key) is { } hit) found.Add(hit); else invalid = true;
        }

        AddKey(req.Headers["X-Publishable-Key"].ToString());
        if (req.Query.TryGetValue("api_key", out var apiKey)) AddKey(apiKey.ToString());
        var secretHeader = req.Headers["X-Secret-Key"].ToString();
        if (secretHeader.Length > 0)
        {
            AddKey(secretHeader);
            var orgHeader = req.Headers["X-Organization-Id"].ToString();
            if (orgHeader.Length > 0 && found.Count > 0 && found[^1].Org.Id != orgHeader) invalid = true;
        }

        ConsumerPrincipal? consumer = null;
        string? sessionMode = null;
        if (bearer is not null)
        {
            if (bearer.StartsWith("sk_", StringComparison.Ordinal) || bearer.StartsWith("pk_", StringComparison.Ordinal)) AddKey(bearer);
            else (consumer, sessionMode) = ReadAccessToken(sp, orgs, bearer);
        }

        (Organization Org, CredentialKind Kind, string Env) secret = default;
        foreach (var f in found)
        {
            if (f.Org.Id != found[0].Org.Id) invalid = true;
            // Test and live are separate (behavior.md §1.3): keys of both modes, or a session of the other mode, are refused.
            if (f.Env != found[0].Env) invalid = true;
            if (secret.Org is null && f.Kind == CredentialKind.Secret) secret = f;
        }
        if (consumer is not null && found.Count > 0 && found[0].Org.Id != consumer.OrganizationId) invalid = true;
        if (sessionMode is not null && found.Count > 0 && found[0].Env != sessionMode) invalid = true;

        var any = secret.Org is not null ? secret : found.Count > 0 ? found[0] : default;
        var org = any.Org ?? (consumer is not null ? orgs.ById(consumer.OrganizationId) : null);
        return new Caller
        {
            Organization = org,
            Kind = any.Org is not null ? any.Kind : CredentialKind.None,
            Environment = any.Env ?? sessionMode ?? StoreModes.Test,
            Consumer = consumer,
            Invalid = invalid,
        };
    }

    /// <summary>A valid, unexpired (emulator clock) access token of a live session, with the mode the session was made in; or nulls.</summary>
    private static (ConsumerPrincipal?, string?) ReadAccessToken(IServiceProvider sp, OrganizationDirectory orgs, string token)
    {
        var claims = TokenService.Peek(token);
        var org = orgs.ById(claims.Str("organizationId"));
        if (claims is null || org is null) return (null, null);
        var verified = sp.GetRequiredService<TokenService>().Verify(org, token);
        if (verified is null || verified.Str("type") != "consumer") return (null, null);
        var now = sp.GetRequiredService<ClockResolver>().For(org.Id).GetUtcNow().ToUnixTimeSeconds();
        if (verified.Long("exp") is not long exp || exp <= now) return (null, null);
        var sessionId = verified.Str("sessionId") ?? "";
        var consumerId = verified.Str("consumerId");
        if (consumerId is null || sp.GetRequiredService<SessionLookup>().Find(sessionId) is not var (session, mode)) return (null, null);
        if (session.RevokedAt is not null || session.OrganizationId != org.Id) return (null, null);
        return (new ConsumerPrincipal(consumerId, sessionId, org.Id, verified.Bool("isGuest") ?? false, verified), mode);
    }
}

/// <summary>
/// Puts each request in its data mode (behavior.md §1.3): the store's ambient mode is <see cref="Caller.Environment"/>,
/// so every engine sees only the documents of the mode of the credentials used. The control plane (<c>/_emulator</c>),
/// usually called without credentials, works in test mode unless the request says <c>?mode=live</c> or carries a live key.
/// </summary>
public sealed class DataModeModule : Hosting.IFeatureModule
{
    public int Order => 1;

    public void AddServices(IServiceCollection services, Hosting.EmulatorOptions options) => services.AddSingleton<SessionLookup>();

    public void UsePipeline(IApplicationBuilder app) => app.Use(async (ctx, next) =>
    {
        string mode;
        // Without any credential the caller's environment is test: resolving it (an organization lookup) can wait until an
        // endpoint asks, and health checks and credential-less control-plane calls never pay for it.
        if (!Caller.HasCredentials(ctx.Request)) mode = StoreModes.Test;
        else
        {
            try { mode = Caller.From(ctx).Environment; }
            catch (Exception) { mode = StoreModes.Test; } // the endpoint reads the caller again and answers the error
        }
        if (ctx.Request.Path.StartsWithSegments("/_emulator") && ctx.Request.Query["mode"] == StoreModes.Live) mode = StoreModes.Live;
        using (DocumentStore.UseMode(mode)) await next(ctx);
    });
}

/// <summary>
/// The session an access token names, in whichever mode holds it, cached until a session is written (or a reset or
/// rollback): a logout, a refresh-token reuse revocation or a reset writes one, so the very next request reads it again;
/// other writes (queue entries, events) leave the cache valid.
/// </summary>
public sealed class SessionLookup(DocumentStore store)
{
    private readonly StoreReadCache<string, (ConsumerSession Session, string Mode)?> _sessions = new(store, dependsOn: typeof(ConsumerSession));

    public (ConsumerSession Session, string Mode)? Find(string sessionId) =>
        _sessions.Get(sessionId, () => store.FindInAnyMode<ConsumerSession>(sessionId));
}

/// <summary>A consumer session: the unit that refresh rotates and logout revokes.</summary>
public sealed class ConsumerSession : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public string ConsumerId { get; set; } = "";
    /// <summary><c>guest</c> or <c>authenticated</c>.</summary>
    public string Type { get; set; } = "guest";
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>The one refresh token id (<c>jti</c>) that may be used next; older ones are reuse.</summary>
    public string CurrentRefreshId { get; set; } = "";
    public DateTimeOffset? RevokedAt { get; set; }
    /// <summary><c>logout</c>, <c>refresh_token_reuse</c> or <c>linked</c>.</summary>
    public string? RevokedReason { get; set; }
}
