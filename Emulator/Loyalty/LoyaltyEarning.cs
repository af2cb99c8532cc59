using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Analytics;
using Fanfare.Emulator.Infrastructure.Events;
using Fanfare.Emulator.Infrastructure.Scheduling;

namespace Fanfare.Emulator.Loyalty;

/// <summary>
/// Earns points from what really happens (behavior.md §10.3 categories): platform events (§7.4) and beacon events
/// (§10.2), inside the transaction that recorded them. One earning per (event type, distribution) for entries and wins,
/// per bid for bids, per beacon event for engagement, and once per <c>orderId</c> for a conversion, whether it comes
/// from <c>order.completed</c> or a <c>purchase</c> beacon event. <c>order.cancelled</c> reverses a conversion.
/// </summary>
public sealed class LoyaltyEarning(LoyaltyEngine engine) : IEventSubscriber, IBeaconEventSubscriber
{
    private static readonly Dictionary<string, (string Category, string IdField, string Description)> Platform = new()
    {
        ["queue.consumer.entered"] = ("queue", "queueId", "Entered a queue"),
        ["queue.consumer.completed"] = ("queue", "queueId", "Completed a queue admission"),
        ["draw.consumer.entered"] = ("draw", "drawId", "Entered a draw"),
        ["draw.consumer.won"] = ("draw", "drawId", "Won a draw"),
        ["auction.bid.placed"] = ("auction", "bidId", "Placed a bid"),
        ["auction.consumer.won"] = ("auction", "auctionId", "Won an auction"),
    };

    public void OnEvent(OutboxEvent evt)
    {
        var consumerId = Str(evt.Data["consumerId"]);
        if (consumerId is null) return;
        if (evt.Type == "order.completed")
        {
            var orderId = Str(evt.Data["orderId"]);
            if (orderId is null) return;
            Conversion(evt.OrganizationId, consumerId, "order.completed", orderId, Amount(evt.Data["amount"] ?? evt.Data["totalAmount"]), evt.Timestamp);
            return;
        }
        if (evt.Type == "order.cancelled")
        {
            if (Str(evt.Data["orderId"]) is { } orderId) engine.Reverse(evt.OrganizationId, consumerId, "conversion:" + orderId, "Order cancelled");
            return;
        }
        if (!Platform.TryGetValue(evt.Type, out var p)) return;
        var sourceId = Str(evt.Data[p.IdField]) ?? evt.Id;
        var distributionId = Str(evt.Data["queueId"] ?? evt.Data["drawId"] ?? evt.Data["auctionId"]);
        engine.Earn(evt.OrganizationId, consumerId, evt.Type, p.Category, distributionId ?? sourceId, evt.Type + ":" + sourceId, evt.Timestamp, p.Description);
    }

    public void OnBeaconEvent(BeaconEvent evt)
    {
        if (evt.ConsumerId is null) return;
        var name = Canonical(evt.EventName);
        var props = evt.Body["eventProperties"] as JsonObject;
        if (name == "purchase")
        {
            var orderId = evt.OrderId ?? Str(props?["orderId"]) ?? Str(props?["transactionId"]);
            if (orderId is null) return;
            Conversion(evt.OrganizationId, evt.ConsumerId, "purchase", orderId, Amount(props?["totalRevenue"]), evt.ReceivedAt);
            return;
        }
        var category = name.StartsWith("message", StringComparison.Ordinal) ? "message" : "engagement";
        engine.Earn(evt.OrganizationId, evt.ConsumerId, name, category, evt.Id, "beacon:" + evt.Id, evt.ReceivedAt, "Beacon event " + name);
    }

    private void Conversion(string organizationId, string consumerId, string eventType, string orderId, decimal amount, DateTimeOffset at)
    {
        var perUnit = engine.Settings(organizationId).PointsPerCurrencyUnit ?? LoyaltySettings.DefaultPointsPerCurrencyUnit;
        var extra = (int)Math.Floor(amount * (decimal)perUnit);
        engine.Earn(organizationId, consumerId, eventType, "conversion", orderId, "conversion:" + orderId, at, "Order " + orderId, extra,
            new JsonObject { ["orderId"] = orderId, ["amount"] = amount.ToString("0.00", CultureInfo.InvariantCulture) });
    }

    /// <summary><c>page_view</c> / <c>PAGE_VIEW</c> / <c>pageView</c> → <c>pageView</c> (the contract's spelling).</summary>
    public static string Canonical(string eventName)
    {
        if (!eventName.Contains('_')) return eventName.Length > 0 ? char.ToLowerInvariant(eventName[0]) + eventName[1..] : eventName;
        var parts = eventName.ToLowerInvariant().Split('_', StringSplitOptions.RemoveEmptyEntries);
        return parts[0] + string.Concat(parts.Skip(1).Select(s => char.ToUpperInvariant(s[0]) + s[1..]));
    }

    private static string? Str(JsonNode? n) => n is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    private static decimal Amount(JsonNode? n) => n switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.String && decimal.TryParse(v.GetValue<string>(), NumberStyles.Number, CultureInfo.InvariantCulture, out var d) => d,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.GetValue<decimal>(),
        _ => 0,
    };
}

/// <summary>Runs the expiry jobs (resolves the engine lazily: the scheduler depends on every job handler) of <see cref="LoyaltyEngine"/>.</summary>
public sealed class LoyaltyExpiryJobs(IServiceProvider services) : IJobHandler
{
    public string Kind => LoyaltyEngine.ExpireBucketJob;

    public Task RunAsync(ScheduledJob job, CancellationToken cancellationToken)
    {
        if (job.Payload?["bucketId"]?.GetValue<string>() is { } id) services.GetRequiredService<LoyaltyEngine>().ExpireBucket(id);
        return Task.CompletedTask;
    }
}

/// <summary>Runs the inactivity expiry job of <see cref="LoyaltyEngine"/>.</summary>
public sealed class LoyaltyInactivityJobs(IServiceProvider services) : IJobHandler
{
    public string Kind => LoyaltyEngine.ExpireInactiveJob;

    public Task RunAsync(ScheduledJob job, CancellationToken cancellationToken)
    {
        if (job.OrganizationId is { } org && job.Payload?["consumerId"]?.GetValue<string>() is { } c) services.GetRequiredService<LoyaltyEngine>().ExpireInactive(org, c);
        return Task.CompletedTask;
    }
}
