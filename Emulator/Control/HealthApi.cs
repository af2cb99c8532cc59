using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure.Errors;

namespace Fanfare.Emulator.Control;

/// <summary><c>GET /health</c> (behavior.md §5: rate-limit exempt) and <c>GET /_emulator/health</c>, on every port.</summary>
public sealed class HealthApi : IFeatureModule
{
    public int Order => 0;

    private static readonly byte[] Ok = """{"status":"ok"}"""u8.ToArray();

    /// <summary>
    /// <c>GET /health</c> once ready is answered here, before the feature middlewares (data mode, rate limits, journal,
    /// faults, customer tokens: all exempt for <c>/health</c>) and routing: the same status, content type and body as the
    /// endpoint below, which still answers everything else (503 while starting, <c>HEAD</c>, the OpenAPI document).
    /// </summary>
    public void UsePipeline(IApplicationBuilder app)
    {
        var state = app.ApplicationServices.GetRequiredService<EmulatorState>();
        app.Use((ctx, next) =>
        {
            if (!state.Ready || ctx.Request.Path.Value != "/health" || !HttpMethods.IsGet(ctx.Request.Method)) return next(ctx);
            ctx.Response.StatusCode = 200;
            ctx.Response.ContentType = "application/json; charset=utf-8";
            return ctx.Response.Body.WriteAsync(Ok).AsTask();
        });
    }

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
