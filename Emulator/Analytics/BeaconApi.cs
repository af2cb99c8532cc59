using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Auth;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Commerce;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Ids;
using Fanfare.Emulator.Infrastructure.Store;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.Analytics;

/// <summary>
/// Checks one Beacon event body (behavior.md §10.2, <c>api/openapi/beacon-api.json</c>): a <c>oneOf</c> on the
/// <c>eventName</c> const (19 names); required <c>organizationId</c>, <c>eventId</c>, <c>eventName</c>,
/// <c>eventTimestamp</c>; <c>experienceId</c>/<c>sequenceId</c> UUIDs; the common optional fields typed (strings,
/// <c>isGuest</c> boolean, <c>geoLatitude</c>/<c>geoLongitude</c> numbers, <c>segments.rfm</c> picklist);
/// <c>eventProperties</c> an object whose per-event keys are typed (money-like values strings; <c>position</c>,
/// <c>quantity</c>, <c>itemCount</c>, <c>resultsCount</c>, <c>retryCount</c> numbers; <c>purchase.products</c> an array of
/// objects; message events' <c>channel</c> <c>email|sms</c>). Unknown extra keys are kept, not refused.
/// </summary>
public static class BeaconEventSchema
{
    public static readonly string[] EventNames =
    [
        "pageView", "productImpression", "productClick", "productView", "addToCart", "removeFromCart", "viewCart", "beginCheckout",
        "purchase", "searchSubmitted", "qrScanned", "messageSent", "messageDelivered", "messageBounced", "messageComplained",
        "messageClicked", "messageOpened", "messageRead", "messageFailed",
    ];

    private static readonly string[] CommonStrings =
    [
        "anonymousId", "appVersion", "beaconRequestId", "browserName", "browserVersion", "consumerId", "deviceType", "eventSchemaVersion",
        "geoCity", "geoCountry", "geoRegion", "ipAddress", "osName", "osVersion", "pagePath", "pageTitle", "pageUrl", "platform",
        "receivedTimestamp", "referrerUrl", "referringDomain", "screenName", "sessionId", "userAgent", "userId", "utmCampaign",
        "utmContent", "utmMedium", "utmSource", "utmTerm",
    ];

    private static readonly string[] Rfm = ["CHAMPIONS", "LOYAL", "AT_RISK", "NEW", "LOST"];
    private static readonly string[] Channels = ["email", "sms"];

    private static readonly HashSet<string> NumberProps = ["position", "quantity", "itemCount", "resultsCount", "retryCount", "geoLat", "geoLng"];
    private static readonly HashSet<string> StringProps =
    [
        "pageType", "listName", "productId", "brand", "category", "currency", "price", "productName", "sku", "variant", "cartId", "cartTotal",
        "couponCodeApplied", "couponCodeUsed", "discountAmount", "orderId", "shippingCost", "subtotal", "tax", "totalRevenue", "transactionId",
        "searchQuery", "locationId", "qrPayload", "bounceType", "complaintType", "consumerId", "messageId", "priority", "template",
        "postalCode", "timezone",
    ];

    /// <summary>Reads one event; its issues land in <paramref name="outer"/> under <paramref name="prefix"/>.</summary>
    public static void Check(BodyReader outer, JsonNode? node, JsonArray prefix)
    {
        var b = RequestChecks.Nested(node);
        b.String("organizationId", required: true, minLength: 1);
        b.String("eventId", required: true, minLength: 1);
        b.Enum("eventName", EventNames, required: true);
        b.String("eventTimestamp", required: true, minLength: 1);
        b.Uuid("experienceId");
        b.Uuid("sequenceId");
        foreach (var k in CommonStrings) b.String(k, nullable: true);
        b.Bool("isGuest");
        b.Number("geoLatitude", min: -90, max: 90);
        b.Number("geoLongitude", min: -180, max: 180);
        if (b.Root.ContainsKey("eventTimestampNs") && b.Root["eventTimestampNs"] is not JsonValue) b.String("eventTimestampNs");
        if (b.Root.ContainsKey("receivedTimestampNs") && b.Root["receivedTimestampNs"] is not JsonValue) b.String("receivedTimestampNs");
        if (b.Object("segments") is { } seg)
        {
            var s = RequestChecks.Nested(seg);
            s.Enum("rfm", Rfm);
            b.Absorb(s, [RequestChecks.Step(b.Root, "segments")]);
        }
        if (b.Object("eventProperties") is { } props)
        {
            var p = RequestChecks.Nested(props);
            foreach (var (k, _) in props)
            {
                if (NumberProps.Contains(k)) p.Number(k);
                else if (StringProps.Contains(k)) p.String(k);
            }
            var name = RequestChecks.AsString(b.Root["eventName"]) ?? "";
            if (name.StartsWith("message", StringComparison.Ordinal)) p.Enum("channel", Channels);
            if (name == "purchase" && p.Array("products") is { } products)
                for (int i = 0; i < products.Count; i++)
                {
                    var item = RequestChecks.Nested(products[i]);
                    foreach (var k in new[] { "category", "price", "productId", "productName", "sku", "variant" }) item.String(k);
                    item.Number("quantity");
                    p.Absorb(item, [RequestChecks.Step(p.Root, "products"), RequestChecks.Step(products, i)]);
                }
            b.Absorb(p, [RequestChecks.Step(b.Root, "eventProperties")]);
        }
        outer.Absorb(b, prefix);
    }
}

/// <summary>Stores accepted events and tells every <see cref="IBeaconEventSubscriber"/> in the same transaction.</summary>
public sealed class BeaconStore(DocumentStore store, IdGenerator ids, ClockResolver clocks, IEnumerable<IBeaconEventSubscriber> subscribers)
{
    public List<BeaconEvent> Accept(Organization org, string environment, IReadOnlyList<JsonObject> bodies) =>
        store.Transaction(() =>
        {
            var now = clocks.For(org.Id).GetUtcNow();
            var stored = new List<BeaconEvent>();
            foreach (var body in bodies)
            {
                var props = body["eventProperties"] as JsonObject;
                var orderId = RequestChecks.AsString(props?["orderId"]);
                var evt = new BeaconEvent
                {
                    Id = ids.NewUuid("beacon-event"), OrganizationId = org.Id, Environment = environment,
                    EventName = RequestChecks.AsString(body["eventName"]) ?? "",
                    ConsumerId = RequestChecks.AsString(body["consumerId"]) ?? RequestChecks.AsString(props?["consumerId"]),
                    SessionId = RequestChecks.AsString(body["sessionId"]),
                    OrderId = orderId is not null && store.Get<Order>(orderId) is { } o && o.OrganizationId == org.Id ? o.Id : null,
                    ExperienceId = RequestChecks.AsString(body["experienceId"]),
                    DistributionId = RequestChecks.AsString(body["distributionId"]) ?? RequestChecks.AsString(props?["distributionId"]),
                    ReceivedAt = now, Body = (JsonObject)body.DeepClone(),
                };
                store.Put(evt);
                foreach (var s in subscribers) s.OnBeaconEvent(evt);
                stored.Add(evt);
            }
            return stored;
        });

    public static JsonObject ToJson(BeaconEvent e) => new()
    {
        ["id"] = e.Id, ["organizationId"] = e.OrganizationId, ["environment"] = e.Environment, ["eventName"] = e.EventName,
        ["consumerId"] = e.ConsumerId, ["sessionId"] = e.SessionId, ["orderId"] = e.OrderId, ["experienceId"] = e.ExperienceId,
        ["distributionId"] = e.DistributionId, ["receivedAt"] = Json.Iso(e.ReceivedAt), ["body"] = e.Body.DeepClone(),
    };
}

/// <summary>
/// The Beacon API (beacon port 4803; behavior.md §10.2), publishable key (<c>X-Publishable-Key</c>; any key of the
/// organization works): <c>POST /events</c> (one event) and <c>POST /events/batch</c> (a JSON array, at most 1000) → 200
/// <c>null</c>. Every event is validated (400 <c>validation_error</c>, paths prefixed by the batch index; a bad batch stores
/// nothing); an <c>organizationId</c> other than the key's is 403. Accepted events are kept as <see cref="BeaconEvent"/>
/// documents; a <c>purchase</c> whose <c>eventProperties.orderId</c> is an order of this emulator links to it.
/// Control plane: <c>GET /_emulator/beacon/events?consumerId=&amp;eventName=&amp;since=&amp;orderId=&amp;limit=</c> (newest first),
/// <c>DELETE /_emulator/beacon/events</c>.
/// </summary>
public sealed class BeaconApi : IFeatureModule
{
    public int Order => 230;
    public const int MaxBatch = 1000;

    public void AddServices(IServiceCollection services, EmulatorOptions options) => services.AddSingleton<BeaconStore>();

    public void MapEndpoints(EmulatorRoutes routes)
    {
        routes.Beacon.MapPost("/events", async (HttpRequest req, Caller caller, BeaconStore beacons) =>
        {
            var org = caller.RequireOrganization();
            var body = await BodyReader.ReadAsync(req, required: true);
            BeaconEventSchema.Check(body, body.Root, []);
            body.ThrowIfInvalid();
            RequireOwnOrganization(org, [body.Root]);
            beacons.Accept(org, caller.Environment, [body.Root]);
            return new JsonResult(200, null);
        }).WithTags("Events").WithName("postEvents").WithSummary("Track a single event (200 null)");

        routes.Beacon.MapPost("/events/batch", async (HttpRequest req, Caller caller, BeaconStore beacons) =>
        {
            var org = caller.RequireOrganization();
            string text;
            using (var sr = new StreamReader(req.Body)) text = await sr.ReadToEndAsync();
            var wrapper = BodyReader.Parse("{\"events\":" + (string.IsNullOrWhiteSpace(text) ? "null" : text) + "}");
            var arr = wrapper.Array("events", required: true);
            if (arr is not null && arr.Count > MaxBatch)
                wrapper.Add(new ValidationIssue("validation", "max_length", "<=" + MaxBatch, arr.Count.ToString(CultureInfo.InvariantCulture),
                    $"Invalid length: Expected <={MaxBatch} but received {arr.Count}", []));
            for (int i = 0; i < (arr?.Count ?? 0) && arr!.Count <= MaxBatch; i++)
                BeaconEventSchema.Check(wrapper, arr[i], [RequestChecks.Step(arr, i)]);
            wrapper.ThrowIfInvalid();
            var events = arr!.Select(n => (JsonObject)n!).ToList();
            RequireOwnOrganization(org, events);
            beacons.Accept(org, caller.Environment, events);
            return new JsonResult(200, null);
        }).WithTags("Events").WithName("postEventsBatch").WithSummary("Track a batch of events (a JSON array; 200 null)");

        routes.Control.MapGet("/beacon/events", (HttpRequest req, DocumentStore store) =>
        {
            var q = req.Query;
            string? consumerId = q["consumerId"].FirstOrDefault(), eventName = q["eventName"].FirstOrDefault(), orderId = q["orderId"].FirstOrDefault();
            DateTimeOffset? since = null;
            if (q["since"].FirstOrDefault() is { Length: > 0 } s)
                since = DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind | DateTimeStyles.AssumeUniversal, out var t) ? t
                    : throw RequestChecks.QueryIssue("since", "iso_timestamp", "date-time", s, $"Invalid timestamp: Received \"{s}\"");
            var limit = Pagination.Limit(q, Pagination.MaxPageSize);
            var list = store.Where<BeaconEvent>(e => (consumerId is null || e.ConsumerId == consumerId) && (eventName is null || e.EventName == eventName)
                    && (orderId is null || e.OrderId == orderId) && (since is null || e.ReceivedAt >= since))
                .AsEnumerable().Reverse().Take(limit).Select(e => (JsonNode)BeaconStore.ToJson(e)).ToArray();
            return Results.Json(new JsonObject { ["events"] = new JsonArray(list) });
        }).WithTags("Beacon").WithSummary("Accepted beacon events, newest first (?consumerId=, ?eventName=, ?orderId=, ?since=, ?limit= ≤ 100)");

        routes.Control.MapDelete("/beacon/events", (DocumentStore store) =>
        {
            var n = store.Transaction(() =>
            {
                var all = store.All<BeaconEvent>();
                foreach (var e in all) store.Delete<BeaconEvent>(e.Id);
                return all.Count;
            });
            return Results.Json(new JsonObject { ["deleted"] = n });
        }).WithTags("Beacon").WithSummary("Clear the kept beacon events");
    }

    private static void RequireOwnOrganization(Organization org, IEnumerable<JsonObject> events)
    {
        if (events.Any(e => RequestChecks.AsString(e["organizationId"]) != org.Id))
            throw ApiErrors.Forbidden("Forbidden - organizationId does not match the key's organization");
    }
}
