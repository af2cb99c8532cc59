using System.Text.Json.Nodes;
using Fanfare.Emulator.Auth;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure.Errors;

namespace Fanfare.Emulator.Control.Faults;

/// <summary>
/// Fault and latency injection on the control plane, so a merchant can test how their backend copes when Fanfare
/// misbehaves:
/// <list type="bullet">
/// <item><c>POST /_emulator/faults</c> <c>{match: {api?, method?, path?, organizationId?, sandboxId?}, fault: {status,
/// body?, headers?} | {type: "connection_reset"|"timeout", seconds?} | {delaySeconds} | {delay: {minSeconds, maxSeconds}},
/// probability? (0–1, default 1), times? (then the rule disappears)}</c> → 201 the rule with its <c>id</c>.</item>
/// <item><c>GET /_emulator/faults</c> → <c>{faults: [...]}</c>; <c>GET|DELETE /_emulator/faults/{id}</c> (404
/// <c>{"error":"Not found"}</c>); <c>DELETE /_emulator/faults</c> removes all (204).</item>
/// </list>
/// Default bodies follow the contract's envelopes: 429 <c>{"error":"Rate limit exceeded","retryAfter":N}</c> with
/// <c>Retry-After</c> (60 unless a header says otherwise), 500 <c>{"error":"Internal server error"}</c>, 503
/// <c>{"error":"Service unavailable"}</c>, any other status <c>{"error": reason phrase}</c>. Faults apply to the four
/// emulated APIs only, never to <c>/_emulator/*</c> or <c>/health</c>. Latency is real time, not emulator time.
/// </summary>
public sealed class FaultsControlApi : IFeatureModule
{
    /// <summary>After the request journal (50), so faulted answers are journaled.</summary>
    public int Order => 60;

    public void AddServices(IServiceCollection services, EmulatorOptions options) => services.AddSingleton<FaultInjector>();

    public void OnReset(IServiceProvider services) => services.GetRequiredService<FaultInjector>().Clear();
    /// <summary>Not in a snapshot: an import keeps it.</summary>
    public void OnStateReplaced(IServiceProvider services) { }

    public void UsePipeline(IApplicationBuilder app)
    {
        var injector = app.ApplicationServices.GetRequiredService<FaultInjector>();
        app.Use(async (ctx, next) =>
        {
            if (!injector.Any || ctx.Surface() is not { } surface) { await next(ctx); return; }
            var prefix = ApiSurfaceMiddleware.Prefix(surface);
            var path = ctx.Request.Path.Value ?? "";
            if (!path.StartsWith(prefix, StringComparison.Ordinal)) { await next(ctx); return; }
            var decision = injector.Decide(surface.ToString().ToLowerInvariant(), ctx.Request.Method, path[prefix.Length..],
                () => Caller.From(ctx).Organization?.Id, SandboxOf(ctx));
            if (decision is null) { await next(ctx); return; }
            ctx.Items[FaultItemKey] = decision.Rule.Id;
            var f = decision.Rule.Fault;
            if (decision.DelaySeconds > 0) await Task.Delay(TimeSpan.FromSeconds(decision.DelaySeconds), ctx.RequestAborted);
            if (f.Type == "connection_reset") { ctx.Abort(); return; }
            if (f.Type == "timeout")
            {
                // Hold the request until the client gives up (at most 300 s), then drop the connection unanswered.
                try { await Task.Delay(TimeSpan.FromSeconds(300), ctx.RequestAborted); } catch (OperationCanceledException) { }
                ctx.Abort();
                return;
            }
            if (f.Status is { } status)
            {
                foreach (var (k, v) in f.Headers ?? []) ctx.Response.Headers[k] = v;
                var body = f.Body?.DeepClone() ?? DefaultBody(status, ctx);
                await Results.Json(body, statusCode: status).ExecuteAsync(ctx);
                return;
            }
            await next(ctx); // latency only
        });
    }

    /// <summary>The <c>HttpContext.Items</c> key holding the id of the fault rule that answered (the journal shows it).</summary>
    public const string FaultItemKey = "fanfare.fault";

    private static Func<string?, string?> SandboxOf(HttpContext ctx) => org =>
        org is null ? null : ctx.RequestServices.GetService<ISandboxLookup>()?.SandboxOf(org);

    private static JsonNode DefaultBody(int status, HttpContext ctx)
    {
        switch (status)
        {
            case 429:
                var retry = ctx.Response.Headers.RetryAfter.ToString();
                if (!int.TryParse(retry, out var seconds)) { seconds = 60; ctx.Response.Headers.RetryAfter = "60"; }
                return new JsonObject { ["error"] = "Rate limit exceeded", ["retryAfter"] = seconds };
            case 500: return new JsonObject { ["error"] = "Internal server error" };
            case 503: return new JsonObject { ["error"] = "Service unavailable" };
            default: return new JsonObject { ["error"] = Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } r ? r : "Error" };
        }
    }

    public void MapEndpoints(EmulatorRoutes routes)
    {
        var g = routes.Control.MapGroup("/faults").WithTags("Emulator faults");
        g.MapPost("", async (HttpRequest req, FaultInjector injector, ClockResolver clocks) =>
        {
            var body = await BodyReader.ReadAsync(req, required: true);
            var matchNode = body.Object("match");
            var faultNode = body.Object("fault", required: true);
            var probability = body.Number("probability", min: 0, max: 1) ?? 1;
            var times = body.Int("times", min: 1, max: 1_000_000);
            FaultMatch match = new(null, null, null, null, null);
            if (matchNode is not null)
            {
                var m = BodyReader.Parse(matchNode.ToJsonString());
                match = new FaultMatch(m.Enum("api", FaultInjector.Apis), m.String("method", minLength: 1, maxLength: 16),
                    m.String("path", minLength: 1, maxLength: 500), m.String("organizationId", maxLength: 200), m.String("sandboxId", maxLength: 200));
                body.Merge(m, "match");
            }
            FaultAction? action = null;
            if (faultNode is not null)
            {
                var f = BodyReader.Parse(faultNode.ToJsonString());
                var status = f.Int("status", min: 100, max: 599);
                var type = f.Enum("type", FaultInjector.TransportTypes);
                var delay = f.Number("delaySeconds", min: 0, max: 300);
                var dist = f.Object("delay");
                double? lo = null, hi = null;
                if (dist is not null)
                {
                    var d = BodyReader.Parse(dist.ToJsonString());
                    lo = d.Number("minSeconds", required: true, min: 0, max: 300);
                    hi = d.Number("maxSeconds", required: true, min: 0, max: 300);
                    if (lo > hi) d.AddIssue("maxSeconds", "min_value", ">=minSeconds", d.Root["maxSeconds"], "Invalid value: maxSeconds must not be below minSeconds");
                    f.Merge(d, "delay");
                }
                Dictionary<string, string>? headers = null;
                if (f.Object("headers") is { } h)
                {
                    headers = [];
                    foreach (var (k, v) in h)
                        if (v is JsonValue jv && jv.TryGetValue<string>(out var s) && k.Length is > 0 and <= 100 && s.Length <= 1000) headers[k] = s;
                        else f.AddIssue("headers", "string", "string", v, $"Invalid type: header {k} must be a string");
                }
                var kinds = (status is null ? 0 : 1) + (type is null ? 0 : 1) + (delay is null && dist is null ? 0 : 1);
                if (!f.HasIssues && (kinds == 0 || (status is not null && type is not null)))
                    f.AddIssue("status", "union", "status | type | delaySeconds | delay", faultNode,
                        "Invalid fault: give an HTTP status, a type (connection_reset, timeout) or a delay");
                action = new FaultAction(status, f.Root["body"]?.DeepClone(), headers, type, delay, lo, hi);
                body.Merge(f, "fault");
            }
            body.ThrowIfInvalid();
            var rule = injector.Add(match, action!, probability, times, clocks.Global.GetUtcNow());
            return TypedResults.Json(rule, FaultsJson.Default.FaultRule, statusCode: 201);
        }).WithName("emulatorFaultCreate").WithSummary("Add a fault or latency rule for the emulated APIs");

        g.MapGet("", (FaultInjector injector) => TypedResults.Json(new FaultList(injector.List()), FaultsJson.Default.FaultList))
            .WithName("emulatorFaultList").WithSummary("Fault rules in match order");
        g.MapGet("/{id}", (string id, FaultInjector injector) =>
                injector.Get(id) is { } r ? TypedResults.Json(r, FaultsJson.Default.FaultRule) : ApiErrors.Result(404, ApiErrors.NotFound))
            .WithName("emulatorFaultGet").WithSummary("One fault rule (with how often it fired)");
        g.MapDelete("/{id}", (string id, FaultInjector injector) => injector.Remove(id) ? Results.NoContent() : ApiErrors.Result(404, ApiErrors.NotFound))
            .WithName("emulatorFaultDelete").WithSummary("Remove one fault rule");
        g.MapDelete("", (FaultInjector injector) => { injector.Clear(); return Results.NoContent(); })
            .WithName("emulatorFaultClear").WithSummary("Remove every fault rule");
    }
}

/// <summary><c>GET /_emulator/faults</c>.</summary>
public sealed record FaultList(IReadOnlyList<FaultRule> Faults);

/// <summary>Which sandbox an organization belongs to (registered by the sandboxes feature when the build has it).</summary>
public interface ISandboxLookup
{
    string? SandboxOf(string organizationId);
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
[System.Text.Json.Serialization.JsonSerializable(typeof(FaultRule))]
[System.Text.Json.Serialization.JsonSerializable(typeof(FaultList))]
internal sealed partial class FaultsJson : System.Text.Json.Serialization.JsonSerializerContext;
