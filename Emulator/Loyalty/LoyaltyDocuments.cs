using System.Text.Json.Nodes;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Loyalty;

/// <summary>
/// An organization's loyalty settings (behavior.md §10.3 "Admin settings"). One document per organization
/// (<see cref="Id"/> = the organization id); absent = <see cref="Defaults"/>. The seed's <c>loyalty</c> section and
/// <c>PUT /_emulator/loyalty/settings</c> set them.
/// </summary>
public sealed class LoyaltySettings : IDocument
{
    public string Id { get; set; } = "";
    public bool Enabled { get; set; } = true;
    /// <summary><c>none</c>, <c>fixed</c> or <c>inactivity</c>.</summary>
    public string ExpirationType { get; set; } = "none";
    /// <summary>Months after which each earning bucket expires (<c>fixed</c>).</summary>
    public int? FixedExpireMonths { get; set; }
    /// <summary>Months without earning or redeeming after which the whole balance expires (<c>inactivity</c>).</summary>
    public int? InactivityExpireMonths { get; set; }
    public int? MaxBalance { get; set; }
    public int? DailyEarnCap { get; set; }
    public int? MonthlyEarnCap { get; set; }
    /// <summary>Overrides of <see cref="DefaultEventPoints"/> (eventType → points; <c>0</c> earns nothing).</summary>
    public Dictionary<string, int> EventPoints { get; set; } = [];
    /// <summary>Extra conversion points per whole unit of the order amount (on top of the flat conversion points).</summary>
    public double? PointsPerCurrencyUnit { get; set; }

    /// <summary>
    /// The emulator's default points per event type (the contract names the categories, not values). Keys are the
    /// platform event types (behavior.md §7.4), <c>appointment.booked</c>/<c>waitlist.joined</c> (read from bookings and
    /// waitlist entries), and beacon <c>eventName</c>s (§10.2).
    /// </summary>
    public static readonly IReadOnlyDictionary<string, int> DefaultEventPoints = new Dictionary<string, int>
    {
        // queue, draw, auction, appointment, waitlist
        ["queue.consumer.entered"] = 10,
        ["queue.consumer.completed"] = 0,
        ["draw.consumer.entered"] = 10,
        ["draw.consumer.won"] = 50,
        ["auction.bid.placed"] = 5,
        ["auction.consumer.won"] = 50,
        ["appointment.booked"] = 20,
        ["waitlist.joined"] = 10,
        // conversion (once per orderId, whichever of the two arrives first)
        ["order.completed"] = 100,
        ["purchase"] = 100,
        // engagement (beacon)
        ["pageView"] = 0,
        ["productView"] = 1,
        ["addToCart"] = 2,
        ["beginCheckout"] = 2,
        ["searchSubmitted"] = 0,
        ["qrScanned"] = 25,
        // social / message (beacon)
        ["messageOpened"] = 1,
        ["messageClicked"] = 2,
    };

    public const double DefaultPointsPerCurrencyUnit = 1;

    public static LoyaltySettings Defaults(string organizationId) => new() { Id = organizationId };

    /// <summary>Points for an event type: the override, else the default, else 0.</summary>
    public int PointsFor(string eventType) =>
        EventPoints.TryGetValue(eventType, out var p) ? p : DefaultEventPoints.TryGetValue(eventType, out var d) ? d : 0;

    public Dictionary<string, int> EffectivePoints()
    {
        var all = new Dictionary<string, int>(DefaultEventPoints);
        foreach (var (k, v) in EventPoints) all[k] = v;
        return all;
    }
}

/// <summary>Transaction types of admin-part2.md <c>GET /consumers/{id}/loyalty-transactions</c>.</summary>
public static class TxnTypes
{
    public const string Earn = "earn", Redeem = "redeem", Expire = "expire", Adjust = "adjust", Migration = "migration", Reversal = "reversal";
}

/// <summary>One movement of a consumer's points (earn, expire, adjust …), with who caused it.</summary>
public sealed class LoyaltyTransaction : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public string ConsumerId { get; set; } = "";
    public string TxnType { get; set; } = TxnTypes.Earn;
    public int PointsDelta { get; set; }
    public DateTimeOffset OccurredAt { get; set; }
    /// <summary>Earning category or cause: <c>queue</c>, <c>draw</c>, <c>auction</c>, <c>appointment</c>, <c>waitlist</c>,
    /// <c>conversion</c>, <c>engagement</c>, <c>message</c>, <c>manual</c>, <c>import</c>, <c>expiry</c>.</summary>
    public string? SourceType { get; set; }
    /// <summary>The event type / record that caused it (e.g. <c>draw.consumer.won</c>).</summary>
    public string? SourceEvent { get; set; }
    /// <summary>The id of what caused it (distribution, order, beacon event, bucket …); with <see cref="SourceType"/> the dedupe key.</summary>
    public string? SourceId { get; set; }
    public string? SourceDescription { get; set; }
    /// <summary>What makes an earning unique (e.g. <c>conversion:{orderId}</c>): the same key never earns twice.</summary>
    public string? DedupeKey { get; set; }
    /// <summary><c>system</c> (earning, expiry), <c>admin</c> (control-plane adjustment), <c>import</c>.</summary>
    public string ActorType { get; set; } = "system";
    public string? ActorId { get; set; }
    public string? BucketId { get; set; }
    public DateTimeOffset? BucketEarnedOn { get; set; }
    public DateTimeOffset? BucketExpiresOn { get; set; }
    public JsonObject? Metadata { get; set; }
}

/// <summary>Points earned together, spent oldest first, expiring together (<c>fixed</c> expiry).</summary>
public sealed class LoyaltyBucket : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public string ConsumerId { get; set; } = "";
    public DateTimeOffset EarnedAt { get; set; }
    /// <summary>Null = never (expiry <c>none</c>; <c>inactivity</c> expires the whole balance at once).</summary>
    public DateTimeOffset? ExpiresAt { get; set; }
    public int Points { get; set; }
    public int Remaining { get; set; }
}

/// <summary>
/// A consumer's index into the ledger (<see cref="Id"/> = the consumer id): its transactions and buckets by id and the
/// earning keys already used, so earning on the hot path (every queue entry) never scans the whole ledger.
/// </summary>
public sealed class LoyaltyAccount : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public List<string> TransactionIds { get; set; } = [];
    public List<string> BucketIds { get; set; } = [];
    public Dictionary<string, string> DedupeKeys { get; set; } = [];
    /// <summary>Bookings + waitlist entries in the store when this account was last reconciled with them.</summary>
    public int ReconciledRecords { get; set; } = -1;
}
