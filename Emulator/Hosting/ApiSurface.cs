namespace Fanfare.Emulator.Hosting;

/// <summary>The four Fanfare APIs, each on its own port (behavior.md §1.1).</summary>
public enum ApiSurface { Admin, Consumer, Beacon, Checkout }

/// <summary>
/// Resolves which API a request is for from the port it arrived on, and rewrites its path so that one routing table can
/// hold all four APIs: <c>/api/v1/x</c>, <c>/api/x</c> and <c>/x</c> on the consumer port all become <c>/__consumer/x</c>.
/// The control plane (<c>/_emulator/*</c>) and <c>/health</c> are left as they are and answer on every port;
/// <c>/openapi/v1.json</c> becomes that port's document. A path of another API on the wrong port matches nothing: 404.
/// </summary>
public sealed class ApiSurfaceMiddleware(RequestDelegate next, EmulatorOptions options)
{
    public const string ItemKey = "fanfare.surface";

    public static string Prefix(ApiSurface s) => "/__" + s.ToString().ToLowerInvariant();

    public ApiSurface? Resolve(HttpContext ctx)
    {
        var port = ctx.Connection.LocalPort != 0 ? ctx.Connection.LocalPort : ctx.Request.Host.Port ?? 0;
        if (port == options.AdminPort) return ApiSurface.Admin;
        if (port == options.ConsumerPort) return ApiSurface.Consumer;
        if (port == options.BeaconPort) return ApiSurface.Beacon;
        if (port == options.CheckoutPort) return ApiSurface.Checkout;
        return null;
    }

    private static readonly object[] Boxed = Enum.GetValues<ApiSurface>().Select(s => (object)s).ToArray();

    public Task InvokeAsync(HttpContext ctx)
    {
        var surface = Resolve(ctx);
        ctx.Items[ItemKey] = surface is { } known ? Boxed[(int)known] : null;
        var path = ctx.Request.Path.Value ?? "/";
        if (path.StartsWith("/_emulator", StringComparison.Ordinal) || path == "/health")
            return next(ctx);
        if (surface is null) return next(ctx); // unknown port: only the control plane answers
        if (path is "/openapi/v1.json" or "/openapi.json" or "/openapi" or "/api/openapi" or "/api/openapi.json")
        {
            ctx.Request.Path = "/openapi/" + surface.Value.ToString().ToLowerInvariant() + ".json";
            return next(ctx);
        }
        if (path.StartsWith("/api/v1/", StringComparison.Ordinal) || path == "/api/v1") path = path[7..];
        else if (path.StartsWith("/api/", StringComparison.Ordinal) || path == "/api") path = path[4..];
        if (path == "/health") { ctx.Request.Path = path; return next(ctx); }
        ctx.Request.Path = Prefix(surface.Value) + (path.Length == 0 ? "/" : path);
        return next(ctx);
    }
}

public static class HttpContextSurfaceExtensions
{
    public static ApiSurface? Surface(this HttpContext ctx) => ctx.Items.TryGetValue(ApiSurfaceMiddleware.ItemKey, out var s) ? (ApiSurface?)s : null;
}
