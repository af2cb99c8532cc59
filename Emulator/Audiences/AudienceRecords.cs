using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Fanfare.Emulator.Consumers;

namespace Fanfare.Emulator.Audiences;

/// <summary>
/// admin-part1.md <c>Audience</c>; <c>AudienceBase</c> / admin-part2.md <c>AudienceSummary</c> are the same without
/// <c>rules</c>, <c>imports</c> and <c>primarySyncSource</c> (left out when null).
/// </summary>
public sealed class AudienceView
{
    public string Id { get; init; } = "";
    public string OrganizationId { get; init; } = "";
    public string CreatedAt { get; init; } = "";
    public string CreatedBy { get; init; } = "";
    public bool Archived { get; init; }
    public string Name { get; init; } = "";
    /// <summary><c>DYNAMIC</c> | <c>STATIC_LIST</c> | <c>SYNCED_LIST</c>.</summary>
    public string Type { get; init; } = "";
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<AudienceRuleView>? Rules { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<AudienceImportView>? Imports { get; init; }
    public string? Description { get; init; }
    public string? GroupId { get; init; }
    public string? GroupName { get; init; }
    public string? GroupType { get; init; }
    public string? IconName { get; init; }
    public string? LastRefreshedAt { get; init; }
    public JsonObject? Metadata { get; init; }
    public string? PrimaryExternalId { get; init; }
    public string? PrimaryLastSyncedAt { get; init; }
    public string? PrimarySourceVendor { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public SyncSourceView? PrimarySyncSource { get; init; }
    public string? PrimarySyncSourceId { get; init; }
    public int? RefreshIntervalSeconds { get; init; }
    public string? UpdatedAt { get; init; }
    public string? UpdatedBy { get; init; }
}

/// <summary>admin-part1.md <c>AudienceRule</c>.</summary>
public sealed record AudienceRuleView(string Id, string OrganizationId, string AudienceId, string Field, string Operator, JsonArray Values,
    string? GroupId, double? Position);

/// <summary>admin-part1.md <c>AudienceImport</c> (<c>uploadUrl</c> only in the answer of <c>POST /audiences/{id}/import</c>).</summary>
public sealed class AudienceImportView
{
    public string Id { get; init; } = "";
    public string OrganizationId { get; init; } = "";
    public string CreatedAt { get; init; } = "";
    public string CreatedBy { get; init; } = "";
    public bool Archived { get; init; }
    public string AudienceId { get; init; } = "";
    public string Status { get; init; } = "";
    public double Progress { get; init; }
    public int ProcessedConsumers { get; init; }
    public int ErrorCount { get; init; }
    public string S3Key { get; init; } = "";
    public JsonArray? Errors { get; init; }
    public int? TotalConsumers { get; init; }
    public string? UpdatedAt { get; init; }
    public string? UpdatedBy { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? UploadUrl { get; init; }
}

/// <summary><c>GET /audiences</c>: <c>{data, pageInfo}</c>.</summary>
public sealed record AudiencePage(List<AudienceView> Data, PageInfo PageInfo);
/// <summary><c>GET /audiences/{id}/count</c>.</summary>
public sealed record AudienceCount(string AudienceId, int Count);
/// <summary><c>POST /audiences/{id}/members</c>.</summary>
public sealed record AudienceMembersAdded(string AudienceId, int AddedCount);
/// <summary><c>GET /audiences/{id}/status</c> (times are plain strings in the contract; UTC ISO 8601 here).</summary>
public sealed record AudienceStatus(string AudienceId, int Version, bool Stale, bool InProgress, string? LastRefreshedAt, string? LastSyncedAt,
    int? PendingShards, int? RefreshIntervalSeconds, string? SyncStatus);
/// <summary><c>POST /audiences/{id}/sync</c>: <c>{success:true, syncSourceId, status:"PENDING"}</c>.</summary>
public sealed record AudienceSyncStarted(bool Success, string SyncSourceId, string Status);
/// <summary><c>ListImportResult.imported</c> item.</summary>
public sealed record ImportedList(string ListId, string SyncSourceId, string Status);
/// <summary><c>ListImportResult.skipped</c> item.</summary>
public sealed record SkippedList(string ListId, string Reason, string? ExistingAudienceId);
/// <summary>admin-part1.md <c>ListImportResult</c>.</summary>
public sealed record ListImportResult(List<ImportedList> Imported, List<SkippedList> Skipped);
/// <summary><c>POST /audiences/loyalty-tiers</c> and <c>PUT /audiences/loyalty-tiers/{groupId}</c>.</summary>
public sealed record TierGroupResult(string TierGroup, List<AudienceView> Audiences);
/// <summary>A provider list as the control plane shows it.</summary>
public sealed record SourceListView(string Provider, string ListId, string OrganizationId, string Name, int MemberCount, List<AudienceSourceMember> Members, string UpdatedAt);

/// <summary>Source-generated JSON for the audience shapes (camelCase; nullable fields written as null).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(AudienceView))]
[JsonSerializable(typeof(List<AudienceView>))]
[JsonSerializable(typeof(AudiencePage))]
[JsonSerializable(typeof(AudienceRuleView))]
[JsonSerializable(typeof(List<AudienceRuleView>))]
[JsonSerializable(typeof(AudienceImportView))]
[JsonSerializable(typeof(AudienceCount))]
[JsonSerializable(typeof(AudienceMembersAdded))]
[JsonSerializable(typeof(AudienceStatus))]
[JsonSerializable(typeof(AudienceSyncStarted))]
[JsonSerializable(typeof(ListImportResult))]
[JsonSerializable(typeof(TierGroupResult))]
[JsonSerializable(typeof(SourceListView))]
[JsonSerializable(typeof(List<SourceListView>))]
public sealed partial class AudiencesJson : JsonSerializerContext;
