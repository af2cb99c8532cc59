using System.Text.Json.Nodes;
using Fanfare.Emulator.Distributions;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Distributions.Queues;

/// <summary>
/// A queue (admin-part4.md <c>Queue</c>; behavior.md §3.3): consumers wait in entry order and are admitted at
/// <see cref="AdmitRate"/> per minute, each admission issuing an admission grant valid
/// <see cref="AdmissionExpirationSeconds"/> seconds (null: no expiry). <see cref="Capacity"/> caps how many may wait at
/// once (null: unlimited); <see cref="MaxAdmissions"/> caps admissions in total (null: until <c>closeAt</c>).
/// The last four properties are the engine's admission bookkeeping (not part of the contract shape).
/// </summary>
public sealed class QueueDistribution : DistributionBase
{
    public override string DistributionType => DistributionTypes.Queue;

    /// <summary>Admissions per minute (&gt; 0; fractions allowed: 0.5 = one every two minutes).</summary>
    public double AdmitRate { get; set; }
    public bool SupportsGuest { get; set; } = true;
    /// <summary>Seconds an admission grant stays valid; null = no expiry.</summary>
    public double? AdmissionExpirationSeconds { get; set; }
    /// <summary>Maximum consumers waiting (QUEUED) at once; null = unlimited.</summary>
    public int? Capacity { get; set; }
    /// <summary>Maximum admissions in total; null = unlimited.</summary>
    public int? MaxAdmissions { get; set; }
    /// <summary>When true, positions are shown as <c>positionDisplayMode: "qualitative"</c>.</summary>
    public bool LoyaltyBiasEnabled { get; set; }

    /// <summary>Admissions issued so far (automatic, server-side and QA).</summary>
    public int AdmittedCount { get; set; }
    /// <summary>When the queue's one admission job is due, or null when none is scheduled.</summary>
    public DateTimeOffset? NextAdmissionAt { get; set; }
    /// <summary>When the admission job last ran (or was started); admission credit accrues from here.</summary>
    public DateTimeOffset? LastAdmissionRunAt { get; set; }
    /// <summary>Fractional admissions carried over between runs (admitRate × elapsed minutes, minus those admitted).</summary>
    public double AdmitCredit { get; set; }

    /// <summary>The contract shape (admin <c>Queue</c>, consumer <c>QueueDetails</c>).</summary>
    public JsonObject ToJson()
    {
        var j = CommonJson();
        j["admitRate"] = AdmitRate;
        j["supportsGuest"] = SupportsGuest;
        j["admissionExpirationSeconds"] = AdmissionExpirationSeconds;
        j["capacity"] = Capacity;
        j["maxAdmissions"] = MaxAdmissions;
        j["loyaltyBiasEnabled"] = LoyaltyBiasEnabled;
        return j;
    }
}

/// <summary>Consumer statuses of a queue participation (OpenAPI <c>QueueConsumerStatus</c> <c>status</c>).</summary>
public static class QueueStatuses
{
    public const string NotQueued = "NOT_QUEUED", Queued = "QUEUED", Granted = "GRANTED", Completed = "COMPLETED",
        Denied = "DENIED", Left = "LEFT";
}

/// <summary>
/// One consumer's participation in one queue (one document per queue and consumer; re-entry after LEFT or an expired
/// grant reuses it with a new <see cref="Seq"/> at the back). Id = name-based UUID of (queueId, consumerId).
/// </summary>
public sealed class QueueParticipant : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public string QueueId { get; set; } = "";
    public string ConsumerId { get; set; } = "";
    /// <summary><see cref="QueueStatuses"/> value.</summary>
    public string Status { get; set; } = QueueStatuses.NotQueued;
    /// <summary>Entry order within the queue (greater = later); positions are ranks by this among QUEUED consumers.</summary>
    public long Seq { get; set; }
    /// <summary>Position when the consumer (last) entered; the grant's <c>position</c>.</summary>
    public int EntryPosition { get; set; }
    public DateTimeOffset? EnteredAt { get; set; }
    public DateTimeOffset? GrantedAt { get; set; }
    public DateTimeOffset? ExpiresAt { get; set; }
    public DateTimeOffset? DequeuedAt { get; set; }
    public DateTimeOffset? LeftAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
    public DateTimeOffset? DeniedAt { get; set; }
    public DateTimeOffset? ExpiredAt { get; set; }
    public string? DeniedReason { get; set; }
    public string? GrantId { get; set; }
    /// <summary><c>X-Fingerprint</c> of the entry; the grant is bound to it.</summary>
    public string? Fingerprint { get; set; }
    /// <summary>How many times the consumer entered.</summary>
    public int Entries { get; set; }
}
