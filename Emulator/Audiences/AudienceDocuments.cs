using System.Text.Json.Nodes;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Audiences;

/// <summary>Enums of admin-part1.md <c>Audience</c>.</summary>
public static class AudienceTypes
{
    public const string Dynamic = "DYNAMIC", StaticList = "STATIC_LIST", SyncedList = "SYNCED_LIST";
    public static readonly string[] All = [Dynamic, StaticList, SyncedList];
    public static readonly string[] GroupTypes = ["SEGMENTED_VALUE", "RFM"];
    public static readonly string[] Operators =
    [
        "EQUALS", "NOT_EQUALS", "GREATER_THAN", "GREATER_THAN_OR_EQUAL", "LESS_THAN", "LESS_THAN_OR_EQUAL", "BETWEEN", "CONTAINS",
        "NOT_CONTAINS", "IN", "NOT_IN", "EXISTS", "NOT_EXISTS",
    ];
    public static readonly string[] Providers = ["klaviyo", "mailchimp", "sendgrid"];
}

/// <summary>
/// An audience (admin-part1.md <c>/audiences</c>). <c>DYNAMIC</c>: members are the consumers its rules select, evaluated
/// whenever asked. <c>STATIC_LIST</c>: <see cref="MemberIds"/> added by <c>POST /audiences/{id}/members</c> or CSV imports.
/// <c>SYNCED_LIST</c>: <see cref="MemberIds"/> replaced by each sync of its provider list.
/// </summary>
public sealed class Audience : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public bool Archived { get; set; }
    public string Name { get; set; } = "";
    public string Type { get; set; } = AudienceTypes.Dynamic;
    public string? Description { get; set; }
    public string? GroupId { get; set; }
    public string? GroupName { get; set; }
    public string? GroupType { get; set; }
    public string? IconName { get; set; }
    public DateTimeOffset? LastRefreshedAt { get; set; }
    public JsonObject? Metadata { get; set; }
    public int? RefreshIntervalSeconds { get; set; }
    public DateTimeOffset? UpdatedAt { get; set; }
    public string? UpdatedBy { get; set; }
    /// <summary>The <see cref="Consumers.ConsumerSyncSource"/> id (synced lists).</summary>
    public string? SyncSourceId { get; set; }
    /// <summary>Bumped by every change of rules or members (<c>GET /audiences/{id}/status</c> <c>version</c>).</summary>
    public int Version { get; set; } = 1;
    public List<AudienceRuleDoc> Rules { get; set; } = [];
    public List<string> MemberIds { get; set; } = [];
}

/// <summary>One rule of an audience (admin-part1.md <c>AudienceRule</c>).</summary>
public sealed class AudienceRuleDoc
{
    public string Id { get; set; } = "";
    public string Field { get; set; } = "";
    public string Operator { get; set; } = "EQUALS";
    public JsonArray Values { get; set; } = [];
    public string? GroupId { get; set; }
    public double? Position { get; set; }
}

/// <summary>An import into an audience (admin-part1.md <c>AudienceImport</c>): a CSV upload or a provider list sync, run as jobs on the clock.</summary>
public sealed class AudienceImportDoc : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public string AudienceId { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public bool Archived { get; set; }
    /// <summary><c>PENDING</c> → <c>PROCESSING</c> → <c>COMPLETED</c> | <c>FAILED</c>.</summary>
    public string Status { get; set; } = "PENDING";
    public double Progress { get; set; }
    public int ProcessedConsumers { get; set; }
    public int ErrorCount { get; set; }
    public string S3Key { get; set; } = "";
    public JsonArray? Errors { get; set; }
    public int? TotalConsumers { get; set; }
    public DateTimeOffset? UpdatedAt { get; set; }
    public string? UpdatedBy { get; set; }
    /// <summary><c>csv</c> or a provider (<c>klaviyo</c> …).</summary>
    public string Source { get; set; } = "csv";
    public string? ListId { get; set; }
    /// <summary>The uploaded CSV (csv imports), once uploaded.</summary>
    public string? Csv { get; set; }
}

/// <summary>A list held by an emulated email provider (control plane <c>PUT /_emulator/audience-sources/{provider}/lists/{listId}</c>).</summary>
public sealed class AudienceSourceList : IDocument
{
    /// <summary><c>{organizationId}:{provider}:{listId}</c>.</summary>
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public string Provider { get; set; } = "";
    public string ListId { get; set; } = "";
    public string Name { get; set; } = "";
    public List<AudienceSourceMember> Members { get; set; } = [];
    public DateTimeOffset UpdatedAt { get; set; }

    public static string Key(string organizationId, string provider, string listId) => $"{organizationId}:{provider}:{listId}";
}

/// <summary>A member of a provider list.</summary>
public sealed class AudienceSourceMember
{
    public string? Email { get; set; }
    public string? Phone { get; set; }
    public string? Name { get; set; }
    public string? ExternalId { get; set; }
}
