using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure.Errors;

namespace Fanfare.Emulator.Control;

/// <summary><c>GET /health</c> (behavior.md §5: rate-limit exempt) and <c>GET /_emulator/health</c>, on every port.</summary>
public sealed class HealthApi : IFeatureModule
{
    public int Order => 0;

    private static readonly byte[] Ok = """{"status":"ok"}"""u8.ToArray();

    private static readonly byte[] Ready = Readiness("ready"), Starting = Readiness("starting");

    /// <summary><c>{"status":…,"version":…}</c> as the endpoint writes it (<see cref="Infrastructure.Json.Options"/>).</summary>
    private static byte[] Readiness(string status)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new System.Text.Json.Utf8JsonWriter(buffer, new System.Text.Json.JsonWriterOptions { Encoder = Infrastructure.Json.Options.Encoder }))
        {
            w.WriteStartObject();
            w.WriteString("status", status);
            w.WriteString("version", EmulatorState.Version);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// <c>GET /health</c> once ready, and <c>GET /_emulator/health</c> (ready or starting), are answered here, before the
    /// feature middlewares (data mode, rate limits, journal, faults, customer tokens: all exempt for both) and routing:
    /// the same status, content type and body as the endpoints below, which still answer everything else (503 for
    /// <c>/health</c> while starting, <c>HEAD</c>, the OpenAPI document). Readiness probes during start-up (Docker,
    /// Testcontainers, the bench poll every few milliseconds) so cost nothing next to the seed they wait for (issue 15).
    /// </summary>
    public void UsePipeline(IApplicationBuilder app)
    {
        var state = app.ApplicationServices.GetRequiredService<EmulatorState>();
        app.Use((ctx, next) =>
        {
            if (!HttpMethods.IsGet(ctx.Request.Method)) return next(ctx);
            var path = ctx.Request.Path.Value;
            byte[] body;
            if (path == "/_emulator/health")
            {
                body = state.Ready ? Ready : Starting;
                ctx.Response.StatusCode = state.Ready ? 200 : 503;
            }
            else if (path == "/health" && state.Ready)
            {
                body = Ok;
                ctx.Response.StatusCode = 200;
            }
            else return next(ctx);
            ctx.Response.ContentType = "application/json; charset=utf-8";
            return ctx.Response.Body.WriteAsync(body).AsTask();
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
