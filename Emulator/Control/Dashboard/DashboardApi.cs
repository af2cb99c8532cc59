using System.Reflection;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Scheduling;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Control.Dashboard;

/// <summary>The emulator's own facts for the dashboard's overview: <c>GET /_emulator/info</c>.</summary>
/// <param name="Version">The emulator's version (e.g. <c>0.1.0</c>).</param>
/// <param name="Ports">The port of each API.</param>
/// <param name="Store">Where state lives.</param>
/// <param name="Dashboard">The dashboard's path on the admin port.</param>
/// <param name="ApiReference">The interactive API reference's path on each port (that port's OpenAPI document).</param>
/// <param name="Features">Optional parts this build serves (<c>requests</c>: the request journal, <c>sandboxes</c>,
/// <c>adminConsumers</c>: admin <c>GET /consumers</c>), so the dashboard shows only pages that work.</param>
public sealed record EmulatorInfo(string Version, EmulatorPorts Ports, EmulatorStoreInfo Store, string Dashboard, string ApiReference,
    IReadOnlyDictionary<string, bool> Features);

/// <summary>Ports of the four APIs.</summary>
public sealed record EmulatorPorts(int Admin, int Consumer, int Beacon, int Checkout);

/// <summary><paramref name="InMemory"/>: nothing is written to disk; otherwise <paramref name="DataDirectory"/> holds the store.
/// <paramref name="Transactions"/>: write transactions committed since the process started; <paramref name="Commits"/>: commits
/// of the LiteDB file (in memory too) since start, each holding one or more of those transactions (group commit).</summary>
public sealed record EmulatorStoreInfo(bool InMemory, string? DataDirectory, long Transactions, long Commits);

/// <summary>One piece of scheduled work (<c>GET /_emulator/jobs</c>): its kind (e.g. <c>queue.admit</c>), owner and due instant (UTC ISO 8601).</summary>
public sealed record ScheduledJobView(string Id, string Kind, string? OrganizationId, string DueAt);

/// <summary>The next scheduled jobs, soonest first, and how many are pending in all.</summary>
public sealed record ScheduledJobsView(string Now, int Pending, IReadOnlyList<ScheduledJobView> Jobs);

/// <summary>
/// The dashboard: a static single-page app embedded in the binary (no Node build, no CDN), served at
/// <c>/_emulator/ui/</c> (the admin port's <c>/</c> redirects there). It reads and acts only through the control plane and
/// the admin API. Also serves <c>GET /_emulator/info</c>, <c>GET /_emulator/jobs</c> (what a clock advance will run) and
/// an interactive API reference of each port's OpenAPI document (Scalar, bundled script) at <c>/_emulator/reference</c>.
/// </summary>
public sealed class DashboardApi : IFeatureModule
{
    private const string ResourcePrefix = "Fanfare.Emulator.dashboard/";
    private static readonly Assembly Assembly = typeof(DashboardApi).Assembly;

    public void MapEndpoints(EmulatorRoutes routes)
    {
        routes.Admin.MapGet("/", () => TypedResults.Redirect("/_emulator/ui/")).ExcludeFromDescription();
        // "/_emulator/ui" (no slash) redirects so that the page's relative asset URLs resolve under /_emulator/ui/.
        routes.Control.MapGet("/ui/{**path}", (string? path, HttpContext ctx) =>
                string.IsNullOrEmpty(path) && !(ctx.Request.Path.Value ?? "").EndsWith('/') ? TypedResults.Redirect("/_emulator/ui/") : ServeAsset(path, ctx))
            .ExcludeFromDescription();

        routes.Control.MapGet("/info", (EmulatorOptions o, EndpointDataSource endpoints, DocumentStore store) => TypedResults.Json(new EmulatorInfo(
                EmulatorState.Version,
                new EmulatorPorts(o.AdminPort, o.ConsumerPort, o.BeaconPort, o.CheckoutPort),
                new EmulatorStoreInfo(o.InMemory, o.InMemory ? null : Path.GetFullPath(o.DataDirectory), store.TransactionsCommitted, store.FileCommits),
                "/_emulator/ui/", "/_emulator/reference", Features(endpoints)), DashboardJson.Default.EmulatorInfo))
            .WithName("emulatorInfo").WithSummary("Version, ports and store of this emulator");

        routes.Control.MapGet("/jobs", (int? limit, DocumentStore store, EmulatorClock clock) =>
            {
                var n = Math.Clamp(limit ?? 20, 1, 500);
                var all = store.All<ScheduledJob>();
                var next = all.OrderBy(j => j.At).ThenBy(j => j.Seq).Take(n)
                    .Select(j => new ScheduledJobView(j.Id, j.Kind, j.OrganizationId, Json.Iso(j.At))).ToList();
                return TypedResults.Json(new ScheduledJobsView(Json.Iso(clock.GetUtcNow()), all.Count, next), DashboardJson.Default.ScheduledJobsView);
            })
            .WithName("emulatorJobs").WithSummary("The next scheduled jobs (soonest first): what a clock advance will run");

        // Scalar: /_emulator/reference on every port, reading that port's own /openapi/v1.json (mapped on first use by
        // Hosting/OpenApiDocuments.cs). Scalar resolves the document relative to its own page; send it to this port's document.
        routes.Control.MapGet("/reference/openapi/v1.json", () => TypedResults.Redirect("/openapi/v1.json")).ExcludeFromDescription();
    }

    private static Dictionary<string, bool> Features(EndpointDataSource endpoints)
    {
        var patterns = endpoints.Endpoints.OfType<RouteEndpoint>().Select(e => "/" + (e.RoutePattern.RawText ?? "").Trim('/')).ToHashSet(StringComparer.Ordinal);
        return new Dictionary<string, bool>
        {
            ["requests"] = patterns.Contains("/_emulator/requests"),
            ["sandboxes"] = patterns.Contains("/_emulator/sandboxes"),
            ["adminConsumers"] = patterns.Contains(ApiSurfaceMiddleware.Prefix(ApiSurface.Admin) + "/consumers"),
        };
    }

    private static IResult ServeAsset(string? path, HttpContext ctx)
    {
        path = string.IsNullOrEmpty(path) ? "index.html" : path;
        if (path.Contains("..", StringComparison.Ordinal)) return TypedResults.NotFound();
        var stream = Assembly.GetManifestResourceStream(ResourcePrefix + path);
        if (stream is null) return TypedResults.Json(new { error = "Not found" }, statusCode: 404);
        ctx.Response.Headers.CacheControl = "no-cache";
        return TypedResults.Stream(stream, ContentType(path));
    }

    private static string ContentType(string path) => Path.GetExtension(path) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        ".txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    };
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[System.Text.Json.Serialization.JsonSerializable(typeof(EmulatorInfo))]
[System.Text.Json.Serialization.JsonSerializable(typeof(ScheduledJobsView))]
internal sealed partial class DashboardJson : System.Text.Json.Serialization.JsonSerializerContext;
