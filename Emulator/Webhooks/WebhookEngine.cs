using System.Text.Json.Nodes;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Events;
using Fanfare.Emulator.Infrastructure.Ids;
using Fanfare.Emulator.Infrastructure.Scheduling;
using Fanfare.Emulator.Infrastructure.Store;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.Webhooks;

/// <summary>Fields of <c>PATCH /webhooks/{id}</c>; null = unchanged (<see cref="Description"/> may be cleared with <see cref="ClearDescription"/>).</summary>
public sealed record WebhookEndpointPatch(
    string? Url = null, List<string>? Events = null, string? Secret = null, string? Description = null, bool ClearDescription = false,
    bool? Enabled = null, string? SignatureScheme = null);

/// <summary>An attempt ready to go on the wire (built under the store lock, sent outside it).</summary>
public sealed record PreparedAttempt(string DeliveryId, int Attempt, DateTimeOffset AttemptedAt, string Url, Dictionary<string, string> Headers, string Body);

/// <summary>What came back from the receiver (<see cref="Status"/> null: no HTTP response).</summary>
public sealed record AttemptResult(int? Status, Dictionary<string, string>? Headers, string? Body, double DurationMs, string? Error);

/// <summary>
/// Webhook endpoints and deliveries (behavior.md §7), knowing nothing of HTTP requests. Every recorded event becomes one
/// <see cref="WebhookDelivery"/> per enabled, subscribed endpoint, whose attempts are jobs on the emulator clock
/// (<see cref="Scheduler"/>, kind <see cref="JobKind"/>): at once, then 1 min, 5 min, 30 min, 2 h, 6 h, 12 h and 24 h after
/// the previous attempt (8 in all). A 2xx ends it; 410 ends it and disables the endpoint; after the 8th failure it is
/// <c>failed</c> and <c>webhook.delivery.failed</c> is recorded. 100 failed attempts in a row within 7 days disable the
/// endpoint. Deliveries, events and pending jobs are documents: they survive a restart.
/// </summary>
public sealed class WebhookEngine(DocumentStore store, IdGenerator ids, ClockResolver clocks, Scheduler scheduler, IServiceProvider services)
{
    public const string JobKind = "webhook.delivery";
    public const int MaxAttempts = 8;
    public const int AutoDisableFailures = 100;
    public static readonly TimeSpan AutoDisableWindow = TimeSpan.FromDays(7);
    /// <summary>Delay before attempt 2…8, after the previous attempt (behavior.md §7.3).</summary>
    public static readonly TimeSpan[] RetryDelays =
    [
        TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2),
        TimeSpan.FromHours(6), TimeSpan.FromHours(12), TimeSpan.FromHours(24),
    ];
    public const string UserAgent = "Fanfare-Webhooks/1.0";
    public const string NotFound = "Webhook endpoint not found";
    public const string Disabled = "Webhook endpoint is disabled";

    private static string JobId(string deliveryId) => "webhook:" + deliveryId;

    // ---------------------------------------------------------------- endpoints

    /// <summary>The organization's default scheme: the seed's <c>webhookSignatureScheme</c>, else <c>v1</c>.</summary>
    public static string DefaultScheme(Organization org) =>
        org.Seed?["webhookSignatureScheme"] is JsonValue v && v.TryGetValue<string>(out var s) && WebhookSignature.Schemes.Contains(s) ? s : WebhookSignature.V1;

    /// <summary>Creates an endpoint (inputs already validated). Without a secret it signs with the organization's
    /// well-known <see cref="Organization.WebhookSecret"/>, so the value printed in the banner verifies it.</summary>
    public WebhookEndpoint Create(Organization org, string url, List<string> events, string? secret = null, string? description = null,
        bool enabled = true, string? signatureScheme = null, string? id = null)
    {
        return store.Transaction(() =>
        {
            var now = clocks.For(org.Id).GetUtcNow();
            var ep = new WebhookEndpoint
            {
                Id = id ?? ids.NewPrefixed("whe_"), OrganizationId = org.Id, Url = url, Events = events.Distinct().ToList(),
                Secret = secret ?? org.WebhookSecret, Description = description, Enabled = enabled,
                SignatureScheme = signatureScheme ?? DefaultScheme(org), CreatedAt = now, UpdatedAt = now,
            };
            if (!enabled) { ep.DisabledReason = "manual"; ep.DisabledAt = now; }
            return store.Put(ep);
        });
    }

    public List<WebhookEndpoint> List(string organizationId) => store.Where<WebhookEndpoint>(e => e.OrganizationId == organizationId);

    /// <summary>The endpoint, or 404 <c>Webhook endpoint not found</c> (also for another organization's).</summary>
    public WebhookEndpoint Get(string organizationId, string? id) =>
        store.Get<WebhookEndpoint>(id) is { } e && e.OrganizationId == organizationId ? e : throw ApiErrors.NotFoundError(NotFound);

    public WebhookEndpoint Update(string organizationId, string id, WebhookEndpointPatch patch)
    {
        return store.Transaction(() =>
        {
            var ep = Get(organizationId, id);
            var now = clocks.For(organizationId).GetUtcNow();
            if (patch.Url is not null) ep.Url = patch.Url;
            if (patch.Events is not null) ep.Events = patch.Events.Distinct().ToList();
            if (patch.Secret is not null) ep.Secret = patch.Secret;
            if (patch.Description is not null || patch.ClearDescription) ep.Description = patch.Description;
            if (patch.SignatureScheme is not null) ep.SignatureScheme = patch.SignatureScheme;
            if (patch.Enabled == true && !ep.Enabled)
            {
                ep.Enabled = true; ep.DisabledReason = null; ep.DisabledAt = null;
                ep.ConsecutiveFailures = 0; ep.RecentFailures.Clear();
            }
            else if (patch.Enabled == false && ep.Enabled) Disable(ep, "manual", now);
            ep.UpdatedAt = now;
            return store.Put(ep);
        });
    }

    /// <summary>Deletes the endpoint; its pending deliveries fail with <c>Endpoint deleted</c>.</summary>
    public WebhookEndpoint Delete(string organizationId, string id)
    {
        return store.Transaction(() =>
        {
            var ep = Get(organizationId, id);
            StopPending(ep.Id, "Endpoint deleted", clocks.For(organizationId).GetUtcNow());
            store.Delete<WebhookEndpoint>(ep.Id);
            return ep;
        });
    }

    private void Disable(WebhookEndpoint ep, string reason, DateTimeOffset now)
    {
        ep.Enabled = false; ep.DisabledReason = reason; ep.DisabledAt = now; ep.UpdatedAt = now;
        StopPending(ep.Id, "Endpoint disabled", now);
    }

    /// <summary>Fails every pending delivery to an endpoint and drops its scheduled attempt.</summary>
    private void StopPending(string endpointId, string reason, DateTimeOffset now)
    {
        foreach (var d in store.Where<WebhookDelivery>(d => d.EndpointId == endpointId && d.Status == WebhookDeliveryStatus.Pending))
        {
            scheduler.Cancel(JobId(d.Id));
            d.Status = WebhookDeliveryStatus.Failed; d.NextAttemptAt = null; d.CompletedAt = now; d.LastError = reason;
            store.Put(d);
        }
    }

    // ---------------------------------------------------------------- deliveries

    /// <summary>Called for every recorded event (inside its transaction): one delivery per enabled, subscribed endpoint,
    /// first attempt scheduled at once. Nothing is sent here; the scheduler does it.</summary>
    public void Fanout(OutboxEvent evt)
    {
        var endpoints = store.Where<WebhookEndpoint>(e => e.OrganizationId == evt.OrganizationId && e.Enabled && e.Subscribes(evt.Type));
        if (endpoints.Count == 0) return;
        var payload = evt.Envelope().ToJsonString(Json.Options);
        foreach (var ep in endpoints) Enqueue(ep, evt.Id, evt.Type, evt.Timestamp, payload, "event");
    }

    private WebhookDelivery Enqueue(WebhookEndpoint ep, string eventId, string eventType, DateTimeOffset eventTime, string payload, string source, string? redeliveryOf = null)
    {
        return store.Transaction(() =>
        {
            var now = clocks.For(ep.OrganizationId).GetUtcNow();
            var d = new WebhookDelivery
            {
                Id = ids.NewPrefixed("whd_"), OrganizationId = ep.OrganizationId, EndpointId = ep.Id, EventId = eventId, EventType = eventType,
                EventTimestamp = eventTime, Payload = payload, Source = source, RedeliveryOf = redeliveryOf, CreatedAt = now, NextAttemptAt = now,
            };
            store.Put(d);
            scheduler.Schedule(JobId(d.Id), JobKind, now, new JsonObject { ["deliveryId"] = d.Id }, ep.OrganizationId);
            return d;
        });
    }

    /// <summary><c>POST /webhooks/test</c>: a sample event of <paramref name="eventType"/> to one endpoint, whatever it subscribes to.
    /// The event is not recorded in the outbox (it is not a platform event). 409 when the endpoint is disabled.</summary>
    public WebhookDelivery SendTest(Organization org, string endpointId, string eventType)
    {
        return store.Transaction(() =>
        {
            var ep = Get(org.Id, endpointId);
            if (!ep.Enabled) throw ApiErrors.Conflict(Disabled);
            var now = clocks.For(org.Id).GetUtcNow();
            var evt = new OutboxEvent
            {
                Id = ids.NewPrefixed("whk_"), OrganizationId = org.Id, Type = eventType, Timestamp = now,
                Data = WebhookEventCatalog.Sample(eventType, now, org.CurrencyCode, ep),
            };
            return Enqueue(ep, evt.Id, evt.Type, evt.Timestamp, evt.Envelope().ToJsonString(Json.Options), "test");
        });
    }

    /// <summary><c>POST /webhooks/{id}/replay</c>: the organization's recorded events with
    /// <c>startTime ≤ timestamp ≤ endTime</c> of <paramref name="eventTypes"/> (default: what the endpoint subscribes to),
    /// delivered again in time order, same envelope (same <c>id</c>). 409 when the endpoint is disabled.</summary>
    public (WebhookEndpoint Endpoint, List<WebhookDelivery> Deliveries) Replay(string organizationId, string endpointId, DateTimeOffset start, DateTimeOffset end, List<string>? eventTypes)
    {
        return store.Transaction(() =>
        {
            var ep = Get(organizationId, endpointId);
            if (!ep.Enabled) throw ApiErrors.Conflict(Disabled);
            var events = store.Where<OutboxEvent>(e => e.OrganizationId == organizationId && e.Timestamp >= start && e.Timestamp <= end
                    && (eventTypes is { Count: > 0 } ? eventTypes.Contains("*") || eventTypes.Contains(e.Type) : ep.Subscribes(e.Type)))
                .OrderBy(e => e.Timestamp).ToList();
            var deliveries = events.Select(e => Enqueue(ep, e.Id, e.Type, e.Timestamp, e.Envelope().ToJsonString(Json.Options), "replay")).ToList();
            return (ep, deliveries);
        });
    }

    /// <summary>The organization's recorded events, oldest first, optionally from/to a time, of some types, after an event id.</summary>
    public List<OutboxEvent> Events(string organizationId, DateTimeOffset? start, DateTimeOffset? end, IReadOnlyCollection<string>? types) =>
        store.Where<OutboxEvent>(e => e.OrganizationId == organizationId && (start is null || e.Timestamp >= start) && (end is null || e.Timestamp <= end)
                && (types is not { Count: > 0 } || types.Contains(e.Type)))
            .OrderBy(e => e.Timestamp).ToList();

    /// <summary>Control plane: the same payload to the same endpoint again, as a new delivery (attempts from 1).</summary>
    public WebhookDelivery Redeliver(string deliveryId)
    {
        return store.Transaction(() =>
        {
            var d = store.Get<WebhookDelivery>(deliveryId) ?? throw ApiErrors.NotFoundError("Delivery not found");
            var ep = store.Get<WebhookEndpoint>(d.EndpointId) ?? throw ApiErrors.NotFoundError(NotFound);
            if (!ep.Enabled) throw ApiErrors.Conflict(Disabled);
            return Enqueue(ep, d.EventId, d.EventType, d.EventTimestamp, d.Payload, "redeliver", d.Id);
        });
    }

    /// <summary>Deliveries, newest first, filtered.</summary>
    public List<WebhookDelivery> Deliveries(string? organizationId = null, string? endpointId = null, string? eventType = null, string? status = null, string? eventId = null) =>
        store.Where<WebhookDelivery>(d => (organizationId is null || d.OrganizationId == organizationId) && (endpointId is null || d.EndpointId == endpointId)
                && (eventType is null || d.EventType == eventType) && (status is null || d.Status == status) && (eventId is null || d.EventId == eventId))
            .AsEnumerable().Reverse().ToList();

    /// <summary>Control plane: forgets every delivery (pending ones are not attempted any more).</summary>
    public int ClearDeliveries()
    {
        return store.Transaction(() =>
        {
            var all = store.All<WebhookDelivery>();
            foreach (var d in all)
            {
                if (d.Status == WebhookDeliveryStatus.Pending) scheduler.Cancel(JobId(d.Id));
                store.Delete<WebhookDelivery>(d.Id);
            }
            return all.Count;
        });
    }

    // ---------------------------------------------------------------- attempts (called by the job handler)

    /// <summary>Builds the next attempt of a pending delivery: headers, signature and timestamp from the emulator clock.
    /// Null when there is nothing to send (delivery gone or settled; endpoint deleted or disabled fails it).</summary>
    public PreparedAttempt? PrepareAttempt(string deliveryId)
    {
        return store.Transaction(() =>
        {
            var d = store.Get<WebhookDelivery>(deliveryId);
            if (d is null || d.Status != WebhookDeliveryStatus.Pending) return null;
            var now = clocks.For(d.OrganizationId).GetUtcNow();
            var ep = store.Get<WebhookEndpoint>(d.EndpointId);
            if (ep is null || !ep.Enabled)
            {
                d.Status = WebhookDeliveryStatus.Failed; d.NextAttemptAt = null; d.CompletedAt = now;
                d.LastError = ep is null ? "Endpoint deleted" : "Endpoint disabled";
                store.Put(d);
                return null;
            }
            var attempt = d.Attempts.Count + 1;
            var ts = now.ToUnixTimeSeconds();
            var headers = new Dictionary<string, string>
            {
                ["Content-Type"] = "application/json",
                ["User-Agent"] = UserAgent,
                ["X-Fanfare-Signature"] = WebhookSignature.Sign(ep.SignatureScheme, ep.Secret, ts, d.Payload),
                ["X-Fanfare-Timestamp"] = ts.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["X-Fanfare-Event-Type"] = d.EventType,
                ["X-Fanfare-Event-Id"] = d.EventId,
                ["X-Fanfare-Delivery-Id"] = d.Id,
                ["X-Fanfare-Retry-Count"] = (attempt - 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["X-Fanfare-Original-Time"] = Json.Iso(d.EventTimestamp),
                ["X-Fanfare-Webhook-Id"] = ep.Id,
            };
            return new PreparedAttempt(d.Id, attempt, now, ep.Url, headers, d.Payload);
        });
    }

    /// <summary>Records an attempt's outcome and decides what comes next (success, retry on the clock, or failure).</summary>
    public void CompleteAttempt(PreparedAttempt p, AttemptResult r)
    {
        store.Transaction(() =>
        {
            var d = store.Get<WebhookDelivery>(p.DeliveryId);
            if (d is null || d.Status != WebhookDeliveryStatus.Pending) return; // cleared or settled while the request was out
            var now = clocks.For(d.OrganizationId).GetUtcNow();
            var ep = store.Get<WebhookEndpoint>(d.EndpointId);
            var outcome = r.Status is >= 200 and < 300 ? "succeeded" : r.Status == 410 ? "gone" : "failed";
            var error = outcome == "succeeded" ? null : r.Error ?? $"HTTP {r.Status}";
            d.Attempts.Add(new WebhookAttempt
            {
                Attempt = p.Attempt, AttemptedAt = p.AttemptedAt, Url = p.Url, RequestHeaders = p.Headers, RequestBody = p.Body,
                ResponseStatus = r.Status, ResponseHeaders = r.Headers, ResponseBody = r.Body, DurationMs = Math.Round(r.DurationMs, 1),
                Outcome = outcome, Error = error,
            });
            d.LastError = error;
            bool emitFailed = false;
            if (outcome != "failed" || p.Attempt >= MaxAttempts)
            {
                d.Status = outcome == "succeeded" ? WebhookDeliveryStatus.Delivered : WebhookDeliveryStatus.Failed;
                d.NextAttemptAt = null; d.CompletedAt = now;
                emitFailed = outcome == "failed" && d.EventType != WebhookEventCatalog.DeliveryFailed;
            }
            else
            {
                d.NextAttemptAt = p.AttemptedAt + RetryDelays[p.Attempt - 1];
                scheduler.Schedule(JobId(d.Id), JobKind, d.NextAttemptAt.Value, new JsonObject { ["deliveryId"] = d.Id }, d.OrganizationId);
            }
            store.Put(d);

            if (ep is not null)
            {
                if (outcome == "succeeded") { ep.ConsecutiveFailures = 0; ep.RecentFailures.Clear(); }
                else
                {
                    ep.ConsecutiveFailures++;
                    ep.RecentFailures.Add(now);
                    if (ep.RecentFailures.Count > AutoDisableFailures) ep.RecentFailures.RemoveRange(0, ep.RecentFailures.Count - AutoDisableFailures);
                    if (outcome == "gone" && ep.Enabled) Disable(ep, "gone", now);
                    else if (ep.Enabled && ep.RecentFailures.Count >= AutoDisableFailures && now - ep.RecentFailures[0] <= AutoDisableWindow)
                        Disable(ep, "consecutive_failures", now);
                }
                store.Put(ep);
            }

            if (emitFailed)
                services.GetRequiredService<EventOutbox>().Record(d.OrganizationId, WebhookEventCatalog.DeliveryFailed,
                    WebhookEventCatalog.DeliveryFailedData(ep ?? new WebhookEndpoint { Id = d.EndpointId, Url = p.Url }, d.EventId, d.EventType, d.Attempts.Count, error));
        });
    }
}

/// <summary>Hands every recorded event to <see cref="WebhookEngine.Fanout"/>.</summary>
public sealed class WebhookSubscriber(WebhookEngine engine) : IEventSubscriber
{
    public void OnEvent(OutboxEvent evt) => engine.Fanout(evt);
}
