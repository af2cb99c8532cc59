using Fanfare.Emulator.Distributions;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Distributions.Auctions;

/// <summary>
/// An auction (behavior.md §3.5). Admin shape: admin-part1.md <c>Auction</c>; money fields are decimal strings.
/// Bidding runs while the auction is <c>active</c>: from <c>openAt</c> until <c>closeAt</c> (or <c>settleAt</c> when there
/// is no <c>closeAt</c>); settlement at <c>settleAt</c>. Auto-extend moves <c>closeAt</c> (or <c>settleAt</c>) once.
/// Runtime state (highest bid, counters, settlement) lives here too.
/// </summary>
public sealed class AuctionDistribution : DistributionBase
{
    public override string DistributionType => DistributionTypes.Auction;

    public DateTimeOffset SettleAt { get; set; }
    /// <summary><c>english</c> (default) or <c>dutch</c>.</summary>
    public string AuctionType { get; set; } = "english";
    public int? AutoExtendSeconds { get; set; }
    public string? FloorPrice { get; set; }
    public string? MinBidIncrement { get; set; }
    public string? PriceDropAmount { get; set; }
    public int? PriceDropIntervalSeconds { get; set; }
    /// <summary>Units for sale (dutch); english auctions have one winner.</summary>
    public int? Quantity { get; set; }
    public string? ReservePrice { get; set; }
    public string? StartPrice { get; set; }

    // ---- runtime state ----
    public bool AutoExtended { get; set; }
    public string? HighestBidId { get; set; }
    public string? HighestAmount { get; set; }
    public string? HighestConsumerId { get; set; }
    public int TotalBids { get; set; }
    /// <summary>Distinct bidders so far (also the source of anonymous <c>bidderHandle</c>s).</summary>
    public int BidderCount { get; set; }
    /// <summary>Units sold (dutch).</summary>
    public int Sold { get; set; }
    public string? LastSalePrice { get; set; }
    public bool Settled { get; set; }
    public DateTimeOffset? SettledAt { get; set; }
    public string? WinnerConsumerId { get; set; }
    public string? WinningAmount { get; set; }

    public bool IsDutch => AuctionType == "dutch";
    public int Units => Math.Max(1, Quantity ?? 1);

    /// <summary>When bidding stops: <c>closeAt</c>, else <c>settleAt</c> (both already moved by an auto-extension).</summary>
    public DateTimeOffset BiddingEndsAt => CloseAt ?? SettleAt;

    /// <summary>Like <see cref="DistributionBase.TimingState"/>, but bidding also ends at <c>settleAt</c>, on settlement
    /// and (dutch) when sold out.</summary>
    public override string TimingState(DateTimeOffset now)
    {
        var s = base.TimingState(now);
        if (s == "active" && (Settled || now >= BiddingEndsAt || (IsDutch && Sold >= Units))) return "ended";
        return s;
    }
}

/// <summary>One accepted bid. Id = <c>bid_…</c>.</summary>
public sealed class AuctionBid : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public string AuctionId { get; set; } = "";
    public string ConsumerId { get; set; } = "";
    public string Amount { get; set; } = "";
    public DateTimeOffset PlacedAt { get; set; }
    /// <summary>Dutch: this bid bought a unit.</summary>
    public bool Won { get; set; }
}

/// <summary>
/// A consumer in an auction (entered and/or bid). Id = <c>{auctionId}:{consumerId}</c>. <see cref="Outcome"/> is
/// null while the auction runs, then <c>WON</c> or <c>LOST</c>; the live status (<c>WINNING</c>/<c>OUTBID</c>/…) is derived.
/// </summary>
public sealed class AuctionParticipant : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public string AuctionId { get; set; } = "";
    public string ConsumerId { get; set; } = "";
    public DateTimeOffset EnteredAt { get; set; }
    public int BidCount { get; set; }
    public string? LastBidAmount { get; set; }
    public DateTimeOffset? LastBidAt { get; set; }
    /// <summary>1-based order of the first bid (anonymous handle <c>Bidder N</c>); null before the first bid.</summary>
    public int? BidderNumber { get; set; }
    public string? Outcome { get; set; }
    public DateTimeOffset? OutcomeAt { get; set; }
    public string? WonAmount { get; set; }
    public string? GrantId { get; set; }
    public string? Fingerprint { get; set; }
}
