using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Analytics;
using Fanfare.Emulator.Auth;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Commerce;
using Fanfare.Emulator.Distributions.Appointments;
using Fanfare.Emulator.Distributions.Waitlists;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Events;
using Fanfare.Emulator.Infrastructure.Store;
using Fanfare.Emulator.Loyalty;
using Fanfare.Emulator.Messaging;

namespace Fanfare.Emulator.Consumers;

/// <summary>
/// A consumer's attributes computed from the emulator's own records: orders (<c>totalOrders</c>, <c>ltv</c>, <c>aov</c>,
/// <c>lastOrderAt</c>, <c>totalReturns</c>), sessions (<c>lastLoginAt</c>), participations — queue/draw entries, bids,
/// bookings, waitlist entries — (<c>totalEngagements</c>, <c>engagedCount</c> = distinct experiences, <c>lastEngagedAt</c>),
/// beacon events (<c>lastGeo*</c>), messages sent to it (<c>totalMessages</c>), the loyalty ledger, plus any baseline
/// given by <c>POST /consumers/batch</c>. Scores: activity = engagements + beacon events, purchase frequency = orders,
/// monetary = LTV; ranks 1…5 are quintiles among the organization's consumers with a non-zero score (0 = none).
/// </summary>
public sealed class ConsumerInsights(DocumentStore store, LoyaltyEngine loyalty, ClockResolver clocks)
{
    /// <summary>Everything needed to view many consumers of one organization, read once.</summary>
    public sealed class Snapshot
    {
        public required string OrganizationId { get; init; }
        public required DateTimeOffset Now { get; init; }
        public Dictionary<string, List<Order>> Orders { get; } = [];
        public Dictionary<string, DateTimeOffset> LastLogin { get; } = [];
        public Dictionary<string, List<(DateTimeOffset At, string? ExperienceId, string Key)>> Engagements { get; } = [];
        public Dictionary<string, List<BeaconEvent>> Beacon { get; } = [];
        public Dictionary<string, int> Messages { get; } = [];
        public Dictionary<string, (double Activity, double Frequency, double Monetary)> Scores { get; } = [];
        public (List<double> Activity, List<double> Frequency, List<double> Monetary) Sorted { get; set; } = ([], [], []);
    }

    private static readonly HashSet<string> EngagementEvents = ["queue.consumer.entered", "draw.consumer.entered", "auction.bid.placed"];

    public Snapshot For(string organizationId)
    {
        lock (store.Sync)
        {
            var s = new Snapshot { OrganizationId = organizationId, Now = clocks.For(organizationId).GetUtcNow() };
            foreach (var o in store.Where<Order>(o => o.OrganizationId == organizationId))
                Add(s.Orders, o.ConsumerId, o);
            foreach (var session in store.Where<ConsumerSession>(x => x.OrganizationId == organizationId))
                if (!s.LastLogin.TryGetValue(session.ConsumerId, out var t) || session.CreatedAt > t) s.LastLogin[session.ConsumerId] = session.CreatedAt;
            foreach (var e in store.Where<OutboxEvent>(e => e.OrganizationId == organizationId && EngagementEvents.Contains(e.Type)))
            {
                if (e.Data["consumerId"]?.GetValue<string>() is not { } cid) continue;
                var dist = e.Data["queueId"] ?? e.Data["drawId"] ?? e.Data["auctionId"];
                Add(s.Engagements, cid, (e.Timestamp, e.Data["experienceId"]?.GetValue<string>(), e.Type + ":" + dist?.GetValue<string>()));
            }
            foreach (var b in store.Where<AppointmentBooking>(b => b.OrganizationId == organizationId))
                Add(s.Engagements, b.ConsumerId, (b.CreatedAt, b.ExperienceId, "booking:" + b.Id));
            foreach (var w in store.Where<WaitlistEntry>(w => w.OrganizationId == organizationId))
                Add(s.Engagements, w.ConsumerId, (w.EnteredAt, (string?)null, "waitlist:" + w.WaitlistId));
            foreach (var b in store.Where<BeaconEvent>(b => b.OrganizationId == organizationId && b.ConsumerId != null))
                Add(s.Beacon, b.ConsumerId!, b);
            var consumers = store.Where<Consumer>(c => c.OrganizationId == organizationId);
            var byRecipient = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var c in consumers)
            {
                if (c.Email is not null) byRecipient[c.Email] = c.Id;
                if (c.Phone is not null) byRecipient[c.Phone] = c.Id;
            }
            foreach (var m in store.Where<OutboundMessage>(m => m.OrganizationId == organizationId))
                if (byRecipient.TryGetValue(m.To, out var cid)) s.Messages[cid] = s.Messages.GetValueOrDefault(cid) + 1;
            foreach (var c in consumers)
            {
                var (orders, ltv, _, _) = OrderStats(s, c);
                var activity = Distinct(s, c.Id).Count + s.Beacon.GetValueOrDefault(c.Id)?.Count ?? 0;
                s.Scores[c.Id] = (Imported(c, "activityScore") ?? activity, Imported(c, "purchaseFrequencyScore") ?? orders,
                    Imported(c, "monetaryScore") ?? (double)ltv);
            }
            s.Sorted = (Sort(s.Scores.Values.Select(v => v.Activity)), Sort(s.Scores.Values.Select(v => v.Frequency)), Sort(s.Scores.Values.Select(v => v.Monetary)));
            return s;
        }
    }

    private static List<double> Sort(IEnumerable<double> v) => v.Where(x => x > 0).OrderBy(x => x).ToList();

    private static int Rank(List<double> sorted, double score)
    {
        if (score <= 0 || sorted.Count == 0) return 0;
        var below = sorted.Count(x => x < score);
        return Math.Clamp(1 + below * 5 / sorted.Count, 1, 5);
    }

    private static void Add<T>(Dictionary<string, List<T>> d, string key, T value)
    {
        if (!d.TryGetValue(key, out var l)) d[key] = l = [];
        l.Add(value);
    }

    private static List<(DateTimeOffset At, string? ExperienceId, string Key)> Distinct(Snapshot s, string consumerId) =>
        (s.Engagements.GetValueOrDefault(consumerId) ?? []).GroupBy(e => e.Key).Select(g => g.OrderBy(x => x.At).First()).ToList();

    private static double? Imported(Consumer c, string field) =>
        c.Imported?[field] is JsonValue v && v.GetValueKind() == JsonValueKind.Number ? v.GetValue<double>() : null;

    private static decimal? ImportedDecimal(Consumer c, string field) =>
        c.Imported?[field] is JsonValue v && v.GetValueKind() == JsonValueKind.String && decimal.TryParse(v.GetValue<string>(), NumberStyles.Number, CultureInfo.InvariantCulture, out var d) ? d
        : c.Imported?[field] is JsonValue n && n.GetValueKind() == JsonValueKind.Number ? n.GetValue<decimal>() : null;

    private static DateTimeOffset? ImportedTime(Consumer c, string field) =>
        c.Imported?[field] is JsonValue v && v.GetValueKind() == JsonValueKind.String && DateTimeOffset.TryParse(v.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null;

    private static decimal Dec(string s) => decimal.TryParse(s, NumberStyles.Number, CultureInfo.InvariantCulture, out var d) ? d : 0;

    /// <summary>Orders that count: completed ones (also refunded in part or whole), net of refunds.</summary>
    private static (int Orders, decimal Ltv, DateTimeOffset? LastOrderAt, int Returns) OrderStats(Snapshot s, Consumer c)
    {
        var counted = (s.Orders.GetValueOrDefault(c.Id) ?? []).Where(o => o.Status is OrderStatuses.Completed or OrderStatuses.Refunded or OrderStatuses.PartiallyRefunded).ToList();
        var orders = counted.Count + (int)(Imported(c, "totalOrders") ?? 0);
        var ltv = counted.Sum(o => Dec(o.TotalAmount) - Dec(o.RefundedAmount)) + (ImportedDecimal(c, "ltv") ?? 0);
        DateTimeOffset? last = counted.Select(o => (DateTimeOffset?)(o.CompletedAt ?? o.CreatedAt)).Max();
        if (ImportedTime(c, "lastOrderAt") is { } il && (last is null || il > last)) last = il;
        var returns = counted.Count(o => Dec(o.RefundedAmount) > 0) + (int)(Imported(c, "totalReturns") ?? 0);
        return (orders, ltv, last, returns);
    }

    public static string Money(decimal d) => Math.Max(0, Math.Round(d, 2)).ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>The admin <c>Consumer</c>; <paramref name="withSync"/> false gives <c>ConsumerNoSync</c>.</summary>
    public AdminConsumer View(Consumer c, Snapshot s, bool withSync = true)
    {
        var (orders, ltv, lastOrderAt, returns) = OrderStats(s, c);
        var engagements = Distinct(s, c.Id);
        var standing = loyalty.Standing(c.OrganizationId, c.Id);
        var geo = (s.Beacon.GetValueOrDefault(c.Id) ?? []).Where(b => b.Body["geoCountry"] is not null || b.Body["geoCity"] is not null)
            .OrderBy(b => b.ReceivedAt).LastOrDefault();
        var score = s.Scores.GetValueOrDefault(c.Id);
        DateTimeOffset? lastLogin = s.LastLogin.TryGetValue(c.Id, out var ll) ? ll : ImportedTime(c, "lastLoginAt");
        DateTimeOffset? lastEngaged = engagements.Count > 0 ? engagements.Max(e => e.At) : ImportedTime(c, "lastEngagedAt");
        string? G(string k) => geo?.Body[k] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : c.Imported?["lastGeo" + k[3..]]?.ToString();
        GeoCoordinates? coords = geo?.Body["geoLatitude"] is JsonValue lat && geo.Body["geoLongitude"] is JsonValue lng
            && lat.TryGetValue<double>(out var la) && lng.TryGetValue<double>(out var lo) ? new GeoCoordinates(la, lo) : null;
        var now = Json.Iso(s.Now);
        var syncSource = withSync && c.SyncSourceId is not null ? store.Get<ConsumerSyncSource>(c.SyncSourceId) : null;
        return new AdminConsumer
        {
            Id = c.Id, OrganizationId = c.OrganizationId, CreatedAt = Json.Iso(c.CreatedAt), CreatedBy = c.Source, Archived = c.Archived,
            EmailVerified = c.EmailVerified ?? (!c.IsGuest && c.Email is not null),
            PhoneVerified = c.PhoneVerified ?? (!c.IsGuest && c.Phone is not null),
            Status = c.Status,
            ActivityRank = Rank(s.Sorted.Activity, score.Activity), ActivityScore = score.Activity, ActivityScoreUpdatedAt = now,
            Aov = orders > 0 ? Money(ltv / orders) : Money(ImportedDecimal(c, "aov") ?? 0),
            Email = c.Email, EngagedCount = engagements.Select(e => e.ExperienceId ?? e.Key).Distinct().Count() + (int)(Imported(c, "engagedCount") ?? 0),
            FullName = c.FullName, LastEngagedAt = Json.Iso(lastEngaged),
            LastGeoAt = geo is not null ? Json.Iso(geo.ReceivedAt) : c.Imported?["lastGeoAt"]?.ToString(),
            LastGeoCity = G("geoCity"), LastGeoCoordinates = coords, LastGeoCountry = G("geoCountry"), LastGeoPostalCode = null,
            LastGeoRegion = G("geoRegion"), LastGeoSource = geo is not null ? "beacon" : c.Imported?["lastGeoSource"]?.ToString(), LastGeoTimezone = null,
            LastLoginAt = Json.Iso(lastLogin), LastOrderAt = Json.Iso(lastOrderAt), LastReturnAt = Json.Iso(ImportedTime(c, "lastReturnAt")),
            LoyaltyBalance = standing.Balance, LoyaltyLastActivityAt = Json.Iso(standing.LastActivityAt), LoyaltyLifetimePoints = standing.LifetimePoints,
            Ltv = Money(ltv), Metadata = c.Metadata?.DeepClone() as JsonObject,
            MonetaryRank = Rank(s.Sorted.Monetary, score.Monetary), MonetaryScore = score.Monetary, MonetaryScoreUpdatedAt = now,
            Phone = c.Phone, PrimaryExternalId = c.ExternalId, PrimaryLastSyncedAt = Json.Iso(c.LastSyncedAt), PrimarySourceVendor = c.SourceVendor,
            PrimarySyncSource = syncSource?.View(), PrimarySyncSourceId = c.SyncSourceId,
            PurchaseFrequencyRank = Rank(s.Sorted.Frequency, score.Frequency), PurchaseFrequencyScore = score.Frequency, PurchaseFrequencyScoreUpdatedAt = now,
            SmsOptOut = c.SmsOptOut, TotalEngagements = engagements.Count + (int)(Imported(c, "totalEngagements") ?? 0),
            TotalMessages = s.Messages.GetValueOrDefault(c.Id) + (int)(Imported(c, "totalMessages") ?? 0),
            TotalOrders = orders, TotalReturns = returns, UpdatedAt = Json.Iso(c.UpdatedAt), UpdatedBy = c.UpdatedBy,
            VerificationCode = c.Imported?["verificationCode"]?.ToString(), VerificationCodeExpiresAt = c.Imported?["verificationCodeExpiresAt"]?.ToString(),
        };
    }

    /// <summary>One consumer's view (a fresh snapshot).</summary>
    public AdminConsumer View(Consumer c, bool withSync = true) => View(c, For(c.OrganizationId), withSync);
}

/// <summary>admin-part2.md <c>SyncSource</c> document: an external list (Klaviyo, Mailchimp, SendGrid) consumers and audiences are synced from.</summary>
public sealed class ConsumerSyncSource : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public bool Archived { get; set; }
    /// <summary>The provider: <c>klaviyo</c>, <c>mailchimp</c>, <c>sendgrid</c>.</summary>
    public string SyncSource { get; set; } = "";
    /// <summary>The provider's list id.</summary>
    public string SyncSourceId { get; set; } = "";
    public DateTimeOffset? LastSyncedAt { get; set; }
    public JsonObject? SourceData { get; set; }
    /// <summary><c>PENDING</c> | <c>SUCCESS</c> | <c>FAILED</c>.</summary>
    public string SyncStatus { get; set; } = "PENDING";
    public DateTimeOffset? UpdatedAt { get; set; }
    public string? UpdatedBy { get; set; }

    public SyncSourceView View() => new(Id, OrganizationId, Json.Iso(CreatedAt), CreatedBy, Archived, SyncSource, SyncSourceId,
        Json.Iso(LastSyncedAt), SourceData?.DeepClone() as JsonObject, SyncStatus, Json.Iso(UpdatedAt), UpdatedBy);
}
