using System.Text.Json.Nodes;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Distributions.Waitlists;

/// <summary>
/// A sequence's waitlist (at most one per sequence; behavior.md §3.8). Never grants access by itself: consumers wait
/// while the sequence is upcoming and are notified when one of its distributions opens.
/// Shape: admin-part4.md <c>Waitlist</c> <c>{id, organizationId, createdAt, createdBy, archived, updatedAt, updatedBy,
/// sequenceId, capacity}</c>.
/// </summary>
public sealed class Waitlist : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public string SequenceId { get; set; } = "";
    /// <summary>Maximum active entries (WAITING + NOTIFIED); null = unlimited.</summary>
    public int? Capacity { get; set; }
    public bool Archived { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public DateTimeOffset? UpdatedAt { get; set; }
    public string? UpdatedBy { get; set; }

    public JsonObject ToJson() => new()
    {
        ["id"] = Id, ["organizationId"] = OrganizationId, ["createdAt"] = Json.Iso(CreatedAt), ["createdBy"] = CreatedBy,
        ["archived"] = Archived, ["updatedAt"] = Json.Iso(UpdatedAt), ["updatedBy"] = UpdatedBy,
        ["sequenceId"] = SequenceId, ["capacity"] = Capacity,
    };
}

/// <summary>Waitlist entry statuses (behavior.md §3.8), and their lowercase admin spelling (admin-part4.md <c>WaitlistEntry.status</c>).</summary>
public static class WaitlistStatus
{
    public const string Waiting = "WAITING", Notified = "NOTIFIED", Converted = "CONVERTED", Left = "LEFT";

    /// <summary><c>waitlisted | notified | converted | left</c>.</summary>
    public static string Admin(string status) => status switch
    {
        Waiting => "waitlisted", Notified => "notified", Converted => "converted", Left => "left", _ => status.ToLowerInvariant(),
    };

    public static bool IsActive(string status) => status is Waiting or Notified;
}

/// <summary>One consumer on one waitlist. Re-entering after leaving reactivates the same entry.</summary>
public sealed class WaitlistEntry : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public string WaitlistId { get; set; } = "";
    public string SequenceId { get; set; } = "";
    public string ConsumerId { get; set; } = "";
    /// <summary><see cref="WaitlistStatus"/> value.</summary>
    public string Status { get; set; } = WaitlistStatus.Waiting;
    public DateTimeOffset EnteredAt { get; set; }
    public DateTimeOffset? NotifiedAt { get; set; }
    public DateTimeOffset? ConvertedAt { get; set; }
    public DateTimeOffset? LeftAt { get; set; }
    public DateTimeOffset? UpdatedAt { get; set; }

    /// <summary>admin-part4.md <c>WaitlistEntry</c>: <c>{id, organizationId, consumerId, waitlistId, status, enteredAt, notifiedAt, updatedAt}</c>.</summary>
    public JsonObject ToAdminJson() => new()
    {
        ["id"] = Id, ["organizationId"] = OrganizationId, ["consumerId"] = ConsumerId, ["waitlistId"] = WaitlistId,
        ["status"] = WaitlistStatus.Admin(Status), ["enteredAt"] = Json.Iso(EnteredAt), ["notifiedAt"] = Json.Iso(NotifiedAt),
        ["updatedAt"] = Json.Iso(UpdatedAt),
    };
}

/// <summary>
/// An export of a waitlist (admin-part4.md <c>WaitlistExport</c>). The emulator exports synchronously: the job is
/// <c>COMPLETED</c> with <c>progress: 100</c> as soon as it is created, and its file is <see cref="Csv"/>.
/// </summary>
public sealed class WaitlistExport : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public string WaitlistId { get; set; } = "";
    public string Status { get; set; } = "COMPLETED";
    public double Progress { get; set; } = 100;
    public int ConsumerCount { get; set; }
    public string? Error { get; set; }
    /// <summary>Numeric id of the export's file (1, 2, … per waitlist): <c>GET /waitlists/{id}/export/{fileId}</c>.</summary>
    public int? LastFileId { get; set; }
    public string Csv { get; set; } = "";
    public bool Archived { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public DateTimeOffset? UpdatedAt { get; set; }
    public string? UpdatedBy { get; set; }

    public JsonObject ToJson() => new()
    {
        ["id"] = Id, ["organizationId"] = OrganizationId, ["createdAt"] = Json.Iso(CreatedAt), ["createdBy"] = CreatedBy,
        ["archived"] = Archived, ["updatedAt"] = Json.Iso(UpdatedAt), ["updatedBy"] = UpdatedBy,
        ["waitlistId"] = WaitlistId, ["status"] = Status, ["progress"] = Progress, ["consumerCount"] = ConsumerCount,
        ["error"] = Error, ["lastFileId"] = LastFileId,
    };
}
