using Fanfare.Emulator.Distributions;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Distributions.Draws;

/// <summary>
/// A draw (lottery; behavior.md §3.4). Admin shape: admin-part2.md <c>Draw</c>. Entries are accepted while the draw is
/// <c>active</c> (between <c>openAt</c> and the earlier of <c>closeAt</c> / <c>drawAt</c>); at <c>drawAt</c> winners are
/// selected with a seeded RNG. Runtime state (selection done, counters) lives here too.
/// </summary>
public sealed class DrawDistribution : DistributionBase
{
    public override string DistributionType => DistributionTypes.Draw;

    /// <summary>When winners are selected (UTC). Entries close at this instant at the latest.</summary>
    public DateTimeOffset DrawAt { get; set; }
    public int WinnerCount { get; set; }
    public bool SupportsGuest { get; set; } = true;
    /// <summary>Winner checkout window, seconds; null = the grant never expires.</summary>
    public int? AdmissionExpirationSeconds { get; set; }
    /// <summary>Maximum number of entries; null = unlimited.</summary>
    public int? Capacity { get; set; }
    /// <summary>Backfill: replace a winner whose grant lapses with the next entrant of the random order.</summary>
    public bool? ContinueSelectingUntilCompleted { get; set; }
    public bool LoyaltyBiasEnabled { get; set; }

    // ---- runtime state ----
    /// <summary>Next <c>entrantNumber</c> to hand out (numbers are never reused, even after a leave).</summary>
    public int NextEntrantNumber { get; set; } = 1;
    /// <summary>Entries currently counted against <see cref="Capacity"/> (ENTERED before the draw).</summary>
    public int ActiveEntries { get; set; }
    /// <summary>Winners were selected (by the <c>draw.run</c> job or the QA helper).</summary>
    public bool Drawn { get; set; }
    public DateTimeOffset? DrawnAt { get; set; }
    public int TotalEntrants { get; set; }
    /// <summary>Winners selected so far, backfills included (the next <c>winnerPosition</c> is this + 1).</summary>
    public int WinnersSelected { get; set; }
    /// <summary>Backfill cursor: the next rank (1-based, in the random order) to look at for a replacement.</summary>
    public int NextBackfillRank { get; set; }

    /// <summary>Like <see cref="DistributionBase.TimingState"/>, but entries also end at <see cref="DrawAt"/> or once drawn.</summary>
    public override string TimingState(DateTimeOffset now)
    {
        var s = base.TimingState(now);
        if (s == "active" && (Drawn || now >= DrawAt)) return "ended";
        return s;
    }

    /// <summary>When entries stop: the earlier of <c>closeAt</c> and <c>drawAt</c>.</summary>
    public DateTimeOffset EntriesCloseAt => CloseAt is { } c && c < DrawAt ? c : DrawAt;

    /// <summary>A draw without <c>closeAt</c> closes (emits <c>distribution.closed</c>) at <c>drawAt</c>.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public override DateTimeOffset? LifecycleCloseAt => CloseAt ?? DrawAt;
}

/// <summary>
/// One consumer's entry in a draw. Id = <c>{drawId}:{consumerId}</c>. <see cref="Status"/> is the DRAWSTATUS value:
/// <c>ENTERED</c>, <c>WON</c>, <c>COMPLETED</c>, <c>DENIED</c> (no entry = <c>NOT_ENTERED</c>).
/// </summary>
public sealed class DrawEntry : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public string DrawId { get; set; } = "";
    public string ConsumerId { get; set; } = "";
    public string Status { get; set; } = "ENTERED";
    /// <summary>1, 2, 3 … in entry order; null for an entry refused at the door (capacity) or denied before entering.</summary>
    public int? EntrantNumber { get; set; }
    public DateTimeOffset? EnteredAt { get; set; }
    /// <summary>Place in the draw's random order (1-based), set when winners are selected.</summary>
    public int? Rank { get; set; }
    public int? WinnerPosition { get; set; }
    public DateTimeOffset? WonAt { get; set; }
    public string? GrantId { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
    public string? Reason { get; set; }
    public DateTimeOffset? DeniedAt { get; set; }
    public string? Fingerprint { get; set; }
}
