using System.Globalization;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Auth;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Events;
using Fanfare.Emulator.Infrastructure.Store;
using Fanfare.Emulator.Loyalty;

namespace Fanfare.Emulator.Consumers;

/// <summary>What <c>PUT /consumers/{id}</c> may change; <c>Has*</c> tells an explicit null from an absent field.</summary>
public sealed record ConsumerChanges(string? Email, bool HasEmail, string? FullName, bool HasFullName, JsonObject? Metadata, bool HasMetadata,
    string? Phone, bool HasPhone, bool? SmsOptOut, string? Status);

/// <summary>One consumer of <c>POST /consumers/batch</c>, already validated.</summary>
public sealed record ConsumerImport(string? Email, string? Phone, string? FullName, bool EmailVerified, bool PhoneVerified, string Status,
    bool SmsOptOut, JsonObject? Metadata, JsonObject Baseline, int LoyaltyBalance, int LoyaltyLifetimePoints);

/// <summary>
/// The merchant's view of its consumers (admin-part2.md <c>/consumers</c>): list with filters and sorting, update, the
/// documented deletion, batch creation, attribute distributions. No HTTP types.
/// </summary>
public sealed class AdminConsumerService(DocumentStore store, ConsumerDirectory directory, ConsumerInsights insights, SessionIssuer sessions,
    LoyaltyEngine loyalty, EventOutbox outbox, ClockResolver clocks)
{
    public const string NotFound = "Consumer not found";

    /// <summary>Numeric attributes <c>GET /consumers/distribution?field=</c> and loyalty-tier groups accept.</summary>
    public static readonly string[] NumericFields =
    [
        "loyaltyBalance", "loyaltyLifetimePoints", "ltv", "aov", "totalOrders", "totalReturns", "totalEngagements", "totalMessages",
        "engagedCount", "activityScore", "purchaseFrequencyScore", "monetaryScore", "activityRank", "monetaryRank", "purchaseFrequencyRank",
    ];

    public Consumer Require(string organizationId, string id) => directory.Get(organizationId, id) ?? throw ApiErrors.NotFoundError(NotFound);

    /// <summary>Consumers of an organization (archived ones only when asked), as views, filtered and sorted.</summary>
    public List<AdminConsumer> List(string organizationId, ConsumerQuery q)
    {
        lock (store.Sync)
        {
            var snapshot = insights.For(organizationId);
            IEnumerable<Consumer> cs = store.Where<Consumer>(c => c.OrganizationId == organizationId && (q.IncludeArchived || !c.Archived));
            if (q.Search is { } s)
                cs = cs.Where(c => (c.Email?.Contains(s, StringComparison.OrdinalIgnoreCase) ?? false) || (c.FullName?.Contains(s, StringComparison.OrdinalIgnoreCase) ?? false)
                    || (c.Phone?.Contains(s, StringComparison.Ordinal) ?? false) || c.Id.StartsWith(s, StringComparison.OrdinalIgnoreCase));
            if (q.Email is { } e) cs = cs.Where(c => string.Equals(c.Email, e, StringComparison.OrdinalIgnoreCase));
            if (q.Phone is { } p) cs = cs.Where(c => c.Phone == p);
            if (q.Status is { } st) cs = cs.Where(c => c.Status == st);
            if (q.CreatedAfter is { } ca) cs = cs.Where(c => c.CreatedAt >= ca);
            if (q.CreatedBefore is { } cb) cs = cs.Where(c => c.CreatedAt < cb);
            if (!q.IncludeGuests) cs = cs.Where(c => !c.IsGuest);
            var views = cs.Select(c => insights.View(c, snapshot, withSync: true)).ToList();
            IOrderedEnumerable<AdminConsumer> sorted = q.SortBy switch
            {
                "email" => q.Desc ? views.OrderByDescending(v => v.Email, StringComparer.OrdinalIgnoreCase) : views.OrderBy(v => v.Email, StringComparer.OrdinalIgnoreCase),
                "fullName" => q.Desc ? views.OrderByDescending(v => v.FullName, StringComparer.OrdinalIgnoreCase) : views.OrderBy(v => v.FullName, StringComparer.OrdinalIgnoreCase),
                "lastOrderAt" => q.Desc ? views.OrderByDescending(v => v.LastOrderAt, StringComparer.Ordinal) : views.OrderBy(v => v.LastOrderAt, StringComparer.Ordinal),
                "totalOrderValue" or "ltv" => q.Desc ? views.OrderByDescending(v => decimal.Parse(v.Ltv, CultureInfo.InvariantCulture)) : views.OrderBy(v => decimal.Parse(v.Ltv, CultureInfo.InvariantCulture)),
                _ => q.Desc ? views.OrderByDescending(v => v.CreatedAt, StringComparer.Ordinal) : views.OrderBy(v => v.CreatedAt, StringComparer.Ordinal),
            };
            return sorted.ToList();
        }
    }

    public AdminConsumer Get(string organizationId, string id) => insights.View(Require(organizationId, id));

    public AdminConsumer Update(string organizationId, string id, ConsumerChanges ch, string actor)
    {
        return store.Transaction(() =>
        {
            var c = Require(organizationId, id);
            if (c.Archived) throw ApiErrors.Conflict("Consumer is archived");
            if (ch.HasEmail && ch.Email is not null && !string.Equals(ch.Email, c.Email, StringComparison.OrdinalIgnoreCase)
                && directory.ByEmail(organizationId, ch.Email) is { } other && other.Id != c.Id)
                throw ApiErrors.Conflict("A consumer with this email already exists");
            if (ch.HasPhone && ch.Phone is not null && ch.Phone != c.Phone && directory.ByPhone(organizationId, ch.Phone) is { } other2 && other2.Id != c.Id)
                throw ApiErrors.Conflict("A consumer with this phone already exists");
            var changed = new List<string>();
            if (ch.HasEmail && ch.Email != c.Email) { c.Email = ch.Email; changed.Add("email"); }
            if (ch.HasPhone && ch.Phone != c.Phone) { c.Phone = ch.Phone; changed.Add("phone"); }
            if (ch.HasFullName && ch.FullName != c.FullName) { c.FullName = ch.FullName; changed.Add("fullName"); }
            if (ch.HasMetadata && (ch.Metadata?.ToJsonString() != c.Metadata?.ToJsonString())) { c.Metadata = ch.Metadata; changed.Add("metadata"); }
            if (ch.SmsOptOut is bool o && o != c.SmsOptOut) { c.SmsOptOut = o; changed.Add("smsOptOut"); }
            if (ch.Status is { } st && st != c.Status) { c.Status = st; changed.Add("status"); }
            if (changed.Count > 0)
            {
                c.UpdatedBy = actor;
                directory.Updated(c, [.. changed]);
            }
            return insights.View(c, withSync: false);
        });
    }

    /// <summary>
    /// The documented deletion (behavior.md §10.4 "DELETE /consumers/{id} queues deletion"; admin-part2.md "Archive a
    /// consumer"), done at once: every session of the consumer is revoked (its tokens are refused from the next request),
    /// its personal fields (email, phone, name, metadata, imported attributes) are erased, its external identities and
    /// one-time codes are deleted, it is archived and <c>INACTIVE</c>. Its id stays in history (entries, orders, points).
    /// Deleting again returns the archived record.
    /// </summary>
    public AdminConsumer Delete(string organizationId, string id, string actor)
    {
        return store.Transaction(() =>
        {
            var c = Require(organizationId, id);
            if (!c.Archived)
            {
                foreach (var s in store.Where<ConsumerSession>(s => s.ConsumerId == c.Id && s.RevokedAt is null))
                    sessions.Revoke(s.Id, "consumer_deleted");
                foreach (var i in store.Where<ExternalIdentity>(i => i.ConsumerId == c.Id)) store.Delete<ExternalIdentity>(i.Id);
                var recipients = new[] { c.Email, c.Phone }.Where(r => r is not null).ToHashSet(StringComparer.OrdinalIgnoreCase);
                foreach (var o in store.Where<OtpChallenge>(o => o.OrganizationId == organizationId && recipients.Contains(o.Recipient))) store.Delete<OtpChallenge>(o.Id);
                c.Email = null; c.Phone = null; c.FullName = null; c.Metadata = null; c.Imported = null; c.ExternalId = null;
                c.Archived = true; c.ArchivedAt = clocks.For(organizationId).GetUtcNow(); c.Status = "INACTIVE"; c.UpdatedBy = actor;
                directory.Updated(c, "archived", "status", "email", "phone", "fullName", "metadata");
            }
            return insights.View(c, withSync: false);
        });
    }

    /// <summary><c>POST /consumers/batch</c>: all or nothing; an email/phone already taken (or repeated in the batch) → 409.</summary>
    public List<AdminConsumer> Batch(string organizationId, List<ConsumerImport> items, string actor)
    {
        return store.Transaction(() =>
        {
            var emails = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            var phones = new HashSet<string>();
            foreach (var i in items)
            {
                if (i.Email is not null && (!emails.Add(i.Email) || directory.ByEmail(organizationId, i.Email) is not null))
                    throw ApiErrors.Conflict($"A consumer with email {i.Email} already exists");
                if (i.Phone is not null && (!phones.Add(i.Phone) || directory.ByPhone(organizationId, i.Phone) is not null))
                    throw ApiErrors.Conflict($"A consumer with phone {i.Phone} already exists");
            }
            var created = new List<Consumer>();
            foreach (var i in items)
            {
                var c = directory.Create(organizationId, "api_key", i.Email, i.Phone, i.FullName);
                c.EmailVerified = i.EmailVerified; c.PhoneVerified = i.PhoneVerified; c.Status = i.Status; c.SmsOptOut = i.SmsOptOut;
                c.Metadata = i.Metadata; c.Imported = i.Baseline.Count > 0 ? i.Baseline : null; c.UpdatedBy = actor;
                store.Put(c);
                if (i.LoyaltyBalance > 0) loyalty.Adjust(organizationId, c.Id, i.LoyaltyBalance, "Imported balance", "import", actor, TxnTypes.Migration);
                created.Add(c);
            }
            var snapshot = insights.For(organizationId);
            return created.Select(c => insights.View(c, snapshot, withSync: false)).ToList();
        });
    }

    /// <summary><c>GET /consumers/distribution?field=&amp;buckets=</c>: equal-width buckets over the non-archived consumers.</summary>
    public ConsumerDistribution Distribution(string organizationId, string field, int bucketCount)
    {
        var views = List(organizationId, new ConsumerQuery());
        var money = field is "ltv" or "aov";
        var values = views.Select(v => Value(v, field) ?? 0).OrderBy(x => x).ToList();
        JsonNode N(double d) => money ? JsonValue.Create(Math.Round(d, 2).ToString("0.##", CultureInfo.InvariantCulture))! : JsonValue.Create(Math.Round(d, 4))!;
        var buckets = new List<DistributionBucket>();
        double min = values.Count > 0 ? values[0] : 0, max = values.Count > 0 ? values[^1] : 0;
        if (values.Count > 0)
        {
            var n = max == min ? 1 : bucketCount;
            var width = max == min ? 1 : (max - min) / n;
            for (int i = 0; i < n; i++)
            {
                var lo = min + i * width; var hi = i == n - 1 ? max : min + (i + 1) * width;
                var count = values.Count(v => v >= lo && (i == n - 1 ? v <= hi : v < hi));
                buckets.Add(new DistributionBucket($"{N(lo)}-{N(hi)}".Replace("\"", ""), count, Math.Round((lo + hi) / 2, 4),
                    Math.Round(100.0 * count / values.Count, 2), N(lo), N(hi)));
            }
        }
        var mean = values.Count > 0 ? values.Average() : 0;
        var median = values.Count == 0 ? 0 : values.Count % 2 == 1 ? values[values.Count / 2] : (values[values.Count / 2 - 1] + values[values.Count / 2]) / 2;
        var std = values.Count == 0 ? 0 : Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Count);
        return new ConsumerDistribution(field, buckets, new DistributionStats(N(min), N(max), N(mean), N(median), N(std)), values.Count,
            Json.Iso(clocks.For(organizationId).GetUtcNow()));
    }

    /// <summary>A numeric attribute of a view by its contract name (money parsed), or null.</summary>
    public static double? Value(AdminConsumer v, string field) => field switch
    {
        "loyaltyBalance" => v.LoyaltyBalance, "loyaltyLifetimePoints" => v.LoyaltyLifetimePoints,
        "ltv" => double.Parse(v.Ltv, CultureInfo.InvariantCulture), "aov" => double.Parse(v.Aov, CultureInfo.InvariantCulture),
        "totalOrders" => v.TotalOrders, "totalReturns" => v.TotalReturns, "totalEngagements" => v.TotalEngagements,
        "totalMessages" => v.TotalMessages, "engagedCount" => v.EngagedCount, "activityScore" => v.ActivityScore,
        "purchaseFrequencyScore" => v.PurchaseFrequencyScore, "monetaryScore" => v.MonetaryScore, "activityRank" => v.ActivityRank,
        "monetaryRank" => v.MonetaryRank, "purchaseFrequencyRank" => v.PurchaseFrequencyRank,
        _ => null,
    };

    /// <summary><c>GET /consumers/{id}/loyalty-transactions?limit=&amp;cursor=</c>: newest first.</summary>
    public LoyaltyTransactionsPage LoyaltyTransactions(string organizationId, string id, int limit, string? cursor)
    {
        Require(organizationId, id);
        var all = loyalty.History(organizationId, id);
        var start = 0;
        if (cursor is not null)
        {
            var i = all.FindIndex(t => t.Id == cursor);
            if (i < 0) throw Validation.Single("cursor", "cursor", "cursor", "\"" + cursor + "\"", $"Invalid cursor: Received \"{cursor}\"");
            start = i + 1;
        }
        var page = all.Skip(start).Take(limit).ToList();
        var next = start + page.Count < all.Count && page.Count > 0 ? page[^1].Id : null;
        var buckets = loyalty.OpenBuckets(organizationId, id).Where(b => b.ExpiresAt is not null)
            .Select(b => new ExpiringBucket(Json.Iso(b.EarnedAt), Json.Iso(b.ExpiresAt!.Value), b.Remaining)).ToList();
        return new LoyaltyTransactionsPage(page.Select(t => new LoyaltyTransactionView(t.Id, t.TxnType, t.PointsDelta, Json.Iso(t.OccurredAt),
            t.SourceType, t.SourceDescription, Json.Iso(t.BucketExpiresOn), Meta(t))).ToList(), next, buckets);
    }

    private static JsonObject? Meta(LoyaltyTransaction t)
    {
        var m = t.Metadata?.DeepClone() as JsonObject ?? [];
        m["actorType"] = t.ActorType;
        if (t.ActorId is not null) m["actorId"] = t.ActorId;
        if (t.SourceId is not null) m["sourceId"] = t.SourceId;
        return m;
    }
}

/// <summary>Filters and sorting of <c>GET /consumers</c> (behavior.md §6).</summary>
public sealed record ConsumerQuery
{
    public string? Search { get; init; }
    public string? Email { get; init; }
    public string? Phone { get; init; }
    public string? Status { get; init; }
    public DateTimeOffset? CreatedAfter { get; init; }
    public DateTimeOffset? CreatedBefore { get; init; }
    public bool IncludeArchived { get; init; }
    public bool IncludeGuests { get; init; } = true;
    public string SortBy { get; init; } = "createdAt";
    public bool Desc { get; init; } = true;
}
