using System.Text.Json.Nodes;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Messaging.Announcements;

/// <summary>
/// An announcement (admin-part1.md <c>Announcement</c>): a message about an experience, sent by the emulator when it falls
/// due on the emulator clock. The contract fields are below; <see cref="Delivery"/> and what follows are emulator-only
/// (shown on <c>GET /_emulator/announcements</c>, never in the admin API).
/// </summary>
public sealed class Announcement : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public bool Archived { get; set; }
    /// <summary><c>EMAIL | SMS | DIRECT | FACEBOOK | X | INSTAGRAM | LINKEDIN | TIKTOK | YOUTUBE</c>.</summary>
    public string Type { get; set; } = "EMAIL";
    public string Content { get; set; } = "";
    public string Title { get; set; } = "";
    public bool IncludeAudience { get; set; }
    public bool IncludeWaitlist { get; set; }
    public string ExperienceId { get; set; } = "";
    public string TimeZone { get; set; } = "UTC";
    public bool IsDefault { get; set; }
    public string? AnchorEntity { get; set; }
    public string? AnchorMoment { get; set; }
    public string? CreativeDesignId { get; set; }
    public JsonObject? CreativeDocument { get; set; }
    public string? CreativeTemplateKey { get; set; }
    public string? DistributionId { get; set; }
    public string? DistributionType { get; set; }
    public string? ImageUrl { get; set; }
    public string? Link { get; set; }
    public JsonObject? Metadata { get; set; }
    public double? OffsetSeconds { get; set; }
    public DateTimeOffset? ScheduledAt { get; set; }
    public string? SequenceId { get; set; }
    public string? ShortContent { get; set; }
    public JsonObject? TemplateData { get; set; }
    /// <summary><c>POINT_IN_TIME</c> or <c>RELATIVE</c>.</summary>
    public string TimingStrategy { get; set; } = "POINT_IN_TIME";
    public DateTimeOffset? UpdatedAt { get; set; }
    public string? UpdatedBy { get; set; }

    /// <summary>Emulator only: <see cref="AnnouncementDelivery"/> state.</summary>
    public string Delivery { get; set; } = AnnouncementDelivery.Unscheduled;
    /// <summary>Emulator only: when it falls due (null while its anchor has no instant).</summary>
    public DateTimeOffset? DueAt { get; set; }
    public DateTimeOffset? SentAt { get; set; }
    public List<AnnouncementRecipient> Recipients { get; set; } = [];

    /// <summary>admin-part1.md <c>Announcement</c> (nullable fields written as null).</summary>
    public JsonObject ToJson() => new()
    {
        ["id"] = Id, ["organizationId"] = OrganizationId, ["createdAt"] = Json.Iso(CreatedAt), ["createdBy"] = CreatedBy,
        ["archived"] = Archived, ["type"] = Type, ["content"] = Content, ["title"] = Title,
        ["includeAudience"] = IncludeAudience, ["includeWaitlist"] = IncludeWaitlist, ["experienceId"] = ExperienceId,
        ["timeZone"] = TimeZone, ["isDefault"] = IsDefault,
        ["anchorEntity"] = AnchorEntity, ["anchorMoment"] = AnchorMoment,
        ["creativeDesignId"] = CreativeDesignId, ["creativeDocument"] = CreativeDocument?.DeepClone(),
        ["creativeTemplateKey"] = CreativeTemplateKey, ["distributionId"] = DistributionId, ["distributionType"] = DistributionType,
        ["imageUrl"] = ImageUrl, ["link"] = Link, ["metadata"] = Metadata?.DeepClone(),
        ["offsetSeconds"] = OffsetSeconds is double o && Math.Floor(o) == o ? JsonValue.Create((long)o) : JsonValue.Create(OffsetSeconds),
        ["scheduledAt"] = Json.Iso(ScheduledAt), ["sequenceId"] = SequenceId, ["shortContent"] = ShortContent,
        ["templateData"] = TemplateData?.DeepClone(), ["timingStrategy"] = TimingStrategy,
        ["updatedAt"] = Json.Iso(UpdatedAt), ["updatedBy"] = UpdatedBy,
    };

    /// <summary>The control-plane view: delivery state and recipients.</summary>
    public JsonObject DeliveryJson() => new()
    {
        ["announcementId"] = Id, ["organizationId"] = OrganizationId, ["experienceId"] = ExperienceId, ["type"] = Type,
        ["title"] = Title, ["archived"] = Archived, ["timingStrategy"] = TimingStrategy, ["status"] = Delivery,
        ["dueAt"] = Json.Iso(DueAt), ["sentAt"] = Json.Iso(SentAt),
        ["delivered"] = AnnouncementTypes.IsDelivered(Type),
        ["recipients"] = new JsonArray(Recipients.Select(r => (JsonNode)r.ToJson()).ToArray()),
    };
}

/// <summary>Delivery states of an announcement (emulator only).</summary>
public static class AnnouncementDelivery
{
    /// <summary><c>scheduled</c>: a job waits for <see cref="Announcement.DueAt"/>; <c>unscheduled</c>: its anchor has no
    /// instant yet; <c>sent</c>: delivered (or, for social types, recorded as posted); <c>cancelled</c>: deleted before it was due.</summary>
    public const string Scheduled = "scheduled", Unscheduled = "unscheduled", Sent = "sent", Cancelled = "cancelled";
}

/// <summary>Channel types and which of them the emulator really delivers.</summary>
public static class AnnouncementTypes
{
    public static readonly string[] All = ["EMAIL", "SMS", "DIRECT", "FACEBOOK", "X", "INSTAGRAM", "LINKEDIN", "TIKTOK", "YOUTUBE"];
    public static readonly string[] DistributionTypes = ["QUEUE", "DRAW", "AUCTION", "APPOINTMENT", "TIMED_RELEASE"];

    /// <summary>EMAIL and SMS land in <c>/_emulator/inbox</c> / <c>/_emulator/sms</c>; the others are recorded only.</summary>
    public static bool IsDelivered(string type) => type is "EMAIL" or "SMS";
}

/// <summary>One consumer an announcement went to (or was recorded for).</summary>
public sealed class AnnouncementRecipient
{
    public string ConsumerId { get; set; } = "";
    /// <summary><c>audience</c> or <c>waitlist</c>.</summary>
    public string Source { get; set; } = "";
    public string? To { get; set; }
    public string? MessageId { get; set; }
    /// <summary><c>sent</c>, <c>recorded</c> (social types) or <c>skipped</c>.</summary>
    public string Status { get; set; } = "sent";
    public string? Reason { get; set; }

    public JsonObject ToJson() => new()
    {
        ["consumerId"] = ConsumerId, ["source"] = Source, ["to"] = To, ["messageId"] = MessageId, ["status"] = Status, ["reason"] = Reason,
    };
}

/// <summary>
/// The consumers of an audience, for announcements with <c>includeAudience</c>. The audiences feature registers the real
/// implementation; without it <see cref="NoAudienceMembers"/> answers that every audience is empty.
/// </summary>
public interface IAudienceMembers
{
    IReadOnlyList<string> ConsumerIds(string organizationId, string audienceId);
}

/// <summary>Fallback used until an audiences module registers <see cref="IAudienceMembers"/>: no members.</summary>
public sealed class NoAudienceMembers : IAudienceMembers
{
    public IReadOnlyList<string> ConsumerIds(string organizationId, string audienceId) => [];
}
