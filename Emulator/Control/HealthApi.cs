using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure.Errors;

namespace Fanfare.Emulator.Control;

/// <summary><c>GET /health</c> (behavior.md §5: rate-limit exempt) and <c>GET /_emulator/health</c>, on every port.</summary>
public sealed class HealthApi : IFeatureModule
{
    public int Order => 0;

    public void MapEndpoints(EmulatorRoutes routes)
    {
        routes.Root.MapGet("/health", (EmulatorState state) =>
                state.Ready ? Results.Json(new { status = "ok" }) : ApiErrors.Result(503, "Emulator is starting"))
            .WithName("health").WithSummary("Liveness: 200 {status:\"ok\"} once ready, else 503.");

        // 200 {"status":"ready","version":"x.y.z"} once the seed is loaded; 503 {"status":"starting",...} before.
        routes.Control.MapGet("/health", (EmulatorState state) =>
                state.Ready
                    ? Results.Json(new { status = "ready", version = EmulatorState.Version })
                    : Results.Json(new { status = "starting", version = EmulatorState.Version }, statusCode: 503))
            .WithName("emulatorHealth").WithSummary("Readiness of the emulator (seed loaded).");
    }
}
