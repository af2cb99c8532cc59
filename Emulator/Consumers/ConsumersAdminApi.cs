using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Auth;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;

namespace Fanfare.Emulator.Consumers;

/// <summary>
/// Admin consumers (admin-part2.md <c>/consumers</c>, secret key; 401 <c>Authentication required</c> / <c>Secret key
/// required</c>; 404 <c>Consumer not found</c>; 400 <c>validation_error</c>):
/// <list type="bullet">
/// <item><c>GET /consumers</c> — cursor pages (behavior.md §6: <c>first</c>/<c>after</c>, <c>last</c>/<c>before</c>, default 50,
/// max 100) with filters <c>search</c> (≥ 2 characters; email, name, phone, id prefix), <c>email</c>, <c>phone</c>,
/// <c>status</c>, <c>createdAfter</c>, <c>createdBefore</c>, <c>includeArchived</c> (default false), <c>includeGuests</c>
/// (default true), <c>sortBy</c> <c>createdAt</c>|<c>email</c>|<c>fullName</c>|<c>lastOrderAt</c>|<c>totalOrderValue</c>,
/// <c>sortDir</c> <c>asc</c>|<c>desc</c> (default desc).</item>
/// <item><c>GET|PUT|DELETE /consumers/{id}</c> — DELETE is the documented deletion (<see cref="AdminConsumerService.Delete"/>).</item>
/// <item><c>POST /consumers/batch</c> <c>{consumers:[…]}</c> (1…1000; all or nothing, 409 on a taken email/phone).</item>
/// <item><c>GET /consumers/distribution?field=ltv&amp;buckets=10</c>.</item>
/// <item><c>GET /consumers/{id}/loyalty-transactions?limit=50&amp;cursor=</c>, <c>GET /consumers/{id}/timeline?types=&amp;limit=</c>.</item>
/// </list>
/// <c>GET /consumers/{id}/audiences</c> is mapped by the audiences feature.
/// </summary>
public sealed class ConsumersAdminApi : IFeatureModule
{
    public int Order => 220;
    private const string Actor = "api_key";

    public void AddServices(IServiceCollection services, EmulatorOptions options)
    {
        services.AddSingleton<ConsumerInsights>();
        services.AddSingleton<AdminConsumerService>();
        services.AddSingleton<ConsumerTimelineService>();
    }

    /// <summary>
    /// Seed: each organization's <c>consumerHistory</c>: <c>[{email | phone, orders?: [{amount, currencyCode?, id?}],
    /// beaconEvents?: [{eventName, eventProperties?}], loyaltyAdjustments?: [{delta, reason?}]}]</c>, applied at seed time
    /// (after the seeded consumers and loyalty settings): orders are stored completed with their <c>order.completed</c>
    /// event, beacon events are stored and handed to their subscribers, so attributes and points come out as they would live.
    /// </summary>
    public void ApplySeed(IServiceProvider services, Organizations.Organization org, JsonObject orgSeed, JsonObject seed)
    {
        if (orgSeed["consumerHistory"] is not JsonArray history) return;
        var directory = services.GetRequiredService<ConsumerDirectory>();
        var store = services.GetRequiredService<Infrastructure.Store.DocumentStore>();
        var ids = services.GetRequiredService<Infrastructure.Ids.IdGenerator>();
        var outbox = services.GetRequiredService<Infrastructure.Events.EventOutbox>();
        var loyalty = services.GetRequiredService<Loyalty.LoyaltyEngine>();
        var beaconSubscribers = services.GetServices<Analytics.IBeaconEventSubscriber>().ToList();
        var now = services.GetRequiredService<Clock.ClockResolver>().For(org.Id).GetUtcNow();
        var log = services.GetRequiredService<ILogger<ConsumersAdminApi>>();
        foreach (var node in history)
        {
            if (node is not JsonObject h) continue;
            var email = h["email"]?.GetValue<string>()?.Trim().ToLowerInvariant();
            var phone = h["phone"]?.GetValue<string>() is { } p ? Fanfare.Emulator.Auth.PhoneNumbers.Normalize(p, null) : null;
            var c = (email is null ? null : directory.ByEmail(org.Id, email)) ?? (phone is null ? null : directory.ByPhone(org.Id, phone));
            if (c is null) { log.LogWarning("Seed: organization {Org}: consumerHistory names no seeded consumer ({Entry})", org.Name, h.ToJsonString()); continue; }
            foreach (var o in h["orders"] as JsonArray ?? [])
            {
                var amount = o?["amount"]?.GetValue<string>() ?? "0.00";
                var order = new Commerce.Order
                {
                    Id = o?["id"]?.GetValue<string>() ?? ids.NewUuid("order"), OrganizationId = org.Id, ConsumerId = c.Id, Status = Commerce.OrderStatuses.Completed,
                    TotalAmount = amount, CurrencyCode = o?["currencyCode"]?.GetValue<string>() ?? org.CurrencyCode, CreatedAt = now, CompletedAt = now,
                };
                store.Put(order);
                outbox.Record(org.Id, "order.completed", new JsonObject
                {
                    ["orderId"] = order.Id, ["consumerId"] = c.Id, ["completedAt"] = Json.Iso(now), ["amount"] = amount, ["currencyCode"] = order.CurrencyCode,
                });
            }
            foreach (var b in h["beaconEvents"] as JsonArray ?? [])
            {
                var name = b?["eventName"]?.GetValue<string>();
                if (name is null) continue;
                var evt = new Analytics.BeaconEvent
                {
                    Id = ids.NewUuid("beacon-event"), OrganizationId = org.Id, EventName = name, ConsumerId = c.Id, ReceivedAt = now,
                    Body = new JsonObject
                    {
                        ["organizationId"] = org.Id, ["eventId"] = ids.NewUuid("beacon-event-id"), ["eventName"] = name, ["eventTimestamp"] = Json.Iso(now),
                        ["consumerId"] = c.Id, ["eventProperties"] = b?["eventProperties"]?.DeepClone() ?? new JsonObject(),
                    },
                };
                store.Put(evt);
                foreach (var s in beaconSubscribers) s.OnBeaconEvent(evt);
            }
            foreach (var a in h["loyaltyAdjustments"] as JsonArray ?? [])
                if (a?["delta"]?.GetValue<int>() is int delta && delta != 0)
                    loyalty.Adjust(org.Id, c.Id, delta, a["reason"]?.GetValue<string>(), "admin", "seed");
        }
    }

    public void MapEndpoints(EmulatorRoutes routes)
    {
        var g = routes.Admin.MapGroup("/consumers").WithTags("Consumers");

        // admin-part2.md GET /consumers
        g.MapGet("", (HttpRequest req, Caller caller, AdminConsumerService svc) =>
        {
            var org = caller.RequireSecret();
            var all = svc.List(org.Id, ReadQuery(req.Query));
            var (items, start, end) = Pagination.Slice(all, v => v.Id, req.Query);
            return TypedResults.Json(new ConsumerPage(items, new PageInfo(start, end)), ConsumersJson.Default.ConsumerPage);
        }).WithName("getConsumers").Produces<ConsumerPage>().WithSummary("List consumers with bidirectional cursor-based pagination");

        // admin-part2.md GET /consumers/distribution
        g.MapGet("/distribution", (HttpRequest req, Caller caller, AdminConsumerService svc) =>
        {
            var org = caller.RequireSecret();
            var field = req.Query["field"].FirstOrDefault() ?? "ltv";
            if (!AdminConsumerService.NumericFields.Contains(field))
                throw Validation.Single("field", "picklist", string.Join(" | ", AdminConsumerService.NumericFields.Select(f => "\"" + f + "\"")),
                    "\"" + field + "\"", $"Invalid type: Expected one of {string.Join(", ", AdminConsumerService.NumericFields)} but received \"{field}\"");
            var buckets = IntQuery(req, "buckets", 10, 1, 50);
            return TypedResults.Json(svc.Distribution(org.Id, field, buckets), ConsumersJson.Default.ConsumerDistribution);
        }).WithName("getConsumersDistribution").Produces<ConsumerDistribution>().WithSummary("Get distribution of consumer attribute values for visualization");

        // admin-part2.md POST /consumers/batch
        g.MapPost("/batch", async (HttpRequest req, Caller caller, AdminConsumerService svc) =>
        {
            var org = caller.RequireSecret();
            var body = await BodyReader.ReadAsync(req, required: true);
            var list = body.Array("consumers", required: true);
            var items = new List<ConsumerImport>();
            if (list is not null)
            {
                if (list.Count is 0 or > 1000)
                    body.AddIssue("consumers", list.Count == 0 ? "min_length" : "max_length", "1..1000", list, $"Invalid length: Expected 1 to 1000 consumers but received {list.Count}");
                for (int i = 0; i < list.Count; i++)
                {
                    var item = BodyReader.Parse(list[i]?.ToJsonString() ?? "null", required: true);
                    var parsed = ReadImport(item);
                    if (item.HasIssues)
                    {
                        try { item.ThrowIfInvalid(); }
                        catch (ApiException ex) when (ex.Body?["issues"] is JsonArray issues)
                        {
                            foreach (var issue in issues)
                                body.AddIssue("consumers", issue!["type"]!.GetValue<string>(), issue["expected"]!.GetValue<string>(), issue["received"]!.DeepClone(),
                                    $"consumers[{i}]: " + issue["message"]!.GetValue<string>(), issue["kind"]!.GetValue<string>());
                        }
                    }
                    else items.Add(parsed!);
                }
            }
            body.ThrowIfInvalid();
            return TypedResults.Json(svc.Batch(org.Id, items, Actor), ConsumersJson.Default.ListAdminConsumer);
        }).WithName("postConsumersBatch").Produces<List<AdminConsumer>>().WithSummary("Create consumers");

        // admin-part2.md GET /consumers/{id}
        g.MapGet("/{id}", (string id, Caller caller, AdminConsumerService svc) =>
            TypedResults.Json(svc.Get(caller.RequireSecret().Id, id), ConsumersJson.Default.AdminConsumer))
            .WithName("getConsumersById").Produces<AdminConsumer>().WithSummary("Get a single consumer with sync sources");

        // admin-part2.md PUT /consumers/{id}
        g.MapPut("/{id}", async (string id, HttpRequest req, Caller caller, AdminConsumerService svc) =>
        {
            var org = caller.RequireSecret();
            svc.Require(org.Id, id);
            var body = await BodyReader.ReadAsync(req);
            var email = body.String("email", nullable: true, format: "email")?.Trim().ToLowerInvariant();
            var phone = ReadPhone(body, "phone");
            var fullName = body.String("fullName", nullable: true, maxLength: 500);
            var metadata = ReadMetadata(body);
            var smsOptOut = body.Bool("smsOptOut");
            var status = body.Enum("status", ["ACTIVE", "INACTIVE"]);
            body.ThrowIfInvalid();
            var changes = new ConsumerChanges(email, body.Root.ContainsKey("email"), fullName, body.Root.ContainsKey("fullName"), metadata,
                body.Root.ContainsKey("metadata"), phone, body.Root.ContainsKey("phone"), smsOptOut, status);
            return TypedResults.Json(svc.Update(org.Id, id, changes, Actor), ConsumersJson.Default.AdminConsumer);
        }).WithName("putConsumersById").Produces<AdminConsumer>().WithSummary("Update a consumer");

        // admin-part2.md DELETE /consumers/{id}
        g.MapDelete("/{id}", (string id, Caller caller, AdminConsumerService svc) =>
            TypedResults.Json(svc.Delete(caller.RequireSecret().Id, id, Actor), ConsumersJson.Default.AdminConsumer))
            .WithName("deleteConsumersById").Produces<AdminConsumer>().WithSummary("Archive a consumer (the documented deletion: sessions revoked, personal fields erased)");

        // admin-part2.md GET /consumers/{id}/loyalty-transactions
        g.MapGet("/{id}/loyalty-transactions", (string id, HttpRequest req, Caller caller, AdminConsumerService svc) =>
        {
            var org = caller.RequireSecret();
            var limit = IntQuery(req, "limit", 50, 1, 100);
            var cursor = req.Query["cursor"].FirstOrDefault() ?? req.Query["after"].FirstOrDefault();
            return TypedResults.Json(svc.LoyaltyTransactions(org.Id, id, limit, string.IsNullOrEmpty(cursor) ? null : cursor), ConsumersJson.Default.LoyaltyTransactionsPage);
        }).WithName("getConsumersByIdLoyaltyTransactions").Produces<LoyaltyTransactionsPage>().WithSummary("Get consumer loyalty point transaction history with pagination");

        // admin-part2.md GET /consumers/{id}/timeline
        g.MapGet("/{id}/timeline", (string id, HttpRequest req, Caller caller, AdminConsumerService svc, ConsumerTimelineService timeline) =>
        {
            var org = caller.RequireSecret();
            var c = svc.Require(org.Id, id);
            HashSet<string>? types = null;
            if (req.Query["types"].FirstOrDefault() is { Length: > 0 } raw)
            {
                types = raw.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(t => t.ToUpperInvariant()).ToHashSet();
                if (types.FirstOrDefault(t => !ConsumerTimelineService.Types.Contains(t)) is { } bad)
                    throw Validation.Single("types", "picklist", string.Join(" | ", ConsumerTimelineService.Types), "\"" + bad + "\"", $"Invalid type: unknown activity type \"{bad}\"");
            }
            int? limit = req.Query.ContainsKey("limit") ? IntQuery(req, "limit", 100, 1, 1000) : null;
            return TypedResults.Json(timeline.Build(c, types, limit), ConsumersJson.Default.ConsumerTimeline);
        }).WithName("getConsumersByIdTimeline").Produces<ConsumerTimeline>().WithSummary("Get consumer activity timeline across all distribution types");
    }

    private static ConsumerQuery ReadQuery(IQueryCollection q)
    {
        var issues = new List<ValidationIssue>();
        void Bad(string key, string type, string expected, string received, string message) =>
            issues.Add(new("validation", type, expected, "\"" + received + "\"", message, [new JsonObject { ["type"] = "object", ["origin"] = "value", ["input"] = new JsonObject(), ["key"] = key }]));
        string? S(string k) => q[k].FirstOrDefault() is { Length: > 0 } v ? v : null;
        DateTimeOffset? T(string k)
        {
            if (S(k) is not { } v) return null;
            if (DateTimeOffset.TryParse(v, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)) return t.ToUniversalTime();
            Bad(k, "iso_timestamp", "date-time", v, $"Invalid timestamp: Received \"{v}\"");
            return null;
        }
        bool B(string k, bool fallback) => S(k) is { } v ? v.Equals("true", StringComparison.OrdinalIgnoreCase) || v == "1" : fallback;
        var search = S("search");
        if (search is not null && search.Length < 2) Bad("search", "min_length", ">=2", search, $"Invalid length: Expected >=2 but received {search.Length}");
        var sortBy = S("sortBy") ?? "createdAt";
        string[] sorts = ["createdAt", "email", "fullName", "lastOrderAt", "totalOrderValue"];
        if (!sorts.Contains(sortBy)) Bad("sortBy", "picklist", string.Join(" | ", sorts), sortBy, $"Invalid type: Expected {string.Join(" | ", sorts)} but received \"{sortBy}\"");
        var sortDir = S("sortDir") ?? "desc";
        if (sortDir is not ("asc" or "desc")) Bad("sortDir", "picklist", "\"asc\" | \"desc\"", sortDir, $"Invalid type: Expected \"asc\" | \"desc\" but received \"{sortDir}\"");
        var status = S("status");
        if (status is not null and not ("ACTIVE" or "INACTIVE")) Bad("status", "picklist", "\"ACTIVE\" | \"INACTIVE\"", status, $"Invalid type: Expected \"ACTIVE\" | \"INACTIVE\" but received \"{status}\"");
        var query = new ConsumerQuery
        {
            Search = search, Email = S("email"), Phone = S("phone"), Status = status, CreatedAfter = T("createdAfter"), CreatedBefore = T("createdBefore"),
            IncludeArchived = B("includeArchived", false), IncludeGuests = B("includeGuests", true), SortBy = sortBy, Desc = sortDir == "desc",
        };
        if (issues.Count > 0) throw Validation.Exception(issues);
        return query;
    }

    private static string? ReadPhone(BodyReader body, string key)
    {
        var raw = body.String(key, nullable: true);
        if (raw is null) return null;
        var normalized = Fanfare.Emulator.Auth.PhoneNumbers.Normalize(raw, null);
        if (normalized is null) body.AddIssue(key, "phone", "E.164 phone number", body.Root[key], $"Invalid phone: Received \"{raw}\"");
        return normalized;
    }

    /// <summary><c>metadata</c>: an object whose values are string | number | boolean | null or arrays of those.</summary>
    private static JsonObject? ReadMetadata(BodyReader body)
    {
        var m = body.Object("metadata", nullable: true);
        if (m is null) return null;
        static bool Scalar(JsonNode? n) => n is null || (n is JsonValue v && v.GetValueKind() is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False);
        foreach (var (k, v) in m)
            if (!Scalar(v) && !(v is JsonArray a && a.All(Scalar)))
                body.AddIssue("metadata", "union", "string | number | boolean | null | Array", v, $"Invalid type: metadata.{k} must be a scalar or an array of scalars");
        return (JsonObject)m.DeepClone();
    }

    private static readonly string[] BaselineNumbers =
    [
        "activityRank", "activityScore", "engagedCount", "monetaryRank", "monetaryScore", "purchaseFrequencyRank", "purchaseFrequencyScore",
        "totalEngagements", "totalMessages", "totalOrders", "totalReturns",
    ];
    private static readonly string[] BaselineTimes =
    [
        "activityScoreUpdatedAt", "lastEngagedAt", "lastGeoAt", "lastLoginAt", "lastOrderAt", "lastReturnAt", "loyaltyLastActivityAt",
        "monetaryScoreUpdatedAt", "purchaseFrequencyScoreUpdatedAt",
    ];
    private static readonly string[] BaselineStrings =
    [
        "lastGeoCity", "lastGeoCountry", "lastGeoPostalCode", "lastGeoRegion", "lastGeoSource", "lastGeoTimezone", "verificationCode", "verificationCodeExpiresAt",
    ];

    private static ConsumerImport? ReadImport(BodyReader b)
    {
        var emailVerified = b.Bool("emailVerified", required: true);
        var phoneVerified = b.Bool("phoneVerified", required: true);
        var status = b.Enum("status", ["ACTIVE", "INACTIVE"], required: true);
        var email = b.String("email", nullable: true, format: "email")?.Trim().ToLowerInvariant();
        var phone = ReadPhone(b, "phone");
        var fullName = b.String("fullName", nullable: true);
        var smsOptOut = b.Bool("smsOptOut") ?? false;
        var metadata = ReadMetadata(b);
        var baseline = new JsonObject();
        foreach (var k in BaselineNumbers) if (b.Number(k, min: 0) is double d) baseline[k] = d;
        foreach (var k in BaselineTimes) if (b.String(k, nullable: true, format: "date-time") is { } t) baseline[k] = t;
        foreach (var k in BaselineStrings) if (b.String(k, nullable: true) is { } s) baseline[k] = s;
        foreach (var k in new[] { "ltv", "aov" }) if (b.String(k, format: "decimal") is { } s) baseline[k] = s;
        if (b.Object("lastGeoCoordinates", nullable: true) is { } geo) baseline["lastGeoCoordinates"] = geo.DeepClone();
        var loyaltyBalance = b.Int("loyaltyBalance", min: 0) ?? 0;
        var lifetime = b.Int("loyaltyLifetimePoints", min: 0) ?? 0;
        if (b.HasIssues) return null;
        return new ConsumerImport(email, phone, fullName, emailVerified!.Value, phoneVerified!.Value, status!, smsOptOut, metadata, baseline, loyaltyBalance, lifetime);
    }

    internal static int IntQuery(HttpRequest req, string name, int fallback, int min, int max)
    {
        var raw = req.Query[name].FirstOrDefault();
        if (string.IsNullOrEmpty(raw)) return fallback;
        if (int.TryParse(raw, out var n) && n >= min && n <= max) return n;
        throw Validation.Single(name, "max_value", $"{min}..{max}", "\"" + raw + "\"", $"Invalid value: Expected an integer from {min} to {max} but received \"{raw}\"");
    }
}
