using System.Text.Json.Nodes;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Distributions;

/// <summary>Distribution type names as the contract spells them (Grant/Distribution <c>type</c>, webhook <c>distributionType</c>).</summary>
public static class DistributionTypes
{
    public const string Queue = "queue", Draw = "draw", Auction = "auction", TimedRelease = "timed_release",
        Appointment = "appointment", Waitlist = "waitlist";
}

/// <summary>
/// What every distribution shares: its sequence and experience, timing (<c>openAt</c>/<c>closeAt</c>, UTC), the manual
/// <c>statusOverride: "ended"</c> and the audit fields of the admin shapes (admin-part4.md <c>Queue</c> et al.).
/// Each type (queue, draw …) is a document class deriving from this one.
/// </summary>
public abstract class DistributionBase : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public string SequenceId { get; set; } = "";
    public string ExperienceId { get; set; } = "";
    public string Name { get; set; } = "";
    public string TimeZone { get; set; } = "UTC";
    public DateTimeOffset? OpenAt { get; set; }
    public DateTimeOffset? CloseAt { get; set; }
    /// <summary>When <c>distribution.closed</c> fires (behavior.md §7.4): <c>closeAt</c>; a type whose entries end on their
    /// own (a draw at <c>drawAt</c>) overrides it.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public virtual DateTimeOffset? LifecycleCloseAt => CloseAt;
    /// <summary><c>"ended"</c> or null.</summary>
    public string? StatusOverride { get; set; }
    public DateTimeOffset? StatusOverrideAt { get; set; }
    public string? StatusOverrideBy { get; set; }
    /// <summary><c>"pending"</c>, <c>"completed"</c> or null.</summary>
    public string? TeardownStatus { get; set; }
    /// <summary>Manually stopped (timing state <c>killed</c>).</summary>
    public bool Killed { get; set; }
    public bool Archived { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public DateTimeOffset? UpdatedAt { get; set; }
    public string? UpdatedBy { get; set; }

    /// <summary><see cref="DistributionTypes"/> value.</summary>
    public abstract string DistributionType { get; }

    /// <summary>
    /// behavior.md §3.2: <c>killed</c> (manually stopped), <c>ended</c> (override, past <c>closeAt</c>, or archived by an
    /// admin delete: no entries, no admissions), <c>upcoming</c> (before <c>openAt</c>), else <c>active</c>.
    /// </summary>
    public virtual string TimingState(DateTimeOffset now)
    {
        if (Killed) return "killed";
        if (StatusOverride == "ended" || Archived) return "ended";
        if (OpenAt is { } open && now < open) return "upcoming";
        if (CloseAt is { } close && now >= close) return "ended";
        return "active";
    }

    public bool IsOpen(DateTimeOffset now) => TimingState(now) == "active";

    /// <summary>The common admin/consumer fields, nullable ones present as null (the contract's <c>T | null</c>).</summary>
    public JsonObject CommonJson()
    {
        return new JsonObject
        {
            ["id"] = Id, ["organizationId"] = OrganizationId, ["createdAt"] = Json.Iso(CreatedAt), ["createdBy"] = CreatedBy,
            ["archived"] = Archived, ["updatedAt"] = Json.Iso(UpdatedAt), ["updatedBy"] = UpdatedBy,
            ["sequenceId"] = SequenceId, ["name"] = Name, ["timeZone"] = TimeZone,
            ["openAt"] = Json.Iso(OpenAt), ["closeAt"] = Json.Iso(CloseAt),
            ["statusOverride"] = StatusOverride, ["statusOverrideAt"] = Json.Iso(StatusOverrideAt), ["statusOverrideBy"] = StatusOverrideBy,
            ["teardownStatus"] = TeardownStatus,
        };
    }
}
