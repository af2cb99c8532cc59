using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Auth;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Events;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.Webhooks;

/// <summary>
/// Webhook subscription management on the admin port (behavior.md §7.1; the guides' paths, also under <c>/api</c> and
/// <c>/api/v1</c>), secret key only (401 <c>Authentication required</c> / <c>Secret key required</c>):
/// <list type="bullet">
/// <item><c>POST /webhooks</c> <c>{url, events:[type…|"*"], secret?, description?, enabled?, signatureScheme?:"v1"|"body-hex"}</c>
/// → 200 ENDPOINT. Without <c>secret</c> the organization's well-known <c>whsec_…</c> (banner, <c>/_emulator/organizations</c>) signs.</item>
/// <item><c>GET /webhooks</c> → <c>{data:[ENDPOINT], pageInfo:{startCursor:null,endCursor:null}}</c>.</item>
/// <item><c>GET|PATCH|DELETE /webhooks/{id}</c> → ENDPOINT (DELETE returns the deleted one); 404 <c>Webhook endpoint not found</c>.
/// PATCH takes any create field; <c>{"enabled":true}</c> re-enables an endpoint disabled by 410 or by failures.</item>
/// <item><c>POST /webhooks/test</c> <c>{endpointId, eventType}</c> → 202 DELIVERY-REF: a sample event of any of the 22 types.</item>
/// <item><c>POST /webhooks/{id}/replay</c> <c>{startTime, endTime, eventTypes?}</c> → 202 <c>{endpointId, startTime, endTime,
/// eventTypes, eventCount, deliveries:[DELIVERY-REF]}</c>.</item>
/// <item><c>GET /webhooks/events?startTime=&amp;endTime=&amp;type=&amp;limit=&amp;after=</c> → <c>{data:[ENVELOPE], pageInfo}</c>, oldest first
/// (limit 1…1000, default 100; <c>endCursor</c> set when more follow).</item>
/// </list>
/// ENDPOINT = <c>{id:"whe_…", organizationId, url, events, secret:"whsec_…", description|null, enabled, status:"enabled"|"disabled",
/// disabledReason:null|"manual"|"gone"|"consecutive_failures", signatureScheme, consecutiveFailures, createdAt, updatedAt}</c>;
/// DELIVERY-REF = <c>{deliveryId:"whd_…", endpointId, eventId:"whk_…", eventType, status:"pending"}</c>. Bad input → 400
/// <c>validation_error</c>; test/replay to a disabled endpoint → 409 <c>Webhook endpoint is disabled</c>.
/// Seed: each organization's <c>webhookEndpoints:[{id?, url, events?(default ["*"]), secret?, description?, enabled?, signatureScheme?}]</c>
/// and <c>webhookSignatureScheme</c> (default for its endpoints). Endpoints are seeded last, so the seed's own events
/// (seeded consumers …) are recorded but not delivered.
/// </summary>
public sealed class WebhooksApi : IFeatureModule
{
    public int Order => 1000;

    public void AddServices(IServiceCollection services, EmulatorOptions options)
    {
        services.AddSingleton<WebhookEngine>();
        services.AddSingleton<WebhookSender>();
        services.AddSingleton<IEventSubscriber, WebhookSubscriber>();
        services.AddSingleton<Infrastructure.Scheduling.IJobHandler, WebhookDeliveryJob>();
    }

    public void ApplySeed(IServiceProvider services, Organization org, JsonObject orgSeed, JsonObject seed)
    {
        if (orgSeed["webhookEndpoints"] is not JsonArray list) return;
        var engine = services.GetRequiredService<WebhookEngine>();
        var log = services.GetRequiredService<ILogger<WebhooksApi>>();
        foreach (var node in list)
        {
            var body = BodyReader.Parse(node?.ToJsonString());
            if (!body.Root.ContainsKey("events")) body.Root["events"] = new JsonArray("*");
            var id = body.String("id", minLength: 1);
            var input = ReadEndpoint(body, create: true);
            if (body.HasIssues || input.Url is null || input.Events is null)
            {
                log.LogWarning("Seed: organization {Org}: skipped an invalid webhookEndpoints entry {Entry}", org.Name, node?.ToJsonString());
                continue;
            }
            engine.Create(org, input.Url, input.Events, input.Secret, input.Description, input.Enabled ?? true, input.SignatureScheme, id);
        }
    }

    public void MapEndpoints(EmulatorRoutes routes)
    {
        var g = routes.Admin.MapGroup("/webhooks").WithTags("Webhooks");

        g.MapPost("", async (HttpRequest req, Caller caller, WebhookEngine engine) =>
        {
            var org = caller.RequireSecret();
            var body = await BodyReader.ReadAsync(req, required: true);
            var input = ReadEndpoint(body, create: true);
            body.ThrowIfInvalid();
            var ep = engine.Create(org, input.Url!, input.Events!, input.Secret, input.Description, input.Enabled ?? true, input.SignatureScheme);
            return Results.Json(View(ep));
        }).WithName("postWebhooks").WithSummary("Create a webhook endpoint");

        g.MapGet("", (Caller caller, WebhookEngine engine) =>
        {
            var org = caller.RequireSecret();
            return Results.Json(new JsonObject
            {
                ["data"] = new JsonArray(engine.List(org.Id).Select(e => (JsonNode)View(e)).ToArray()),
                ["pageInfo"] = new JsonObject { ["startCursor"] = null, ["endCursor"] = null },
            });
        }).WithName("getWebhooks").WithSummary("List webhook endpoints");

        g.MapGet("/events", (HttpRequest req, Caller caller, WebhookEngine engine) =>
        {
            var org = caller.RequireSecret();
            return Results.Json(ListEvents(req.Query, org, engine));
        }).WithName("getWebhooksEvents").WithSummary("List recorded events (envelopes), oldest first");

        g.MapPost("/test", async (HttpRequest req, Caller caller, WebhookEngine engine) =>
        {
            var org = caller.RequireSecret();
            var body = await BodyReader.ReadAsync(req, required: true);
            var endpointId = body.String("endpointId", required: true);
            var eventType = body.Enum("eventType", WebhookEventCatalog.Types, required: true);
            body.ThrowIfInvalid();
            return Results.Json(DeliveryRef(engine.SendTest(org, endpointId!, eventType!)), statusCode: 202);
        }).WithName("postWebhooksTest").WithSummary("Send a sample event of any type to an endpoint");

        g.MapGet("/{id}", (string id, Caller caller, WebhookEngine engine) =>
            Results.Json(View(engine.Get(caller.RequireSecret().Id, id)))).WithName("getWebhooksById").WithSummary("Get a webhook endpoint");

        g.MapPatch("/{id}", async (string id, HttpRequest req, Caller caller, WebhookEngine engine) =>
        {
            var org = caller.RequireSecret();
            engine.Get(org.Id, id);
            var body = await BodyReader.ReadAsync(req, required: true);
            var input = ReadEndpoint(body, create: false);
            body.ThrowIfInvalid();
            var ep = engine.Update(org.Id, id, new WebhookEndpointPatch(input.Url, input.Events, input.Secret, input.Description,
                body.Root.TryGetPropertyValue("description", out var d) && d is null, input.Enabled, input.SignatureScheme));
            return Results.Json(View(ep));
        }).WithName("patchWebhooksById").WithSummary("Update, disable or re-enable a webhook endpoint");

        g.MapDelete("/{id}", (string id, Caller caller, WebhookEngine engine) =>
            Results.Json(View(engine.Delete(caller.RequireSecret().Id, id)))).WithName("deleteWebhooksById").WithSummary("Delete a webhook endpoint");

        g.MapPost("/{id}/replay", async (string id, HttpRequest req, Caller caller, WebhookEngine engine) =>
        {
            var org = caller.RequireSecret();
            engine.Get(org.Id, id);
            var body = await BodyReader.ReadAsync(req, required: true);
            var start = body.DateTime("startTime", required: true, nullable: false);
            var end = body.DateTime("endTime", required: true, nullable: false);
            var types = body.StringArray("eventTypes");
            CheckEventTypes(body, "eventTypes", types, allowEmpty: true);
            if (start is { } s && end is { } e && e < s)
                body.AddIssue("endTime", "min_value", ">=startTime", body.Root["endTime"], "Invalid value: endTime must not be before startTime");
            body.ThrowIfInvalid();
            var (ep, deliveries) = engine.Replay(org.Id, id, start!.Value, end!.Value, types);
            return Results.Json(new JsonObject
            {
                ["endpointId"] = ep.Id, ["startTime"] = Json.Iso(start.Value), ["endTime"] = Json.Iso(end.Value),
                ["eventTypes"] = types is { Count: > 0 } ? new JsonArray(types.Select(t => (JsonNode)t).ToArray()) : new JsonArray(ep.Events.Select(t => (JsonNode)t).ToArray()),
                ["eventCount"] = deliveries.Count,
                ["deliveries"] = new JsonArray(deliveries.Select(x => (JsonNode)DeliveryRef(x)).ToArray()),
            }, statusCode: 202);
        }).WithName("postWebhooksByIdReplay").WithSummary("Deliver the recorded events of a time window again");
    }

    // ---------------------------------------------------------------- input

    private sealed record EndpointInput(string? Url, List<string>? Events, string? Secret, string? Description, bool? Enabled, string? SignatureScheme);

    /// <summary>Reads the fields of POST (all checked, <c>url</c> and <c>events</c> required) or PATCH (all optional).</summary>
    private static EndpointInput ReadEndpoint(BodyReader body, bool create)
    {
        var url = body.String("url", required: create, nullable: false);
        if (url is not null && !(Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)))
            body.AddIssue("url", "url", "url", body.Root["url"], $"Invalid URL: Received \"{url}\"");
        var events = body.StringArray("events", required: create);
        CheckEventTypes(body, "events", events, allowEmpty: false);
        var secret = body.String("secret", minLength: 1);
        var description = body.String("description", nullable: true, maxLength: 1000);
        var enabled = body.Bool("enabled");
        var scheme = body.Enum("signatureScheme", WebhookSignature.Schemes);
        return new EndpointInput(url, events, secret, description, enabled, scheme);
    }

    private static void CheckEventTypes(BodyReader body, string key, List<string>? types, bool allowEmpty)
    {
        if (types is null) return;
        if (!allowEmpty && types.Count == 0)
            body.AddIssue(key, "min_length", ">=1", body.Root[key], "Invalid length: Expected >=1 but received 0");
        foreach (var t in types.Where(t => t != "*" && !WebhookEventCatalog.IsKnown(t)))
        {
            var expected = string.Join(" | ", WebhookEventCatalog.Types.Prepend("*").Select(a => "\"" + a + "\""));
            body.AddIssue(key, "picklist", expected, JsonValue.Create(t), $"Invalid type: Expected {expected} but received \"{t}\"", "schema");
        }
    }

    private static JsonObject ListEvents(IQueryCollection q, Organization org, WebhookEngine engine)
    {
        var issues = new List<ValidationIssue>();
        DateTimeOffset? Time(string key)
        {
            var s = q[key].ToString();
            if (s.Length == 0) return null;
            if (DateTimeOffset.TryParse(s, System.Globalization.CultureInfo.InvariantCulture,
                    System.Globalization.DateTimeStyles.RoundtripKind | System.Globalization.DateTimeStyles.AssumeUniversal, out var t)) return t.ToUniversalTime();
            issues.Add(Issue(key, "iso_timestamp", "date-time", $"\"{s}\"", $"Invalid timestamp: Received \"{s}\""));
            return null;
        }
        var start = Time("startTime");
        var end = Time("endTime");
        int limit = 100;
        var limitText = q["limit"].ToString();
        if (limitText.Length > 0 && (!int.TryParse(limitText, out limit) || limit < 1 || limit > 1000))
            issues.Add(Issue("limit", "max_value", "1..1000", limitText, $"Invalid value: Expected an integer from 1 to 1000 but received {limitText}"));
        var types = q["type"].Concat(q["eventTypes"]).SelectMany(v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        string? after = null;
        var afterText = q["after"].ToString();
        if (afterText.Length > 0)
        {
            try { after = JsonNode.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(afterText)))?["id"]?.GetValue<string>(); }
            catch (Exception ex) when (ex is FormatException or JsonException or InvalidOperationException) { }
            if (after is null) issues.Add(Issue("after", "cursor", "cursor", $"\"{afterText}\"", "Invalid cursor"));
        }
        if (issues.Count > 0) throw Validation.Exception(issues);

        var events = engine.Events(org.Id, start, end, types);
        var from = after is null ? 0 : events.FindIndex(e => e.Id == after) + 1;
        var page = events.Skip(from).Take(limit).ToList();
        string Cursor(string id) => Convert.ToBase64String(Encoding.UTF8.GetBytes(new JsonObject { ["id"] = id }.ToJsonString()));
        return new JsonObject
        {
            ["data"] = new JsonArray(page.Select(e => (JsonNode)e.Envelope()).ToArray()),
            ["pageInfo"] = new JsonObject
            {
                ["startCursor"] = page.Count > 0 ? Cursor(page[0].Id) : null,
                ["endCursor"] = page.Count > 0 && from + page.Count < events.Count ? Cursor(page[^1].Id) : null,
            },
        };
    }

    private static ValidationIssue Issue(string key, string type, string expected, string received, string message) =>
        new("validation", type, expected, received, message, Validation.PathFor(null, key));

    // ---------------------------------------------------------------- output

    /// <summary>ENDPOINT (see the class summary).</summary>
    public static JsonObject View(WebhookEndpoint e) => new()
    {
        ["id"] = e.Id, ["organizationId"] = e.OrganizationId, ["url"] = e.Url,
        ["events"] = new JsonArray(e.Events.Select(t => (JsonNode)t).ToArray()),
        ["secret"] = e.Secret, ["description"] = e.Description, ["enabled"] = e.Enabled, ["status"] = e.Enabled ? "enabled" : "disabled",
        ["disabledReason"] = e.DisabledReason, ["signatureScheme"] = e.SignatureScheme, ["consecutiveFailures"] = e.ConsecutiveFailures,
        ["createdAt"] = Json.Iso(e.CreatedAt), ["updatedAt"] = Json.Iso(e.UpdatedAt),
    };

    private static JsonObject DeliveryRef(WebhookDelivery d) => new()
    {
        ["deliveryId"] = d.Id, ["endpointId"] = d.EndpointId, ["eventId"] = d.EventId, ["eventType"] = d.EventType, ["status"] = d.Status,
    };
}
