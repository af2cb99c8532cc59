using System.Text.Json.Nodes;
using Fanfare.Emulator.Distributions;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Distributions.TimedReleases;

/// <summary>
/// A timed release (admin-part4.md <c>TimedRelease</c>; behavior.md §3.7): a countdown until <c>openAt</c>, then instant
/// access for everyone eligible until <c>closeAt</c> (none: open until ended manually). No queue, no selection.
/// </summary>
public sealed class TimedReleaseDistribution : DistributionBase
{
    public override string DistributionType => DistributionTypes.TimedRelease;

    /// <summary>Whether guest consumers may enter (default true).</summary>
    public bool SupportsGuest { get; set; } = true;

    /// <summary>The admin shape (<c>TimedRelease</c>).</summary>
    public JsonObject ToJson()
    {
        var j = CommonJson();
        j["supportsGuest"] = SupportsGuest;
        return j;
    }

    /// <summary>The consumer shape of <c>GET /timed-releases/{timedReleaseId}</c> (consumer-part2.md), exactly.</summary>
    public JsonObject ToDetailsJson() => new()
    {
        ["id"] = Id, ["timeZone"] = TimeZone, ["supportsGuest"] = SupportsGuest,
        ["closeAt"] = Json.Iso(CloseAt), ["openAt"] = Json.Iso(OpenAt),
        ["statusOverride"] = StatusOverride, ["statusOverrideAt"] = Json.Iso(StatusOverrideAt), ["statusOverrideBy"] = StatusOverrideBy,
        ["teardownStatus"] = TeardownStatus,
    };
}

/// <summary>
/// Consumer statuses of a timed release participation: the journey <c>TimedReleaseConsumer</c> enum upper-cased
/// (the API's <c>TimedReleaseConsumerStatus.status</c> is a free string).
/// </summary>
public static class TimedReleaseStatuses
{
    public const string NotEntered = "NOT_ENTERED", Entered = "ENTERED", Completed = "COMPLETED", Denied = "DENIED", Left = "LEFT";
}

/// <summary>One consumer's participation in one timed release. Id = name-based UUID of (timedReleaseId, consumerId).</summary>
public sealed class TimedReleaseParticipant : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public string TimedReleaseId { get; set; } = "";
    public string ConsumerId { get; set; } = "";
    /// <summary><see cref="TimedReleaseStatuses"/> value.</summary>
    public string Status { get; set; } = TimedReleaseStatuses.NotEntered;
    public DateTimeOffset? EnteredAt { get; set; }
    public DateTimeOffset? LeftAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
    public DateTimeOffset? ExpiresAt { get; set; }
    public DateTimeOffset? ExpiredAt { get; set; }
    public string? SelectedVariantId { get; set; }
    public string? GrantId { get; set; }
    public string? DeniedReason { get; set; }
    public int Entries { get; set; }
}
