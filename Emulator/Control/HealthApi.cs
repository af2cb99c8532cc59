using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure.Errors;

namespace Fanfare.Emulator.Control;

/// <summary><c>GET /health</c> (behavior.md §5: rate-limit exempt) and <c>GET /_emulator/health</c>, on every port.</summary>
public sealed class HealthApi : IFeatureModule
{
    public int Order => 0;

    private static readonly byte[] Ok = """{"status":"ok"}"""u8.ToArray();

    private static readonly byte[] Ready = Readiness("ready"), Starting = Readiness("starting");

    /// <summary><c>{"status":…,"version":…}</c>, written with <see cref="Infrastructure.Json.Options"/>' encoder.</summary>
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

    /// <summary>Writes one of the bodies above (the middleware's fast path and the endpoints share them).</summary>
    private static Task Write(HttpContext ctx, int status, byte[] body) => Infrastructure.Utf8Json.WriteAsync(ctx.Response, body, status);

    /// <summary>The readiness answer of <c>GET /_emulator/health</c>: 200 ready or 503 starting.</summary>
    private static Task WriteReadiness(HttpContext ctx, EmulatorState state) =>
        state.Ready ? Write(ctx, 200, Ready) : Write(ctx, 503, Starting);

    /// <summary>
    /// <c>GET /health</c> once ready, and <c>GET /_emulator/health</c> (ready or starting), are answered here, before the
    /// feature middlewares (data mode, rate limits, journal, faults, customer tokens: all exempt for both) and routing:
    /// with the same bodies as the endpoints below, which still answer everything else (503 for
    /// <c>/health</c> while starting; their OpenAPI descriptions). Readiness probes during start-up (Docker,
    /// Testcontainers, the bench poll every few milliseconds) so cost nothing next to the seed they wait for (issue 15).
    /// </summary>
    public void UsePipeline(IApplicationBuilder app)
    {
        var state = app.ApplicationServices.GetRequiredService<EmulatorState>();
        app.Use((ctx, next) =>
        {
            if (!HttpMethods.IsGet(ctx.Request.Method)) return next(ctx);
            var path = ctx.Request.Path.Value;
            if (path == "/_emulator/health") return WriteReadiness(ctx, state);
            if (path == "/health" && state.Ready) return Write(ctx, 200, Ok);
            return next(ctx);
        });
    }

    public void MapEndpoints(EmulatorRoutes routes)
    {
        routes.Root.MapGet("/health", Task (HttpContext ctx, EmulatorState state) =>
                state.Ready ? Write(ctx, 200, Ok) : ApiErrors.Result(503, "Emulator is starting").ExecuteAsync(ctx))
            .WithName("health").WithSummary("Liveness: 200 {status:\"ok\"} once ready, else 503.");

        // 200 {"status":"ready","version":"x.y.z"} once the seed is loaded; 503 {"status":"starting",...} before.
        routes.Control.MapGet("/health", Task (HttpContext ctx, EmulatorState state) => WriteReadiness(ctx, state))
            .WithName("emulatorHealth").WithSummary("Readiness of the emulator (seed loaded).");
    }
}
