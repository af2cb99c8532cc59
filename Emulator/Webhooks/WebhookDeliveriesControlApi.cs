using System.Text.Json.Nodes;
using Fanfare.Emulator.Webhooks;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Webhooks;

/// <summary>
/// The webhook delivery log (the dashboard's delivery history), no credentials needed:
/// <list type="bullet">
/// <item><c>GET /_emulator/webhooks/deliveries?endpointId=&amp;type=&amp;status=pending|delivered|failed&amp;eventId=&amp;organizationId=</c>
/// → <c>{"deliveries":[DELIVERY]}</c>, newest first.</item>
/// <item><c>GET /_emulator/webhooks/deliveries/{id}</c> → DELIVERY; 404 <c>Delivery not found</c>.</item>
/// <item><c>POST /_emulator/webhooks/deliveries/{id}/redeliver</c> → 202 DELIVERY: the same body (same envelope id) to the same
/// endpoint as a new delivery, first attempt due now; 409 <c>Webhook endpoint is disabled</c>.</item>
/// <item><c>DELETE /_emulator/webhooks/deliveries</c> → 204; pending deliveries are dropped with their scheduled attempts.</item>
/// </list>
/// DELIVERY = <c>{id:"whd_…", organizationId, endpointId, endpointUrl, eventId:"whk_…", eventType, source:"event"|"test"|"replay"|"redeliver",
/// redeliveryOf, status, attemptCount, maxAttempts:8, createdAt, nextAttemptAt, completedAt, lastError, payload (the envelope),
/// attempts:[{attempt, retryCount, attemptedAt, url, request:{method:"POST", headers, body (raw text)},
/// response:{status, headers, body}|null, durationMs (real milliseconds), outcome:"succeeded"|"failed"|"gone", error}]}</c>.
/// Times are UTC ISO 8601 on the emulator clock.
/// </summary>
public sealed class WebhookDeliveriesControlApi : IFeatureModule
{
    public void MapEndpoints(EmulatorRoutes routes)
    {
        var g = routes.Control.MapGroup("/webhooks/deliveries");

        g.MapGet("", (string? endpointId, string? type, string? status, string? eventId, string? organizationId, WebhookEngine engine, DocumentStore store) =>
        {
            if (status is not null && !WebhookDeliveryStatus.All.Contains(status))
                throw Validation.Single("status", "picklist", "\"pending\" | \"delivered\" | \"failed\"", $"\"{status}\"",
                    $"Invalid type: Expected \"pending\" | \"delivered\" | \"failed\" but received \"{status}\"", "schema");
            lock (store.Sync) // documents are live objects: render them while no attempt is being recorded
            {
                var list = engine.Deliveries(organizationId, endpointId, type, status, eventId);
                return Results.Json(new JsonObject { ["deliveries"] = new JsonArray(list.Select(d => (JsonNode)View(d, store)).ToArray()) });
            }
        }).WithName("emulatorWebhookDeliveries").WithSummary("Webhook delivery log: attempts with request, response and timing.");

        g.MapGet("/{id}", (string id, DocumentStore store) =>
        {
            lock (store.Sync)
                return store.Get<WebhookDelivery>(id) is { } d ? Results.Json(View(d, store)) : ApiErrors.Result(404, "Delivery not found");
        }).WithName("emulatorWebhookDelivery").WithSummary("One webhook delivery with its attempts.");

        g.MapPost("/{id}/redeliver", (string id, WebhookEngine engine, DocumentStore store) =>
        {
            var d = engine.Redeliver(id);
            lock (store.Sync) return Results.Json(View(d, store), statusCode: 202);
        }).WithName("emulatorWebhookRedeliver").WithSummary("Send a delivery's payload again, as a new delivery due now.");

        g.MapDelete("", (WebhookEngine engine) =>
        {
            engine.ClearDeliveries();
            return Results.NoContent();
        }).WithName("emulatorWebhookDeliveriesClear").WithSummary("Forget every webhook delivery.");
    }

    /// <summary>DELIVERY (see the class summary). Call under the store lock.</summary>
    public static JsonObject View(WebhookDelivery d, DocumentStore store)
    {
        JsonNode? payload;
        try { payload = JsonNode.Parse(d.Payload); } catch (System.Text.Json.JsonException) { payload = d.Payload; }
        return new JsonObject
        {
            ["id"] = d.Id, ["organizationId"] = d.OrganizationId, ["endpointId"] = d.EndpointId,
            ["endpointUrl"] = store.Get<WebhookEndpoint>(d.EndpointId)?.Url ?? d.Attempts.LastOrDefault()?.Url,
            ["eventId"] = d.EventId, ["eventType"] = d.EventType, ["source"] = d.Source, ["redeliveryOf"] = d.RedeliveryOf,
            ["status"] = d.Status, ["attemptCount"] = d.Attempts.Count, ["maxAttempts"] = WebhookEngine.MaxAttempts,
            ["createdAt"] = Json.Iso(d.CreatedAt), ["nextAttemptAt"] = Json.Iso(d.NextAttemptAt), ["completedAt"] = Json.Iso(d.CompletedAt),
            ["lastError"] = d.LastError, ["payload"] = payload,
            ["attempts"] = new JsonArray(d.Attempts.Select(a => (JsonNode)new JsonObject
            {
                ["attempt"] = a.Attempt, ["retryCount"] = a.Attempt - 1, ["attemptedAt"] = Json.Iso(a.AttemptedAt), ["url"] = a.Url,
                ["request"] = new JsonObject { ["method"] = "POST", ["headers"] = Headers(a.RequestHeaders), ["body"] = a.RequestBody },
                ["response"] = a.ResponseStatus is null ? null : new JsonObject
                {
                    ["status"] = a.ResponseStatus, ["headers"] = Headers(a.ResponseHeaders), ["body"] = a.ResponseBody,
                },
                ["durationMs"] = a.DurationMs, ["outcome"] = a.Outcome, ["error"] = a.Error,
            }).ToArray()),
        };
    }

    private static JsonObject Headers(Dictionary<string, string>? h)
    {
        var o = new JsonObject();
        foreach (var (k, v) in h ?? []) o[k] = v;
        return o;
    }
}
