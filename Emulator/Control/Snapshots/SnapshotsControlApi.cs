using Fanfare.Emulator.Hosting;

namespace Fanfare.Emulator.Control.Snapshots;

/// <summary>
/// Snapshots (issue 17 §4): the emulator's state as one JSON document, out and back in.
/// <list type="bullet">
/// <item><c>GET /_emulator/state</c> → 200 the whole state: every document of every kind in both modes, the global clock,
/// every sandbox (with its clock), scheduled work, id counters and the id seed (shape: <see cref="SnapshotService"/>).
/// <c>?sandboxId=sbx_…</c> → one sandbox's: its <c>Sandbox</c> document, its organizations and their documents in both
/// modes, their scheduled work, and its clock (404 <c>{"error":"Sandbox not found"}</c>). With the clocks frozen the same
/// state always exports the same bytes.</item>
/// <item><c>PUT /_emulator/state</c> with a snapshot as the body → 200 <c>{"scope","sandboxId"?,"documents":N}</c>: the
/// state replaced by the snapshot's (scope <c>sandbox</c>: only that sandbox's). Malformed JSON, an unknown
/// <c>formatVersion</c>, an unknown kind, a document that does not deserialize … → 400 <c>validation_error</c> with the
/// issues, and nothing changes.</item>
/// </list>
/// The command line loads one at start: <c>--snapshot FILE</c> (env <c>Emulator__SnapshotFile</c>).
/// </summary>
public sealed class SnapshotsControlApi : IFeatureModule
{
    /// <summary>Largest snapshot <c>PUT /_emulator/state</c> reads (bytes).</summary>
    public const long MaxSnapshotBytes = 1L << 30;

    public void AddServices(IServiceCollection services, EmulatorOptions options) => services.AddSingleton<SnapshotService>();

    public void MapEndpoints(EmulatorRoutes routes)
    {
        var g = routes.Control.MapGroup("/state");

        g.MapGet("", (string? sandboxId, SnapshotService snapshots) =>
                Results.Bytes(snapshots.Export(string.IsNullOrEmpty(sandboxId) ? null : sandboxId), "application/json"))
            .Produces<System.Text.Json.Nodes.JsonObject>(200, "application/json")
            .Produces(404, contentType: "application/json")
            .WithName("emulatorStateExport")
            .WithSummary("Export the whole state (or ?sandboxId=… one sandbox's) as one JSON snapshot: documents, clocks, scheduled work, id counters.");

        g.MapPut("", async (HttpRequest req, SnapshotService snapshots) =>
            {
                // A snapshot of a busy emulator can be larger than Kestrel's default body limit (30 MB).
                if (req.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
                    limit.MaxRequestBodySize = MaxSnapshotBytes;
                using var body = new MemoryStream();
                await req.Body.CopyToAsync(body);
                return TypedResults.Ok(snapshots.Import(body.GetBuffer().AsMemory(0, (int)body.Length)));
            })
            .Accepts<System.Text.Json.Nodes.JsonObject>("application/json")
            .Produces(400, contentType: "application/json")
            .WithName("emulatorStateImport")
            .WithSummary("Import a snapshot (GET /_emulator/state), replacing the state (a sandbox snapshot: that sandbox's only); checked first, 400 validation_error and no change when it is not valid.");
    }
}
