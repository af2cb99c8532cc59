using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Fanfare.Emulator.Consumers;

/// <summary><c>{startCursor, endCursor}</c> of behavior.md §6 (both always present, null at the ends).</summary>
public sealed record PageInfo(string? StartCursor, string? EndCursor);

/// <summary>admin-part2.md <c>SyncSource</c>: the external list a consumer or audience is synced from.</summary>
public sealed record SyncSourceView(string Id, string OrganizationId, string CreatedAt, string CreatedBy, bool Archived, string SyncSource,
    string SyncSourceId, string? LastSyncedAt, JsonObject? SourceData, string? SyncStatus, string? UpdatedAt, string? UpdatedBy);

/// <summary><c>{latitude, longitude}</c>.</summary>
public sealed record GeoCoordinates(double Latitude, double Longitude);

/// <summary>
/// admin-part2.md <c>Consumer</c> (the <c>ConsumerNoSync</c> variant has no <c>primarySyncSource</c>: it is left out when
/// null). Money (<c>ltv</c>, <c>aov</c>) is a decimal string; instants are UTC ISO 8601.
/// </summary>
public sealed class AdminConsumer
{
    public string Id { get; init; } = "";
    public string OrganizationId { get; init; } = "";
    public string CreatedAt { get; init; } = "";
    public string CreatedBy { get; init; } = "";
    public bool Archived { get; init; }
    public bool EmailVerified { get; init; }
    public bool PhoneVerified { get; init; }
    /// <summary><c>ACTIVE</c> | <c>INACTIVE</c>.</summary>
    public string Status { get; init; } = "ACTIVE";
    public int ActivityRank { get; init; }
    public double ActivityScore { get; init; }
    public string? ActivityScoreUpdatedAt { get; init; }
    public string Aov { get; init; } = "0";
    public string? Email { get; init; }
    public int EngagedCount { get; init; }
    public string? FullName { get; init; }
    public string? LastEngagedAt { get; init; }
    public string? LastGeoAt { get; init; }
    public string? LastGeoCity { get; init; }
    public GeoCoordinates? LastGeoCoordinates { get; init; }
    public string? LastGeoCountry { get; init; }
    public string? LastGeoPostalCode { get; init; }
    public string? LastGeoRegion { get; init; }
    public string? LastGeoSource { get; init; }
    public string? LastGeoTimezone { get; init; }
    public string? LastLoginAt { get; init; }
    public string? LastOrderAt { get; init; }
    public string? LastReturnAt { get; init; }
    public int LoyaltyBalance { get; init; }
    public string? LoyaltyLastActivityAt { get; init; }
    public int LoyaltyLifetimePoints { get; init; }
    public string Ltv { get; init; } = "0";
    public JsonObject? Metadata { get; init; }
    public int MonetaryRank { get; init; }
    public double MonetaryScore { get; init; }
    public string? MonetaryScoreUpdatedAt { get; init; }
    public string? Phone { get; init; }
    public string? PrimaryExternalId { get; init; }
    public string? PrimaryLastSyncedAt { get; init; }
    public string? PrimarySourceVendor { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public SyncSourceView? PrimarySyncSource { get; init; }
    public string? PrimarySyncSourceId { get; init; }
    public int PurchaseFrequencyRank { get; init; }
    public double PurchaseFrequencyScore { get; init; }
    public string? PurchaseFrequencyScoreUpdatedAt { get; init; }
    public bool SmsOptOut { get; init; }
    public int TotalEngagements { get; init; }
    public int TotalMessages { get; init; }
    public int TotalOrders { get; init; }
    public int TotalReturns { get; init; }
    public string? UpdatedAt { get; init; }
    public string? UpdatedBy { get; init; }
    public string? VerificationCode { get; init; }
    public string? VerificationCodeExpiresAt { get; init; }
}

/// <summary>admin-part2.md <c>GET /consumers</c> (and audience members): <c>{data, pageInfo}</c>.</summary>
public sealed record ConsumerPage(List<AdminConsumer> Data, PageInfo PageInfo);

/// <summary>admin-part2.md <c>GET /consumers/{id}/loyalty-transactions</c> item.</summary>
public sealed record LoyaltyTransactionView(string Id, string TxnType, int PointsDelta, string OccurredAt, string? SourceType,
    string? SourceDescription, string? BucketExpiresOn, JsonObject? Metadata);

/// <summary><c>expiringBuckets</c> item: <c>{earnedOn, expiresOn, pointsRemaining}</c>.</summary>
public sealed record ExpiringBucket(string EarnedOn, string ExpiresOn, int PointsRemaining);

/// <summary>admin-part2.md <c>GET /consumers/{id}/loyalty-transactions</c>.</summary>
public sealed record LoyaltyTransactionsPage(List<LoyaltyTransactionView> Transactions, string? NextCursor, List<ExpiringBucket> ExpiringBuckets);

/// <summary>admin-part2.md <c>GET /consumers/distribution</c> bucket (<c>minValue</c>/<c>maxValue</c> are strings for money fields).</summary>
public sealed record DistributionBucket(string Range, int Value, double X, double Percentage, JsonNode MinValue, JsonNode MaxValue);

/// <summary><c>stats</c> of <c>GET /consumers/distribution</c>.</summary>
public sealed record DistributionStats(JsonNode Min, JsonNode Max, JsonNode Mean, JsonNode Median, JsonNode StdDev);

/// <summary>admin-part2.md <c>GET /consumers/distribution</c>.</summary>
public sealed record ConsumerDistribution(string Field, List<DistributionBucket> Buckets, DistributionStats Stats, int TotalCount, string CachedAt);

/// <summary>admin-part2.md <c>GET /consumers/{id}/timeline</c>: <c>{consumerId, activities, totalCount}</c>.</summary>
public sealed record ConsumerTimeline(string ConsumerId, List<JsonObject> Activities, int TotalCount);

/// <summary>Source-generated JSON for the admin consumer shapes (camelCase; nullable fields written as null).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(AdminConsumer))]
[JsonSerializable(typeof(List<AdminConsumer>))]
[JsonSerializable(typeof(ConsumerPage))]
[JsonSerializable(typeof(LoyaltyTransactionsPage))]
[JsonSerializable(typeof(ConsumerDistribution))]
[JsonSerializable(typeof(ConsumerTimeline))]
public sealed partial class ConsumersJson : JsonSerializerContext;
