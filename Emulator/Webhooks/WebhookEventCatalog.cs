using System.Text.Json.Nodes;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Ids;

namespace Fanfare.Emulator.Webhooks;

/// <summary>
/// The 22 event types of behavior.md §7.4 (canonical, <c>api/webhooks/events.mdx</c> 2282b912), and a realistic sample
/// <c>data</c> for each, which <c>POST /webhooks/test</c> sends. Money is a decimal string; timestamps are UTC ISO 8601.
/// </summary>
public static class WebhookEventCatalog
{
    public const string DeliveryFailed = "webhook.delivery.failed";

    public static readonly string[] Types =
    [
        "queue.consumer.entered", "queue.consumer.admitted", "queue.consumer.completed", "queue.consumer.left", "queue.consumer.denied",
        "draw.consumer.entered", "draw.consumer.won", "draw.consumer.lost", "draw.completed",
        "auction.bid.placed", "auction.bid.outbid", "auction.consumer.won", "auction.settled",
        "order.created", "order.completed", "order.cancelled",
        "consumer.created", "consumer.updated",
        "distribution.updated", "distribution.opened", "distribution.closed",
        DeliveryFailed,
    ];

    public static bool IsKnown(string type) => Array.IndexOf(Types, type) >= 0;

    private static string Id(string name) => IdGenerator.DeriveUuid("webhook-sample", name);

    /// <summary>Sample <c>data</c> for <paramref name="type"/> at <paramref name="now"/>. <paramref name="endpoint"/> fills
    /// <c>webhook.delivery.failed</c>'s endpoint fields.</summary>
    public static JsonObject Sample(string type, DateTimeOffset now, string currencyCode, WebhookEndpoint endpoint)
    {
        string At(int minutesAgo) => Json.Iso(now.AddMinutes(-minutesAgo));
        var t = Json.Iso(now);
        string experienceId = Id("experience"), sequenceId = Id("sequence"), consumerId = Id("consumer"), orderId = Id("order");
        JsonObject Queue() => new() { ["queueId"] = Id("queue"), ["sequenceId"] = sequenceId, ["experienceId"] = experienceId, ["consumerId"] = consumerId };
        JsonObject Draw() => new() { ["drawId"] = Id("draw"), ["sequenceId"] = sequenceId, ["experienceId"] = experienceId };
        JsonObject Auction() => new() { ["auctionId"] = Id("auction"), ["sequenceId"] = sequenceId, ["experienceId"] = experienceId };
        JsonObject Distribution() => new() { ["distributionId"] = Id("queue"), ["distributionType"] = "queue", ["sequenceId"] = sequenceId, ["experienceId"] = experienceId };
        JsonObject With(JsonObject o, params (string Key, JsonNode? Value)[] fields)
        {
            foreach (var (k, v) in fields) o[k] = v;
            return o;
        }
        const string admissionToken = "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.eyJ0eXBlIjoidGVzdCJ9.dGVzdC1zaWduYXR1cmU";

        return type switch
        {
            "queue.consumer.entered" => With(Queue(), ("position", 42), ("enteredAt", t)),
            "queue.consumer.admitted" => With(Queue(), ("enteredAt", At(15)), ("admittedAt", t), ("admissionToken", admissionToken), ("waitTimeSeconds", 900)),
            "queue.consumer.completed" => With(Queue(), ("completedAt", t), ("orderId", orderId)),
            "queue.consumer.left" => With(Queue(), ("leftAt", t), ("positionWhenLeft", 17)),
            "queue.consumer.denied" => With(Queue(), ("deniedAt", t), ("reason", "ORDER_LIMIT_EXCEEDED")),
            "draw.consumer.entered" => With(Draw(), ("consumerId", consumerId), ("enteredAt", t), ("entrantNumber", 1234)),
            "draw.consumer.won" => With(Draw(), ("consumerId", consumerId), ("wonAt", t), ("admissionToken", admissionToken), ("winnerPosition", 1)),
            "draw.consumer.lost" => With(Draw(), ("consumerId", consumerId), ("lostAt", t)),
            "draw.completed" => With(Draw(), ("completedAt", t), ("totalEntrants", 5000), ("winnersSelected", 100)),
            "auction.bid.placed" => With(Auction(), ("consumerId", consumerId), ("bidId", Id("bid")), ("bidAmount", "250.00"),
                ("currencyCode", currencyCode), ("bidTime", t), ("isHighestBid", true)),
            "auction.bid.outbid" => With(Auction(), ("consumerId", consumerId), ("outbidAt", t), ("previousBidAmount", "250.00"), ("newHighBidAmount", "275.00")),
            "auction.consumer.won" => With(Auction(), ("consumerId", consumerId), ("wonAt", t), ("winningBidAmount", "275.00"),
                ("currencyCode", currencyCode), ("paymentToken", admissionToken)),
            "auction.settled" => With(Auction(), ("settledAt", t), ("totalBids", 47), ("uniqueBidders", 12), ("winningBidAmount", "275.00"), ("winnerId", consumerId)),
            "order.created" => new JsonObject
            {
                ["orderId"] = orderId, ["consumerId"] = consumerId, ["experienceId"] = experienceId, ["sequenceId"] = sequenceId,
                ["createdAt"] = t, ["amount"] = "149.99", ["currencyCode"] = currencyCode,
                ["items"] = new JsonArray(new JsonObject { ["productId"] = Id("product"), ["variantId"] = Id("variant"), ["quantity"] = 1 }),
            },
            "order.completed" => new JsonObject { ["orderId"] = orderId, ["consumerId"] = consumerId, ["completedAt"] = t, ["amount"] = "149.99", ["currencyCode"] = currencyCode },
            "order.cancelled" => new JsonObject { ["orderId"] = orderId, ["consumerId"] = consumerId, ["cancelledAt"] = t, ["reason"] = "customer_requested" },
            "consumer.created" => new JsonObject
            {
                ["consumerId"] = consumerId, ["email"] = "shopper@example.com", ["phone"] = "+15555550123", ["fullName"] = "Sample Shopper",
                ["createdAt"] = t, ["source"] = "otp_login",
            },
            "consumer.updated" => new JsonObject { ["consumerId"] = consumerId, ["updatedAt"] = t, ["changedFields"] = new JsonArray("fullName", "phone") },
            "distribution.updated" => With(Distribution(), ("updatedAt", t), ("changedFields", new JsonArray("openAt", "closeAt"))),
            "distribution.opened" => With(Distribution(), ("openedAt", t)),
            "distribution.closed" => With(Distribution(), ("closedAt", t), ("totalParticipants", 5000)),
            DeliveryFailed => DeliveryFailedData(endpoint, "whk_" + IdGenerator.Base32(IdGenerator.Derive("webhook-sample", "event"), 24),
                "queue.consumer.admitted", 8, "Connection timeout"),
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown event type"),
        };
    }

    /// <summary><c>webhook.delivery.failed</c> data (behavior.md §7.3).</summary>
    public static JsonObject DeliveryFailedData(WebhookEndpoint endpoint, string eventId, string eventType, int retryCount, string? lastError) => new()
    {
        ["endpointId"] = endpoint.Id, ["endpointUrl"] = endpoint.Url, ["eventId"] = eventId, ["eventType"] = eventType,
        ["retryCount"] = retryCount, ["lastError"] = lastError, ["willRetry"] = false,
    };
}
