using System.Net;
using Microsoft.AspNetCore.Cors.Infrastructure;

namespace Fanfare.Emulator.Hosting;

/// <summary>
/// Which browser origins may call the emulator (CORS, credentials allowed, preflights cached 10 minutes).
/// <list type="bullet">
/// <item>Always: loopback origins on any port — <c>http(s)://localhost:*</c> (and <c>*.localhost</c>), <c>127.0.0.0/8</c>,
/// <c>[::1]</c> — what a frontend dev server uses.</item>
/// <item>Plus the origins listed in <see cref="EmulatorOptions.CorsOrigins"/> (exact, e.g. <c>http://192.168.1.20:5173</c>),
/// for the APIs and the control plane.</item>
/// <item><c>*</c> in <see cref="EmulatorOptions.CorsOrigins"/> opens the four APIs to every origin, but never the control plane
/// (<c>/_emulator/*</c>: keys, reset, clock): a page on the internet can then call the APIs, not read the keys.</item>
/// </list>
/// A refused origin gets no <c>Access-Control-Allow-*</c> headers, so the browser hides the response from the page.
/// </summary>
public sealed class EmulatorCorsPolicyProvider(EmulatorOptions options) : ICorsPolicyProvider
{
    private static readonly string[] Exposed = ["Retry-After", "X-Trace-Id", "X-Fingerprint-Mismatch", "X-Fingerprint-Error",
        "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"];

    private readonly CorsPolicy _api = Build(o => IsLoopback(o) || Listed(options, o, wildcard: true));
    private readonly CorsPolicy _control = Build(o => IsLoopback(o) || Listed(options, o, wildcard: false));

    public Task<CorsPolicy?> GetPolicyAsync(HttpContext context, string? policyName) =>
        Task.FromResult<CorsPolicy?>(PolicyFor(context));

    private CorsPolicy PolicyFor(HttpContext context) => context.Request.Path.StartsWithSegments("/_emulator") ? _control : _api;

    /// <summary>True when the request carries no <c>Origin</c> (not a browser's cross-site call) or one the policy allows.</summary>
    public bool OriginAllowed(HttpContext context)
    {
        var origin = context.Request.Headers.Origin.ToString();
        return origin.Length == 0 || PolicyFor(context).IsOriginAllowed(origin);
    }

    private static CorsPolicy Build(Func<string, bool> allowed) =>
        new CorsPolicyBuilder().SetIsOriginAllowed(allowed).AllowAnyHeader().AllowAnyMethod().AllowCredentials()
            .SetPreflightMaxAge(TimeSpan.FromMinutes(10)).WithExposedHeaders(Exposed).Build();

    private static bool Listed(EmulatorOptions options, string origin, bool wildcard) =>
        options.CorsOrigins.Any(c => (wildcard && c.Trim() == "*") ||
            string.Equals(c.Trim().TrimEnd('/'), origin, StringComparison.OrdinalIgnoreCase));

    /// <summary>True for <c>http(s)://</c> origins whose host is <c>localhost</c>, <c>*.localhost</c> or a loopback address.</summary>
    public static bool IsLoopback(string origin)
    {
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")) return false;
        var host = uri.IdnHost.TrimEnd('.');
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)) return true;
        return IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip);
    }
}

/// <summary>
/// CORS only hides answers; a page can still send "simple" cross-site requests (a form POST to <c>/_emulator/reset</c>, a
/// text/plain body to <c>/_emulator/clock/advance</c>, <c>?api_key=</c> with the well-known secret key). So a request whose
/// <c>Origin</c> the CORS policy refuses is itself refused: 403 <c>{"error":"Origin not allowed"}</c>, before it runs.
/// Requests without <c>Origin</c> (SDKs, curl, backends, same-origin GETs) are not affected.
/// </summary>
public sealed class OriginGuardMiddleware(RequestDelegate next, EmulatorCorsPolicyProvider cors)
{
    public Task InvokeAsync(HttpContext ctx)
    {
        if (HttpMethods.IsOptions(ctx.Request.Method) || cors.OriginAllowed(ctx)) return next(ctx);
        return Infrastructure.Errors.ApiErrors.Result(403, "Origin not allowed",
            "This origin may not call the emulator from a browser; list it in Emulator:CorsOrigins (loopback origins are always allowed).")
            .ExecuteAsync(ctx);
    }
}
