using System.Text.Json;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.RateLimits;

/// <summary>
/// behavior.md §5 rate limits: every API response carries <c>X-RateLimit-Limit</c>, <c>X-RateLimit-Remaining</c> and
/// <c>X-RateLimit-Reset</c> (Unix seconds) of its endpoint class; an enforced class over its limit answers 429
/// <c>{"error":"Rate limit exceeded","retryAfter":N}</c> with <c>Retry-After: N</c> and the same headers. Exempt (no
/// headers): <c>/health</c>, OpenAPI documents, the <c>/_emulator</c> control plane, CORS preflights.
/// Control plane: <c>GET /_emulator/rate-limits</c>, <c>POST /_emulator/rate-limits</c>
/// <c>{"enforce"?: "all"|"none"|[class…], "scale"?: N, "limits"?: {class: perMinute|null}, "resetCounters"?: bool}</c>.
/// </summary>
public sealed class RateLimitsModule : IFeatureModule
{
    public int Order => 5;

    public void AddServices(IServiceCollection services, EmulatorOptions options) => services.AddSingleton<RateLimiter>();

    public void UsePipeline(IApplicationBuilder app) => app.UseMiddleware<RateLimitMiddleware>();

    public void OnReset(IServiceProvider services) => services.GetRequiredService<RateLimiter>().Reset();
    /// <summary>Not in a snapshot: an import keeps it.</summary>
    public void OnStateReplaced(IServiceProvider services) { }

    public void MapEndpoints(EmulatorRoutes routes)
    {
        var g = routes.Control.MapGroup("/rate-limits");
        g.MapGet("", (RateLimiter limiter) => Results.Json(State(limiter))).WithName("rateLimitsGet")
            .WithSummary("Rate-limit classes (behavior.md §5) with their effective limits and whether each is enforced.");
        g.MapPost("", async (HttpRequest req, RateLimiter limiter) =>
        {
            var body = await BodyReader.ReadAsync(req, required: true);
            HashSet<string>? enforce = null;
            var enforceNode = body.Root["enforce"];
            if (enforceNode is JsonValue v && v.TryGetValue<string>(out var word))
            {
                enforce = RateLimiter.ParseEnforce(word);
                if (enforce is null) body.AddIssue("enforce", "enum", "\"all\", \"none\" or class names", enforceNode, $"Invalid value: Received \"{word}\"");
            }
            else if (enforceNode is JsonArray arr)
            {
                enforce = [];
                foreach (var n in arr)
                    if (n is JsonValue nv && nv.TryGetValue<string>(out var name) && RateLimiter.ClassNames.Contains(name)) enforce.Add(name);
                    else body.AddIssue("enforce", "enum", string.Join(" | ", RateLimiter.ClassNames), n, $"Invalid class: Received {n?.ToJsonString() ?? "null"}");
            }
            else if (enforceNode is not null)
                body.AddIssue("enforce", "string", "\"all\", \"none\" or an array of class names", enforceNode, "Invalid type: Expected string or array");
            var scale = body.Number("scale", min: 0.0001, max: 1_000_000);
            var limits = new Dictionary<string, int?>();
            if (body.Object("limits") is { } lo)
                foreach (var (name, value) in lo)
                {
                    if (!RateLimiter.ClassNames.Contains(name))
                        body.AddIssue("limits", "enum", string.Join(" | ", RateLimiter.ClassNames), JsonValue.Create(name), $"Invalid class: Received \"{name}\"");
                    else if (value is null) limits[name] = null;
                    else if (value is JsonValue lv && lv.TryGetValue<double>(out var d) && d >= 1 && d <= int.MaxValue && d == Math.Floor(d)) limits[name] = (int)d;
                    else body.AddIssue("limits", "min_value", "integer >= 1 or null", value, $"Invalid limit for {name}: Received {value.ToJsonString()}");
                }
            var clear = body.Bool("resetCounters") ?? true;
            body.ThrowIfInvalid();
            limiter.Configure(enforce, scale, limits, clear);
            return Results.Json(State(limiter));
        }).WithName("rateLimitsSet").WithSummary("Enforce all/some/no classes, scale every limit, or set one class's per-minute limit.");
    }

    internal static JsonObject State(RateLimiter limiter)
    {
        var (enforced, scale, classes) = limiter.State();
        return new JsonObject
        {
            ["enforced"] = new JsonArray(enforced.Select(e => (JsonNode)e).ToArray()),
            ["scale"] = scale,
            ["classes"] = new JsonArray(classes.Select(c => (JsonNode)new JsonObject
            {
                ["name"] = c.Class.Name, ["covers"] = c.Class.Covers, ["perMinute"] = c.PerMinute, ["perSecond"] = c.PerSecond,
                ["documentedPerMinute"] = c.Class.PerMinute, ["documentedPerSecond"] = c.Class.PerSecond, ["enforced"] = c.Enforced,
            }).ToArray()),
        };
    }
}

/// <summary>Classifies each API request (behavior.md §5 classes), counts it, adds the headers and refuses it (429) when
/// its class is enforced and over the limit. Runs after the API surface is resolved (paths are <c>/__admin/…</c>).</summary>
public sealed class RateLimitMiddleware(RequestDelegate next, RateLimiter limiter, OrganizationDirectory orgs)
{
    public async Task InvokeAsync(HttpContext ctx)
    {
        if (ctx.Surface() is not { } surface || HttpMethods.IsOptions(ctx.Request.Method)) { await next(ctx); return; }
        var prefix = ApiSurfaceMiddleware.Prefix(surface);
        var full = ctx.Request.Path.Value ?? "";
        if (!full.StartsWith(prefix, StringComparison.Ordinal)) { await next(ctx); return; } // control plane, health, openapi
        var path = full[prefix.Length..];
        var cls = Classify(surface, ctx.Request.Method, path);

        var org = OrganizationOf(ctx.Request);
        var key = org ?? "-";
        if (cls == "authentication") key += "|" + await RecipientAsync(ctx.Request);
        var d = limiter.Hit(cls, org, key);

        if (d.Refused)
        {
            var headers = new Dictionary<string, string>
            {
                ["X-RateLimit-Limit"] = d.Limit.ToString(), ["X-RateLimit-Remaining"] = d.Remaining.ToString(),
                ["X-RateLimit-Reset"] = d.ResetUnixSeconds.ToString(), ["Retry-After"] = d.RetryAfterSeconds.ToString(),
            };
            throw new ApiException(429, "Rate limit exceeded", null,
                new JsonObject { ["error"] = "Rate limit exceeded", ["retryAfter"] = d.RetryAfterSeconds }, headers);
        }
        ctx.Response.OnStarting(AddHeaders, (ctx, d));
        await next(ctx);
    }

    private static readonly Func<object, Task> AddHeaders = state =>
    {
        var (ctx, d) = ((HttpContext, RateLimitDecision))state;
        var h = ctx.Response.Headers;
        if (!h.ContainsKey("X-RateLimit-Limit")) h["X-RateLimit-Limit"] = d.Limit.ToString();
        if (!h.ContainsKey("X-RateLimit-Remaining")) h["X-RateLimit-Remaining"] = d.Remaining.ToString();
        if (!h.ContainsKey("X-RateLimit-Reset")) h["X-RateLimit-Reset"] = d.ResetUnixSeconds.ToString();
        return Task.CompletedTask;
    };

    /// <summary>The class of a request (see <see cref="RateLimiter.Documented"/>).</summary>
    public static string Classify(ApiSurface surface, string method, string path)
    {
        var p = path.TrimEnd('/');
        var post = HttpMethods.IsPost(method);
        bool Is(string pattern) => System.Text.RegularExpressions.Regex.IsMatch(p, pattern);
        if (p.Contains("/analytics", StringComparison.OrdinalIgnoreCase)) return "analytics";
        if (surface == ApiSurface.Admin)
        {
            if (p.Contains("batch", StringComparison.OrdinalIgnoreCase) || p.Contains("bulk", StringComparison.OrdinalIgnoreCase)) return "batch";
            return HttpMethods.IsGet(method) || HttpMethods.IsHead(method) ? "admin_read" : "admin_write";
        }
        if (surface == ApiSurface.Consumer && post)
        {
            if (p == "/auth/otp/request") return "authentication";
            if (p == "/auth/external/authorize") return "external_authorization";
            if (Is("^/queues/[^/]+/enter$")) return "queue_entry";
            if (Is("^/draws/[^/]+/enter$")) return "draw_entry";
            if (Is("^/auctions/[^/]+/bids?$")) return "auction_bids";
        }
        return HttpMethods.IsGet(method) || HttpMethods.IsHead(method) ? "status_checks" : "consumer_general";
    }

    // Keys are derived from organization names and never change: remember what a key resolved to (only hits), so the
    // hot path does not read the store.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _orgByKey = new(StringComparer.Ordinal);

    /// <summary>The organization of the credentials (publishable key header, or a key as bearer), else null.</summary>
    private string? OrganizationOf(HttpRequest req)
    {
        var pk = req.Headers["X-Publishable-Key"].ToString();
        if (pk.Length > 0 && Resolve(pk) is { } a) return a;
        var auth = req.Headers.Authorization.ToString();
        if (auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var token = auth[7..].Trim();
            if ((token.StartsWith("sk_", StringComparison.Ordinal) || token.StartsWith("pk_", StringComparison.Ordinal)) && Resolve(token) is { } b) return b;
        }
        return null;
    }

    private string? Resolve(string key)
    {
        if (_orgByKey.TryGetValue(key, out var id)) return id;
        if (orgs.ByKey(key) is not { } hit) return null;
        _orgByKey[key] = hit.Org.Id;
        return hit.Org.Id;
    }

    /// <summary>The OTP recipient as the engine keys it (email lower-cased, phone in E.164), read without consuming the body.</summary>
    private static async Task<string> RecipientAsync(HttpRequest req)
    {
        try
        {
            req.EnableBuffering();
            using var doc = await JsonDocument.ParseAsync(req.Body);
            req.Body.Position = 0;
            var root = doc.RootElement;
            string? Str(string k) => root.ValueKind == JsonValueKind.Object && root.TryGetProperty(k, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            if (Str("email") is { } email) return email.Trim().ToLowerInvariant();
            if (Str("phone") is { } phone) return Fanfare.Emulator.Auth.PhoneNumbers.Normalize(phone, Str("defaultCountry")) ?? phone.Trim();
        }
        catch (JsonException) { }
        // A lone surrogate ("\ud800") parses but cannot become a string: the endpoint's BodyReader answers the 400.
        catch (InvalidOperationException) { }
        finally { if (req.Body.CanSeek) req.Body.Position = 0; }
        return "";
    }
}
