using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Commerce;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Events;
using Fanfare.Emulator.Infrastructure.Store;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.Analytics;

/// <summary>A parsed, valid <c>POST /analytics/query</c> body (admin-part1.md).</summary>
public sealed record AnalyticsRequest(
    string Interval, TimeSpan Step, DateTimeOffset Start, DateTimeOffset End, List<AnalyticsMeasure> Measures,
    List<AnalyticsFilter> Where, bool GroupBySegment, bool EndsNow = false);

public sealed record AnalyticsMeasure(string Name, string Unit, string Op, string Event, string? Field);

public sealed record AnalyticsFilter(string Path, string Op, JsonNode? Value);

/// <summary>One thing that happened, as the query sees it: an event name, an instant, a consumer and a flat JSON view
/// (what <c>where</c> paths and <c>field</c> read).</summary>
public sealed record AnalyticsRecord(string Event, DateTimeOffset At, string? ConsumerId, JsonObject View, string? Segment, string? Currency);

/// <summary>
/// The metrics DSL of <c>POST /analytics/query</c> over the emulator's own records:
/// <list type="bullet">
/// <item>Beacon events (<see cref="BeaconEvent"/>, by <c>eventName</c>, at <c>receivedAt</c> on the emulator clock, same
/// mode — test/live — as the key). <c>where</c>/<c>field</c> paths read the event body, then its <c>eventProperties</c>.</item>
/// <item>Distribution events from the outbox (<see cref="OutboxEvent"/>): <c>queue.consumer.entered</c> → <c>queue_entered</c>,
/// <c>queue.consumer.admitted</c> → <c>queue_granted</c>, <c>draw.consumer.lost</c> → <c>draw_denied</c>, <c>draw.completed</c>
/// → <c>draw_ended</c>, <c>auction.bid.placed</c> → <c>bid_placed</c>, <c>auction.bid.outbid</c> → <c>outbid</c>,
/// <c>auction.consumer.won</c> → <c>bid_won</c>, <c>auction.settled</c> → <c>auction_ended</c>, and generally
/// <c>{kind}.consumer.{verb}</c> / <c>{kind}.{verb}</c> → <c>{kind}_{verb}</c>. Paths read the event's <c>data</c>.</item>
/// <item>Orders (<see cref="Order"/>): <c>order_created</c> at <c>createdAt</c>, <c>order_cancelled</c> at <c>cancelledAt</c>,
/// <c>order_refunded</c> at the <c>order.refunded</c> outbox event (else <c>cancelledAt</c>/<c>completedAt</c>) for orders with
/// a refund. Paths: <c>orderId, consumerId, experienceId, sequenceId, distributionId, status, totalAmount, refundedAmount,
/// currencyCode, itemCount</c>; <c>sum</c>/<c>avg</c> default to <c>totalAmount</c> (<c>refundedAmount</c> for refunds).</item>
/// </list>
/// <c>timeRange</c>: an ISO 8601 interval <c>start/end</c> (also <c>start/PT6H</c>, <c>P1D/end</c>) or a window ending now:
/// <c>30m</c>, <c>24h</c>, <c>7d</c>, <c>2w</c>, <c>last_24h</c>, <c>PT24H</c>, <c>P7D</c>. Buckets are aligned to the interval
/// (UTC; <c>1d</c> starts at midnight UTC). An explicit interval is half-open <c>[start, end)</c>; a relative window is
/// <c>[now − d, now]</c> and its last bucket is the one holding now. Every bucket of the range is returned (zeros when nothing happened); at most
/// 10,000 buckets. <c>count</c> counts records; <c>sum</c>/<c>avg</c> read <c>field</c> (a number or a decimal string).
/// <c>unit:"currency"</c> values are decimal strings with two places and <c>meta[name].currency</c> is the organization's
/// currency (records in another currency are left out). <c>groupBy:{field:"segment_rfm"}</c> splits each bucket by RFM
/// segment: the beacon event's <c>segments.rfm</c>, else the consumer's segment from their orders (see <see cref="Segment"/>).
/// </summary>
public sealed partial class AnalyticsQueryEngine(DocumentStore store, ClockResolver clocks)
{
    public static readonly string[] Intervals = ["1m", "5m", "10m", "15m", "30m", "1h", "6h", "12h", "1d"];
    public static readonly string[] Units = ["count", "currency"];
    public static readonly string[] Ops = ["count", "sum", "avg"];
    public static readonly string[] WhereOps = ["=", "!=", "in", "eq", "neq"];
    public static readonly string[] Segments = ["CHAMPIONS", "LOYAL", "AT_RISK", "NEW", "LOST"];
    public const string UnknownSegment = "UNKNOWN";
    public const int MaxBuckets = 10_000;

    public static readonly string[] BeaconEvents =
        ["pageView", "productImpression", "productClick", "productView", "searchSubmitted", "addToCart", "removeFromCart", "viewCart",
         "beginCheckout", "purchase", "qrScanned", "messageClicked", "messageOpened", "messageRead", "messageSent", "messageDelivered",
         "messageBounced", "messageComplained", "messageFailed"];

    public static readonly string[] DistributionEvents =
        ["queue_entered", "queue_granted", "queue_denied", "queue_left", "queue_completed", "draw_entered", "draw_won", "draw_completed",
         "draw_denied", "draw_ended", "auction_entered", "bid_placed", "outbid", "bid_won", "bid_lost", "auction_ended", "price_dropped",
         "waitlist_entered", "waitlist_left", "waitlist_expired", "waitlist_reordered", "timed_release_entered", "timed_release_completed",
         "timed_release_left", "timed_release_denied", "appointment_booked", "appointment_confirmed", "appointment_reminder",
         "appointment_checked_in", "appointment_completed", "appointment_cancelled", "appointment_rescheduled", "appointment_no_show"];

    public static readonly string[] OrderEvents = ["order_created", "order_cancelled", "order_refunded"];

    public static readonly string[] Events = [.. BeaconEvents, .. DistributionEvents, .. OrderEvents];

    /// <summary>Outbox types whose analytics name is not the generic <c>{kind}_{verb}</c>.</summary>
    private static readonly Dictionary<string, string> OutboxNames = new()
    {
        ["queue.consumer.admitted"] = "queue_granted",
        ["draw.consumer.lost"] = "draw_denied",
        ["draw.completed"] = "draw_ended",
        ["auction.bid.placed"] = "bid_placed",
        ["auction.bid.outbid"] = "outbid",
        ["auction.consumer.won"] = "bid_won",
        ["auction.consumer.lost"] = "bid_lost",
        ["auction.settled"] = "auction_ended",
        ["auction.price.dropped"] = "price_dropped",
        ["auction.price_dropped"] = "price_dropped",
    };

    /// <summary>The analytics event name of an outbox type, or null when it is not a distribution event.</summary>
    public static string? AnalyticsName(string outboxType)
    {
        if (OutboxNames.TryGetValue(outboxType, out var n)) return n;
        if (Array.IndexOf(DistributionEvents, outboxType) >= 0) return outboxType;
        var generic = outboxType.Replace(".consumer.", ".", StringComparison.Ordinal).Replace('.', '_');
        return Array.IndexOf(DistributionEvents, generic) >= 0 ? generic : null;
    }

    // ------------------------------------------------------------------ parsing

    /// <summary>Checks the whole body; every issue is reported at once (std 400).</summary>
    public AnalyticsRequest Parse(BodyReader body, string organizationId)
    {
        var interval = body.Enum("interval", Intervals, required: true);
        var range = body.String("timeRange", required: true, minLength: 1);
        var measuresNode = body.Array("measures", required: true);
        var whereNode = body.Array("where");
        var groupBy = body.Object("groupBy");

        var now = clocks.For(organizationId).GetUtcNow();
        DateTimeOffset start = default, end = default;
        if (range is { Length: > 0 })
        {
            if (ParseRange(range, now) is { } r) (start, end) = r;
            else body.AddIssue("timeRange", "time_range", "ISO 8601 interval (start/end) or a relative window (30m, 24h, 7d)", body.Root["timeRange"],
                $"Invalid time range: Received \"{range}\"");
        }

        var measures = new List<AnalyticsMeasure>();
        if (measuresNode is not null)
        {
            if (measuresNode.Count == 0)
                body.AddIssue("measures", "min_length", ">=1", measuresNode, "Invalid length: Expected >=1 but received 0");
            for (int i = 0; i < measuresNode.Count; i++)
            {
                var m = RequestChecks.Nested(measuresNode[i]);
                var name = m.String("name", required: true, minLength: 1);
                var unit = m.Enum("unit", Units, required: true);
                var op = m.Enum("op", Ops, required: true);
                var evt = m.Enum("event", Events, required: true);
                var field = m.String("field", minLength: 1);
                if (name is not null && measures.Any(x => x.Name == name))
                    m.AddIssue("name", "unique", "a unique measure name", m.Root["name"], $"Invalid value: measure name \"{name}\" is used twice");
                if (op is "sum" or "avg" && field is null && evt is not null && DefaultField(evt) is null)
                    m.AddIssue("field", "string", "string", null, $"Invalid type: Expected string but received undefined (op \"{op}\" on \"{evt}\" needs a field)", "schema");
                if (op == "count" && unit == "currency")
                    m.AddIssue("unit", "picklist", "\"count\"", m.Root["unit"], "Invalid type: Expected \"count\" but received \"currency\" (op \"count\" counts records)", "schema");
                body.Absorb(m, [RequestChecks.Step(body.Root, "measures"), RequestChecks.Step(measuresNode, i)]);
                if (name is not null && unit is not null && op is not null && evt is not null) measures.Add(new(name, unit, op, evt, field));
            }
        }

        var where = new List<AnalyticsFilter>();
        if (whereNode is not null)
            for (int i = 0; i < whereNode.Count; i++)
            {
                var w = RequestChecks.Nested(whereNode[i]);
                var path = w.String("path", required: true, minLength: 1);
                var op = w.Enum("op", WhereOps, required: true);
                if (!w.Root.ContainsKey("value"))
                    w.AddIssue("value", "unknown", "unknown", null, "Invalid type: Expected a value but received undefined", "schema");
                else if (op == "in" && w.Root["value"] is not JsonArray)
                    w.AddIssue("value", "array", "Array", w.Root["value"], $"Invalid type: Expected Array but received {Validation.Describe(w.Root["value"])}", "schema");
                body.Absorb(w, [RequestChecks.Step(body.Root, "where"), RequestChecks.Step(whereNode, i)]);
                if (path is not null && op is not null) where.Add(new(path, op, w.Root["value"]?.DeepClone()));
            }

        bool bySegment = false;
        if (groupBy is not null)
        {
            var gb = BodyReader.Parse(groupBy.ToJsonString());
            bySegment = gb.Enum("field", ["segment_rfm"], required: true) is not null;
            body.Absorb(gb, [RequestChecks.Step(body.Root, "groupBy")]);
        }

        TimeSpan step = interval is null ? TimeSpan.Zero : Step(interval);
        if (interval is not null && range is not null && end > start && (end - start).Ticks / step.Ticks > MaxBuckets)
            body.AddIssue("timeRange", "max_buckets", $"<={MaxBuckets} buckets", body.Root["timeRange"],
                $"Invalid value: {range} in {interval} buckets is more than {MaxBuckets} buckets");
        body.ThrowIfInvalid();
        return new AnalyticsRequest(interval!, step, start, end, measures, where, bySegment, EndsNow: range is not null && !range.Contains('/'));
    }

    public static TimeSpan Step(string interval) => interval switch
    {
        "1m" => TimeSpan.FromMinutes(1), "5m" => TimeSpan.FromMinutes(5), "10m" => TimeSpan.FromMinutes(10),
        "15m" => TimeSpan.FromMinutes(15), "30m" => TimeSpan.FromMinutes(30), "1h" => TimeSpan.FromHours(1),
        "6h" => TimeSpan.FromHours(6), "12h" => TimeSpan.FromHours(12), _ => TimeSpan.FromDays(1),
    };

    /// <summary><c>start/end</c>, <c>start/duration</c>, <c>duration/end</c>, or a window ending <paramref name="now"/>.</summary>
    public static (DateTimeOffset Start, DateTimeOffset End)? ParseRange(string s, DateTimeOffset now)
    {
        s = s.Trim();
        var parts = s.Split('/');
        if (parts.Length == 2)
        {
            var a = Instant(parts[0]); var b = Instant(parts[1]);
            var da = Duration(parts[0]); var db = Duration(parts[1]);
            (DateTimeOffset, DateTimeOffset)? r = (a, b, da, db) switch
            {
                ({ } x, { } y, _, _) => (x, y),
                ({ } x, null, _, { } d) => (x, x + d),
                (null, { } y, { } d, _) => (y - d, y),
                _ => null,
            };
            return r is { } ok && ok.Item2 > ok.Item1 ? ok : null;
        }
        if (parts.Length != 1) return null;
        var m = Relative().Match(s);
        if (m.Success)
        {
            var n = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            if (n <= 0) return null;
            var span = m.Groups[2].Value switch
            {
                "m" => TimeSpan.FromMinutes(n), "h" => TimeSpan.FromHours(n), "d" => TimeSpan.FromDays(n), _ => TimeSpan.FromDays(7 * n),
            };
            return (now - span, now);
        }
        return Duration(s) is { } dur ? (now - dur, now) : null;
    }

    private static DateTimeOffset? Instant(string s) =>
        s.Length > 0 && char.IsDigit(s[0]) && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture,
            DateTimeStyles.RoundtripKind | DateTimeStyles.AssumeUniversal, out var t) ? t.ToUniversalTime() : null;

    private static TimeSpan? Duration(string s)
    {
        if (!s.StartsWith('P')) return null;
        return IsoDuration.TryParse(s, out var d) && d > TimeSpan.Zero ? d : null;
    }

    [GeneratedRegex(@"^(?:last[_ -]?)?(\d{1,6})(m|h|d|w)$")]
    private static partial Regex Relative();

    private static string? DefaultField(string evt) => evt switch
    {
        "order_created" or "order_cancelled" => "totalAmount",
        "order_refunded" => "refundedAmount",
        "purchase" => "totalRevenue",
        "viewCart" or "beginCheckout" => "cartTotal",
        "productView" or "addToCart" or "removeFromCart" => "price",
        "bid_placed" => "bidAmount",
        "outbid" => "previousBidAmount",
        "bid_won" or "auction_ended" => "winningBidAmount",
        _ => null,
    };

    // ------------------------------------------------------------------ evaluation

    /// <summary>Runs the query: <c>{meta, data:[{time_bucket, series, segment_rfm?}]}</c>.</summary>
    public JsonObject Run(Organization org, string environment, AnalyticsRequest q)
    {
        var now = clocks.For(org.Id).GetUtcNow();
        var wanted = q.Measures.Select(m => m.Event).ToHashSet();
        var records = Records(org, environment, wanted, now)
            .Where(r => r.At >= q.Start && (r.At < q.End || (q.EndsNow && r.At == q.End)) && q.Where.All(f => Matches(r.View, f)))
            .ToList();

        var meta = new JsonObject();
        foreach (var m in q.Measures)
        {
            var entry = new JsonObject { ["unit"] = m.Unit };
            if (m.Unit == "currency") entry["currency"] = org.CurrencyCode;
            meta[m.Name] = entry;
        }

        long stepTicks = q.Step.Ticks;
        long first = q.Start.UtcTicks / stepTicks * stepTicks;
        var buckets = new List<DateTimeOffset>();
        for (long t = first; t <= q.End.UtcTicks; t += stepTicks)
        {
            if (t == q.End.UtcTicks && t > first && !q.EndsNow) break; // an explicit end on a bucket edge closes the previous bucket
            buckets.Add(new DateTimeOffset(t, TimeSpan.Zero));
        }

        List<string?> groups = [null];
        if (q.GroupBySegment)
        {
            groups = Segments.Cast<string?>().ToList();
            if (records.Any(r => r.Segment is null || Array.IndexOf(Segments, r.Segment) < 0))
                groups.AddRange(records.Select(r => r.Segment ?? UnknownSegment).Where(s => Array.IndexOf(Segments, s) < 0).Distinct().Order(StringComparer.Ordinal));
        }

        var byBucket = records.GroupBy(r => (r.At.UtcTicks / stepTicks * stepTicks, q.GroupBySegment ? r.Segment ?? UnknownSegment : null))
            .ToDictionary(g => g.Key, g => g.ToList());
        var data = new JsonArray();
        foreach (var b in buckets)
            foreach (var group in groups)
            {
                var inBucket = byBucket.TryGetValue((b.UtcTicks, group), out var list) ? list : [];
                var series = new JsonObject();
                foreach (var m in q.Measures) series[m.Name] = Measure(m, inBucket, org.CurrencyCode);
                var row = new JsonObject { ["time_bucket"] = Json.Iso(b), ["series"] = series };
                if (group is not null) row["segment_rfm"] = group;
                data.Add(row);
            }
        return new JsonObject { ["meta"] = meta, ["data"] = data };
    }

    private static JsonNode Measure(AnalyticsMeasure m, List<AnalyticsRecord> records, string currency)
    {
        var matching = records.Where(r => r.Event == m.Event && (m.Unit != "currency" || r.Currency is null || r.Currency == currency)).ToList();
        if (m.Op == "count") return JsonValue.Create(matching.Count);
        var field = m.Field ?? DefaultField(m.Event)!;
        var values = matching.Select(r => Number(Lookup(r.View, field))).OfType<decimal>().ToList();
        decimal result = m.Op == "sum" ? values.Sum() : values.Count == 0 ? 0 : values.Average();
        if (m.Unit == "currency") return JsonValue.Create(result.ToString("0.00", CultureInfo.InvariantCulture));
        return JsonValue.Create(Math.Round(result, 6));
    }

    private static decimal? Number(JsonNode? n) => n is JsonValue v
        ? v.GetValueKind() switch
        {
            JsonValueKind.Number => decimal.TryParse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null,
            JsonValueKind.String => decimal.TryParse(v.GetValue<string>(), NumberStyles.Number, CultureInfo.InvariantCulture, out var s) ? s : null,
            _ => null,
        }
        : null;

    /// <summary>A dotted path in the record's view; for beacon events a path not found at the top is looked up in <c>eventProperties</c>.</summary>
    public static JsonNode? Lookup(JsonObject view, string path)
    {
        JsonNode? Walk(JsonNode? node, string p)
        {
            foreach (var part in p.Split('.'))
            {
                if (node is not JsonObject o || !o.TryGetPropertyValue(part, out node)) return null;
            }
            return node;
        }
        return Walk(view, path) ?? Walk(view["eventProperties"], path) ?? Walk(view["data"], path);
    }

    private static bool Matches(JsonObject view, AnalyticsFilter f)
    {
        var actual = Lookup(view, f.Path);
        bool Eq(JsonNode? expected) => Same(actual, expected);
        return f.Op switch
        {
            "=" or "eq" => Eq(f.Value),
            "!=" or "neq" => !Eq(f.Value),
            "in" => f.Value is JsonArray arr && arr.Any(Eq),
            _ => false,
        };
    }

    private static bool Same(JsonNode? a, JsonNode? b)
    {
        if (a is null || b is null) return a is null && b is null;
        if (Number(a) is { } x && Number(b) is { } y && a.GetValueKind() != b.GetValueKind()) return x == y;
        return JsonNode.DeepEquals(a, b);
    }

    // ------------------------------------------------------------------ records

    private IEnumerable<AnalyticsRecord> Records(Organization org, string environment, HashSet<string> wanted, DateTimeOffset now)
    {
        var segments = new Dictionary<string, string>();
        var orders = store.Where<Order>(o => o.OrganizationId == org.Id && o.Environment == environment);
        string? SegmentOf(string? consumerId)
        {
            if (consumerId is null) return null;
            if (!segments.TryGetValue(consumerId, out var s)) segments[consumerId] = s = Segment(orders.Where(o => o.ConsumerId == consumerId), now);
            return s;
        }

        if (wanted.Overlaps(BeaconEvents))
            foreach (var e in store.Where<BeaconEvent>(e => e.OrganizationId == org.Id && e.Environment == environment && wanted.Contains(e.EventName)))
            {
                var view = (JsonObject)e.Body.DeepClone();
                view["eventName"] = e.EventName;
                if (e.ConsumerId is not null) view["consumerId"] ??= e.ConsumerId;
                if (e.ExperienceId is not null) view["experienceId"] ??= e.ExperienceId;
                if (e.DistributionId is not null) view["distributionId"] ??= e.DistributionId;
                var rfm = e.Body["segments"]?["rfm"] is JsonValue rv && rv.GetValueKind() == JsonValueKind.String ? rv.GetValue<string>() : SegmentOf(e.ConsumerId);
                var currency = Lookup(view, "currency") is JsonValue cv && cv.GetValueKind() == JsonValueKind.String ? cv.GetValue<string>() : null;
                yield return new AnalyticsRecord(e.EventName, e.ReceivedAt, e.ConsumerId, view, rfm, currency);
            }

        if (wanted.Overlaps(DistributionEvents))
            foreach (var e in store.Where<OutboxEvent>(e => e.OrganizationId == org.Id))
            {
                if (AnalyticsName(e.Type) is not { } name || !wanted.Contains(name)) continue;
                var view = (JsonObject)e.Data.DeepClone();
                view["eventType"] = e.Type;
                var consumerId = view["consumerId"] is JsonValue c && c.GetValueKind() == JsonValueKind.String ? c.GetValue<string>()
                    : view["winnerId"] is JsonValue w && w.GetValueKind() == JsonValueKind.String ? w.GetValue<string>() : null;
                var currency = view["currencyCode"] is JsonValue cc && cc.GetValueKind() == JsonValueKind.String ? cc.GetValue<string>() : null;
                yield return new AnalyticsRecord(name, e.Timestamp, consumerId, view, SegmentOf(consumerId), currency);
            }

        if (wanted.Overlaps(OrderEvents))
        {
            var refundEvents = store.Where<OutboxEvent>(e => e.OrganizationId == org.Id && e.Type.StartsWith("order.refund", StringComparison.Ordinal));
            foreach (var o in orders)
            {
                var view = new JsonObject
                {
                    ["orderId"] = o.Id, ["consumerId"] = o.ConsumerId, ["experienceId"] = o.ExperienceId, ["sequenceId"] = o.SequenceId,
                    ["distributionId"] = o.DistributionId, ["status"] = o.Status, ["totalAmount"] = o.TotalAmount,
                    ["refundedAmount"] = o.RefundedAmount, ["currencyCode"] = o.CurrencyCode, ["currency"] = o.CurrencyCode,
                    ["itemCount"] = o.Items.Sum(i => i.Quantity),
                };
                var seg = SegmentOf(o.ConsumerId);
                if (wanted.Contains("order_created")) yield return new("order_created", o.CreatedAt, o.ConsumerId, view, seg, o.CurrencyCode);
                if (wanted.Contains("order_cancelled") && o.CancelledAt is { } cancelled && o.Status == OrderStatuses.Cancelled)
                    yield return new("order_cancelled", cancelled, o.ConsumerId, view, seg, o.CurrencyCode);
                if (wanted.Contains("order_refunded") && (Number(JsonValue.Create(o.RefundedAmount)) ?? 0) > 0)
                {
                    var at = refundEvents.Where(e => e.Data["orderId"]?.ToString() == o.Id).Select(e => (DateTimeOffset?)e.Timestamp).LastOrDefault()
                        ?? o.CancelledAt ?? o.CompletedAt ?? o.CreatedAt;
                    yield return new("order_refunded", at, o.ConsumerId, view, seg, o.CurrencyCode);
                }
            }
        }
    }

    /// <summary>
    /// A consumer's RFM segment from their orders (not cancelled) up to <paramref name="now"/>: none → <c>NEW</c>; last order
    /// more than 180 days ago → <c>LOST</c>; more than 90 → <c>AT_RISK</c>; 5+ orders totalling 500+ → <c>CHAMPIONS</c>;
    /// 2+ orders → <c>LOYAL</c>; otherwise <c>NEW</c>.
    /// </summary>
    public static string Segment(IEnumerable<Order> orders, DateTimeOffset now)
    {
        var live = orders.Where(o => o.Status != OrderStatuses.Cancelled && o.CreatedAt <= now).ToList();
        if (live.Count == 0) return "NEW";
        var last = live.Max(o => o.CreatedAt);
        if (now - last > TimeSpan.FromDays(180)) return "LOST";
        if (now - last > TimeSpan.FromDays(90)) return "AT_RISK";
        var total = live.Sum(o => decimal.TryParse(o.TotalAmount, NumberStyles.Number, CultureInfo.InvariantCulture, out var d) ? d : 0);
        if (live.Count >= 5 && total >= 500) return "CHAMPIONS";
        return live.Count >= 2 ? "LOYAL" : "NEW";
    }
}
