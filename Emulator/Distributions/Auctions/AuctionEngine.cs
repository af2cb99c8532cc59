using System.Text.Json.Nodes;
using Fanfare.Emulator.Consumers;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Distributions.Grants;
using Fanfare.Emulator.Distributions;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Events;
using Fanfare.Emulator.Infrastructure.Ids;
using Fanfare.Emulator.Infrastructure.Scheduling;
using Fanfare.Emulator.Infrastructure.Store;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.Distributions.Auctions;

/// <summary>
/// The auction engine (behavior.md §3.5), on the emulator clock, without HTTP. Every bid is one
/// <see cref="DocumentStore.Transaction{T}"/> (read highest → check → write), so parallel bids never lose an update.
/// <list type="bullet">
/// <item><b>english</b>: the first bid must be ≥ <c>startPrice</c> (when set; otherwise &gt; 0), each later bid &gt; the
/// highest (400 <c>Bid must be higher than current bid</c>) and ≥ highest + <c>minBidIncrement</c> (400 <c>Bid must meet
/// minimum increment</c>). A bid in the final 60 s before the end (<c>closeAt</c>, else <c>settleAt</c>) extends the end
/// once by <c>autoExtendSeconds</c> (the stored <c>closeAt</c>/<c>settleAt</c> move; <c>distribution.updated</c> is
/// recorded). At <c>settleAt</c> (job <c>auction.settle</c>) the highest bidder wins if the bid ≥ <c>reservePrice</c>
/// (a grant valid 24 h, <c>auction.consumer.won</c> with <c>paymentToken</c>); the other bidders lose; no re-offer when
/// the winner's grant lapses. One winner (<c>quantity</c> applies to dutch auctions).</item>
/// <item><b>dutch</b>: the price starts at <c>startPrice</c> at <c>openAt</c> (or creation) and drops by
/// <c>priceDropAmount</c> every <c>priceDropIntervalSeconds</c> down to <c>floorPrice</c>, computed from the clock. A bid
/// (amount optional: the current price) ≥ the current price buys one unit at the current price at once (WON + grant);
/// when all <c>quantity</c> units are sold the auction settles.</item>
/// <item>Live statuses: <c>NOT_BID</c> (no bid), <c>WINNING</c> (highest bid, reserve met or none), <c>BIDDING</c>
/// (highest bid but below the reserve), <c>OUTBID</c>; after settlement <c>WON</c> / <c>LOST</c> (dutch entrants who
/// bought nothing also <c>LOST</c>; english consumers who never bid stay <c>NOT_BID</c>).</item>
/// <item>Guests cannot enter or bid (behavior.md §3.10: guest support for auctions "No"): 401 <c>Authentication required</c>.</item>
/// <item>Per-person order limit (409 DENIAL409 <c>{code:"DISTRIBUTION_ORDER_LIMIT", message, details}</c>) on enter and
/// bid: the consumer already won this auction, or already completed an order (a completed admission grant) in the same
/// sequence.</item>
/// </list>
/// </summary>
public sealed class AuctionEngine(DocumentStore store, IdGenerator ids, ClockResolver clocks, Scheduler scheduler, EventOutbox outbox,
    DistributionLifecycle lifecycle, AdmissionGrants grants, ConsumerDirectory consumers, OrganizationDirectory orgs)
    : IDistributionEngine, IAdminDistributionEngine<AuctionDistribution>
{
    public const string SettleJobKind = "auction.settle";
    public const string NotFound = "Auction not found";
    /// <summary>The winner's payment window (behavior.md §3.9: "auctions e.g. 24 h").</summary>
    public const int WinnerGrantSeconds = 24 * 60 * 60;
    /// <summary>The auto-extend trigger window before the end.</summary>
    public static readonly TimeSpan ExtendWindow = TimeSpan.FromSeconds(60);

    public string Type => DistributionTypes.Auction;
    public string NestedKey => "auctions";
    public string NotFoundError => NotFound;

    // In-memory indexes per auction, rebuilt lazily from the store; guarded by store.Sync.
    private readonly Dictionary<string, List<AuctionBid>> _bids = [];
    private readonly Dictionary<string, List<AuctionParticipant>> _participants = [];

    private DateTimeOffset Now(string orgId) => clocks.For(orgId).GetUtcNow();

    public void ResetCaches()
    {
        lock (store.Sync) { _bids.Clear(); _participants.Clear(); }
    }

    private List<AuctionBid> BidsOf(string auctionId)
    {
        lock (store.Sync)
        {
            if (!_bids.TryGetValue(auctionId, out var list))
                _bids[auctionId] = list = store.Where<AuctionBid>(b => b.AuctionId == auctionId);
            return list;
        }
    }

    private List<AuctionParticipant> ParticipantsOf(string auctionId)
    {
        lock (store.Sync)
        {
            if (!_participants.TryGetValue(auctionId, out var list))
                _participants[auctionId] = list = store.Where<AuctionParticipant>(p => p.AuctionId == auctionId);
            return list;
        }
    }

    private static string ParticipantId(string auctionId, string consumerId) => auctionId + ":" + consumerId;

    public AuctionParticipant? ParticipantOf(string auctionId, string consumerId) => store.Get<AuctionParticipant>(ParticipantId(auctionId, consumerId));

    // ------------------------------------------------------------------ lookup

    public DistributionBase? Find(string organizationId, string id) => Get(organizationId, id);

    public AuctionDistribution? Get(string organizationId, string? id) => store.GetOwned<AuctionDistribution>(organizationId, id);

    /// <summary>The auction or 404 <c>Auction not found</c>.</summary>
    public AuctionDistribution Require(string organizationId, string? id) => Get(organizationId, id) ?? throw ApiErrors.NotFoundError(NotFound);

    public IEnumerable<DistributionBase> ForSequence(string organizationId, string sequenceId) =>
        store.OfOrganization<AuctionDistribution>(organizationId, sequenceId);

    public List<AuctionDistribution> List(string organizationId, string? sequenceId = null) => store.OfOrganization<AuctionDistribution>(organizationId, sequenceId);

    // ------------------------------------------------------------------ admin

    private sealed class Fields
    {
        public string? Name, TimeZone, AuctionType, FloorPrice, MinBidIncrement, PriceDropAmount, ReservePrice, StartPrice;
        public DateTimeOffset? SettleAt, OpenAt, CloseAt;
        public int? AutoExtendSeconds, PriceDropIntervalSeconds, Quantity;
    }

    private static readonly string[] AuctionTypes = ["english", "dutch"];

    private static Fields Read(BodyReader body, bool create)
    {
        var f = new Fields();
        bool Has(string k) => body.Root.ContainsKey(k);
        string? Dec(string k) => Money.Normalize(body.String(k, nullable: true, format: "decimal"));
        if (create || Has("name")) f.Name = body.String("name", required: true, minLength: 1);
        if (create || Has("settleAt")) f.SettleAt = body.DateTime("settleAt", required: true, nullable: false);
        if (Has("auctionType")) f.AuctionType = body.Enum("auctionType", AuctionTypes);
        if (Has("autoExtendSeconds")) f.AutoExtendSeconds = body.Int("autoExtendSeconds", nullable: true, min: 0);
        if (Has("closeAt")) f.CloseAt = body.DateTime("closeAt", nullable: true);
        if (Has("openAt")) f.OpenAt = body.DateTime("openAt", nullable: true);
        if (Has("floorPrice")) f.FloorPrice = Dec("floorPrice");
        if (Has("minBidIncrement")) f.MinBidIncrement = Dec("minBidIncrement");
        if (Has("priceDropAmount")) f.PriceDropAmount = Dec("priceDropAmount");
        if (Has("priceDropIntervalSeconds")) f.PriceDropIntervalSeconds = body.Int("priceDropIntervalSeconds", nullable: true, min: 1);
        if (Has("quantity")) f.Quantity = body.Int("quantity", nullable: true, min: 1);
        if (Has("reservePrice")) f.ReservePrice = Dec("reservePrice");
        if (Has("startPrice")) f.StartPrice = Dec("startPrice");
        if (Has("timeZone")) f.TimeZone = body.String("timeZone", nullable: create, minLength: 1);
        return f;
    }

    /// <summary>Cross-field checks on the merged values.</summary>
    private static void Check(BodyReader body, string type, DateTimeOffset? openAt, DateTimeOffset? closeAt, DateTimeOffset settleAt,
        string? startPrice, string? floorPrice)
    {
        if (closeAt is { } c && c > settleAt)
            body.AddIssue("closeAt", "check", "closeAt at or before settleAt", body.Root["closeAt"], "Invalid value: closeAt must not be after settleAt");
        if (openAt is { } o && o >= (closeAt ?? settleAt))
            body.AddIssue("openAt", "check", "openAt before closeAt/settleAt", body.Root["openAt"], "Invalid value: openAt must be before closeAt and settleAt");
        if (type == "dutch" && startPrice is null)
            body.AddIssue("startPrice", "check", "startPrice for a dutch auction", body.Root["startPrice"], "Invalid value: a dutch auction needs a startPrice");
        if (Money.Parse(floorPrice) is { } fl && Money.Parse(startPrice) is { } st && fl > st)
            body.AddIssue("floorPrice", "check", "floorPrice at most startPrice", body.Root["floorPrice"], "Invalid value: floorPrice must not exceed startPrice");
    }

    /// <summary>Reads a create body for its issues without saving anything (the sequence is unknown or missing); unlike
    /// <see cref="Create"/> it skips the cross-field checks.</summary>
    public void ValidateCreate(Organization org, BodyReader body) => Read(body, create: true);

    /// <summary>
    /// admin-part1.md <c>POST /auctions</c> body (or a nested <c>sequence.auctions[]</c> item): saves the auction and
    /// schedules its settlement unless <paramref name="body"/> collected issues (then nothing is saved; the caller throws).
    /// </summary>
    public AuctionDistribution Create(Organization org, Sequence sequence, BodyReader body, string actor)
    {
        var f = Read(body, create: true);
        var type = f.AuctionType ?? "english";
        if (f.SettleAt is { } settle) Check(body, type, f.OpenAt, f.CloseAt, settle, f.StartPrice, f.FloorPrice);
        var now = Now(org.Id);
        var a = new AuctionDistribution
        {
            OrganizationId = org.Id, SequenceId = sequence.Id, ExperienceId = sequence.ExperienceId, Name = f.Name ?? "",
            TimeZone = f.TimeZone ?? DistributionFields.DefaultTimeZone(store, sequence, org),
            OpenAt = f.OpenAt, CloseAt = f.CloseAt, SettleAt = f.SettleAt ?? now, AuctionType = type,
            AutoExtendSeconds = f.AutoExtendSeconds, FloorPrice = f.FloorPrice, MinBidIncrement = f.MinBidIncrement,
            PriceDropAmount = f.PriceDropAmount, PriceDropIntervalSeconds = f.PriceDropIntervalSeconds, Quantity = f.Quantity,
            ReservePrice = f.ReservePrice, StartPrice = f.StartPrice, CreatedAt = now, CreatedBy = actor,
        };
        if (body.HasIssues) return a;
        return store.Transaction(() =>
        {
            a.Id = ids.NewUuid("auction");
            store.Put(a);
            lifecycle.Track(a);
            ScheduleSettle(a);
            return a;
        });
    }

    DistributionBase IDistributionEngine.Create(Organization org, Sequence sequence, BodyReader body, string actor) =>
        Create(org, sequence, body, actor);

    /// <summary>admin-part1.md <c>PUT /auctions/{id}</c>: partial update; 409 <c>Cannot update closed distribution</c> once settled.</summary>
    public AuctionDistribution Update(AuctionDistribution a, BodyReader body, string actor)
    {
        var f = Read(body, create: false);
        string? Pick(string key, string? value, string? current) => body.Root.ContainsKey(key) ? value : current;
        Check(body, f.AuctionType ?? a.AuctionType, body.Root.ContainsKey("openAt") ? f.OpenAt : a.OpenAt,
            body.Root.ContainsKey("closeAt") ? f.CloseAt : a.CloseAt, f.SettleAt ?? a.SettleAt,
            Pick("startPrice", f.StartPrice, a.StartPrice), Pick("floorPrice", f.FloorPrice, a.FloorPrice));
        body.ThrowIfInvalid();
        return store.Transaction(() =>
        {
            if (a.Settled) throw ApiErrors.Conflict("Cannot update closed distribution", "The auction has been settled.");
            var changes = new FieldChanges(body);
            changes.Set("name", a.Name, f.Name ?? a.Name, v => a.Name = v);
            changes.Set("timeZone", a.TimeZone, f.TimeZone ?? a.TimeZone, v => a.TimeZone = v);
            changes.Set("settleAt", a.SettleAt, f.SettleAt ?? a.SettleAt, v => a.SettleAt = v);
            changes.Set("auctionType", a.AuctionType, f.AuctionType ?? a.AuctionType, v => a.AuctionType = v);
            changes.Set("autoExtendSeconds", a.AutoExtendSeconds, f.AutoExtendSeconds, v => a.AutoExtendSeconds = v);
            changes.Set("closeAt", a.CloseAt, f.CloseAt, v => a.CloseAt = v);
            changes.Set("openAt", a.OpenAt, f.OpenAt, v => a.OpenAt = v);
            changes.Set("floorPrice", a.FloorPrice, f.FloorPrice, v => a.FloorPrice = v);
            changes.Set("minBidIncrement", a.MinBidIncrement, f.MinBidIncrement, v => a.MinBidIncrement = v);
            changes.Set("priceDropAmount", a.PriceDropAmount, f.PriceDropAmount, v => a.PriceDropAmount = v);
            changes.Set("priceDropIntervalSeconds", a.PriceDropIntervalSeconds, f.PriceDropIntervalSeconds, v => a.PriceDropIntervalSeconds = v);
            changes.Set("quantity", a.Quantity, f.Quantity, v => a.Quantity = v);
            changes.Set("reservePrice", a.ReservePrice, f.ReservePrice, v => a.ReservePrice = v);
            changes.Set("startPrice", a.StartPrice, f.StartPrice, v => a.StartPrice = v);
            if (changes.Names.Count > 0)
            {
                a.UpdatedAt = Now(a.OrganizationId);
                a.UpdatedBy = actor;
                store.Put(a);
                ScheduleSettle(a);
            }
            lifecycle.Updated(a, changes.Names);
            return a;
        });
    }

    /// <summary>admin-part1.md <c>DELETE /auctions/{id}</c>: removes the auction, its bids, participants and jobs.</summary>
    public AuctionDistribution Delete(AuctionDistribution a, string actor)
    {
        return store.Transaction(() =>
        {
            foreach (var b in BidsOf(a.Id).ToList()) store.Delete<AuctionBid>(b.Id);
            foreach (var p in ParticipantsOf(a.Id).ToList()) store.Delete<AuctionParticipant>(p.Id);
            _bids.Remove(a.Id);
            _participants.Remove(a.Id);
            scheduler.Cancel(SettleJobKind + ":" + a.Id);
            lifecycle.Untrack(a);
            store.Delete<AuctionDistribution>(a.Id);
            return a;
        });
    }

    private void ScheduleSettle(AuctionDistribution a)
    {
        if (a.Settled) scheduler.Cancel(SettleJobKind + ":" + a.Id);
        else scheduler.Schedule(SettleJobKind + ":" + a.Id, SettleJobKind, a.SettleAt, new JsonObject { ["auctionId"] = a.Id }, a.OrganizationId);
    }

    private static void Config(AuctionDistribution a, JsonObject j)
    {
        j["settleAt"] = Json.Iso(a.SettleAt);
        j["auctionType"] = a.AuctionType;
        j["autoExtendSeconds"] = a.AutoExtendSeconds;
        j["closeAt"] = Json.Iso(a.CloseAt);
        j["floorPrice"] = a.FloorPrice;
        j["minBidIncrement"] = a.MinBidIncrement;
        j["openAt"] = Json.Iso(a.OpenAt);
        j["priceDropAmount"] = a.PriceDropAmount;
        j["priceDropIntervalSeconds"] = a.PriceDropIntervalSeconds;
        j["quantity"] = a.Quantity;
        j["reservePrice"] = a.ReservePrice;
        j["startPrice"] = a.StartPrice;
    }

    /// <summary>admin-part1.md <c>Auction</c>.</summary>
    public JsonObject ToJson(DistributionBase distribution)
    {
        var a = (AuctionDistribution)distribution;
        var j = a.CommonJson();
        Config(a, j);
        return j;
    }

    public JsonObject ToJson(AuctionDistribution a) => ToJson((DistributionBase)a);

    /// <summary>consumer-part2.md <c>Experience</c> <c>sequences[].auctions[]</c>: the admin shape minus audit fields plus the
    /// required <c>currencyCode</c> (the organization's), as <see cref="PublicJson"/> has it.</summary>
    JsonObject IDistributionEngine.NestedConsumerJson(Organization org, DistributionBase distribution)
    {
        var j = IDistributionEngine.WithoutAdminFields(ToJson(distribution));
        j["currencyCode"] = org.CurrencyCode;
        return j;
    }

    /// <summary>consumer-part1.md <c>GET /auctions/{auctionId}</c> (public metadata; <c>currencyCode</c> of the organization).</summary>
    public JsonObject PublicJson(Organization org, AuctionDistribution a)
    {
        var j = new JsonObject { ["id"] = a.Id, ["timeZone"] = a.TimeZone, ["currencyCode"] = org.CurrencyCode };
        Config(a, j);
        j["statusOverride"] = a.StatusOverride;
        j["statusOverrideAt"] = Json.Iso(a.StatusOverrideAt);
        j["statusOverrideBy"] = a.StatusOverrideBy;
        j["teardownStatus"] = a.TeardownStatus;
        return j;
    }

    // ------------------------------------------------------------------ prices

    /// <summary>
    /// Dutch: <c>max(floorPrice, startPrice − priceDropAmount × ⌊elapsed / priceDropIntervalSeconds⌋)</c>, elapsed from
    /// <c>openAt</c> (or creation) to now (frozen at the end of bidding). English: the highest bid, else <c>startPrice</c>, else 0.
    /// </summary>
    public decimal CurrentPrice(AuctionDistribution a, DateTimeOffset now)
    {
        if (!a.IsDutch) return Money.Parse(a.HighestAmount) ?? Money.Parse(a.StartPrice) ?? 0m;
        var start = Money.Parse(a.StartPrice) ?? 0m;
        var floor = Money.Parse(a.FloorPrice) ?? 0m;
        var drop = Money.Parse(a.PriceDropAmount) ?? 0m;
        var origin = a.OpenAt ?? a.CreatedAt;
        if (now > a.BiddingEndsAt) now = a.BiddingEndsAt;
        if (drop <= 0 || a.PriceDropIntervalSeconds is not int interval || interval <= 0 || now <= origin) return start;
        var steps = Math.Floor((decimal)(now - origin).TotalSeconds / interval);
        return Math.Max(floor, start - steps * drop);
    }

    /// <summary>consumer-part1.md <c>GET /auctions/{auctionId}/current-price</c> → <c>{currentPrice, remainingQuantity, auctionEnded}</c>.</summary>
    public JsonObject CurrentPriceJson(AuctionDistribution a)
    {
        lock (store.Sync)
        {
            var now = Now(a.OrganizationId);
            var remaining = a.IsDutch ? Math.Max(0, a.Units - a.Sold) : (a.Settled && a.WinnerConsumerId is not null ? 0 : 1);
            return new JsonObject
            {
                ["currentPrice"] = Money.Format(CurrentPrice(a, now)), ["remainingQuantity"] = remaining,
                ["auctionEnded"] = a.TimingState(now) != "active" && a.TimingState(now) != "upcoming",
            };
        }
    }

    /// <summary>consumer-part1.md <c>GET /auctions/{auctionId}/highest-bid</c> → <c>{amount}</c> (<c>"0.00"</c> before any bid).</summary>
    public JsonObject HighestBidJson(AuctionDistribution a)
    {
        lock (store.Sync) return new JsonObject { ["amount"] = a.HighestAmount ?? Money.Format(0m) };
    }

    // ------------------------------------------------------------------ consumer

    /// <summary>The live status (see the class summary).</summary>
    public string StatusOf(AuctionDistribution a, AuctionParticipant? p)
    {
        if (p?.Outcome is { } o) return o;
        if (p is null || p.BidCount == 0) return "NOT_BID";
        if (a.IsDutch) return "BIDDING";
        if (a.HighestConsumerId != p.ConsumerId) return "OUTBID";
        return Money.Parse(a.ReservePrice) is { } reserve && Money.Parse(a.HighestAmount) < reserve ? "BIDDING" : "WINNING";
    }

    /// <summary>
    /// consumer-part1.md bid/status body: <c>{status, admissionGrant? (+ paymentToken, the older pages' name), bidCount
    /// (own bids), lastBidAmount (own, null before the first), winningBidAmount? (current highest, or the winning price)}</c>.
    /// </summary>
    public JsonObject StatusJson(AuctionDistribution a, AuctionParticipant? p)
    {
        lock (store.Sync)
        {
            var status = StatusOf(a, p);
            var j = new JsonObject { ["status"] = status };
            if (status == "WON" && store.Get<AdmissionGrant>(p!.GrantId) is { } g)
            {
                j["admissionGrant"] = g.Token;
                j["paymentToken"] = g.Token;
            }
            j["bidCount"] = p?.BidCount ?? 0;
            j["lastBidAmount"] = p?.LastBidAmount;
            var winning = status == "WON" ? p!.WonAmount : a.IsDutch ? a.LastSalePrice : a.Settled ? a.WinningAmount : a.HighestAmount;
            if (winning is not null) j["winningBidAmount"] = winning;
            return j;
        }
    }

    public JsonObject Status(AuctionDistribution a, string consumerId) => StatusJson(a, ParticipantOf(a.Id, consumerId));

    private static void EnsureOpen(AuctionDistribution a, DateTimeOffset now)
    {
        switch (a.TimingState(now))
        {
            case "upcoming":
                throw new ApiException(423, "Auction is not open yet", null, null,
                    new Dictionary<string, string> { ["Retry-After"] = Json.Iso(a.OpenAt ?? now) });
            case "active": return;
            default: throw ApiErrors.BadRequest("Auction is closed");
        }
    }

    private static void EnsureNotGuest(bool isGuest)
    {
        if (isGuest) throw ApiErrors.Unauthorized(ApiErrors.AuthenticationRequired, "Auctions require a signed-in (verified) consumer.");
    }

    /// <summary>The DENIAL409 of consumer-part1.md when the per-person order limit applies (see the class summary).</summary>
    private void CheckOrderLimit(AuctionDistribution a, string consumerId, AuctionParticipant? p, bool deep)
    {
        var reached = p?.Outcome == "WON" || (deep && store.First<AdmissionGrant>(g =>
            g.OrganizationId == a.OrganizationId && g.ConsumerId == consumerId && g.SequenceId == a.SequenceId && g.Status == "completed") is not null);
        if (!reached) return;
        const string message = "Entry denied: per-person order limit reached for this sequence.";
        throw new ApiException(409, "DISTRIBUTION_ORDER_LIMIT", message, new JsonObject
        {
            ["code"] = "DISTRIBUTION_ORDER_LIMIT", ["message"] = message,
            ["details"] = new JsonObject { ["limit"] = 1, ["distributionId"] = a.Id, ["sequenceId"] = a.SequenceId },
        });
    }

    private AuctionParticipant Participant(Organization org, AuctionDistribution a, string consumerId, AuctionParticipant? existing, DateTimeOffset now)
    {
        if (existing is not null) return existing;
        var index = ParticipantsOf(a.Id); // built before the Put, so the new participant is added exactly once
        var p = new AuctionParticipant
        {
            Id = ParticipantId(a.Id, consumerId), OrganizationId = org.Id, AuctionId = a.Id, ConsumerId = consumerId, EnteredAt = now,
        };
        store.Put(p);
        index.Add(p);
        return p;
    }

    /// <summary>
    /// consumer-part1.md <c>POST /auctions/{auctionId}/enter</c> → <c>{success:true}</c>; re-entry answers the same.
    /// 401 for guests, 409 DENIAL409 (order limit), 423 / 400 outside the bidding window.
    /// </summary>
    public JsonObject Enter(Organization org, AuctionDistribution a, string consumerId, bool isGuest, string? fingerprint)
    {
        EnsureNotGuest(isGuest);
        return store.Transaction(() =>
        {
            var now = Now(org.Id);
            var existing = ParticipantOf(a.Id, consumerId);
            CheckOrderLimit(a, consumerId, existing, deep: true);
            if (existing is not null) return new JsonObject { ["success"] = true };
            EnsureOpen(a, now);
            var p = Participant(org, a, consumerId, null, now);
            if (!string.IsNullOrEmpty(fingerprint)) { p.Fingerprint = fingerprint; store.Put(p); }
            return new JsonObject { ["success"] = true };
        });
    }

    /// <summary>
    /// consumer-part1.md <c>POST /auctions/{auctionId}/bid</c> <c>{amount}</c> (decimal string; optional for dutch = the
    /// current price) → the status body. Records <c>auction.bid.placed</c> (and <c>auction.bid.outbid</c> for the previous
    /// highest bidder; dutch: <c>auction.consumer.won</c>).
    /// </summary>
    public JsonObject Bid(Organization org, AuctionDistribution a, string consumerId, bool isGuest, string? amountText, string? fingerprint)
    {
        EnsureNotGuest(isGuest);
        var offered = Money.Parse(amountText);
        if (!a.IsDutch && offered is null)
            throw Validation.Single("amount", "string", "string", "undefined", "Invalid type: Expected string but received undefined", "schema");
        return store.Transaction(() =>
        {
            var now = Now(org.Id);
            var existing = ParticipantOf(a.Id, consumerId);
            CheckOrderLimit(a, consumerId, existing, deep: existing is null || existing.BidCount == 0);
            EnsureOpen(a, now);
            return a.IsDutch ? BidDutch(org, a, consumerId, existing, offered, fingerprint, now)
                             : BidEnglish(org, a, consumerId, existing, offered!.Value, fingerprint, now);
        });
    }

    private AuctionBid Record(Organization org, AuctionDistribution a, AuctionParticipant p, decimal amount, string? fingerprint, DateTimeOffset now)
    {
        var index = BidsOf(a.Id); // built before the Put, so the new bid is added exactly once
        var bid = new AuctionBid
        {
            Id = ids.NewPrefixed("bid_"), OrganizationId = org.Id, AuctionId = a.Id, ConsumerId = p.ConsumerId,
            Amount = Money.Format(amount), PlacedAt = now,
        };
        store.Put(bid);
        index.Add(bid);
        if (p.BidderNumber is null) p.BidderNumber = ++a.BidderCount;
        p.BidCount++;
        p.LastBidAmount = bid.Amount;
        p.LastBidAt = now;
        if (!string.IsNullOrEmpty(fingerprint)) p.Fingerprint = fingerprint;
        a.TotalBids++;
        return bid;
    }

    private JsonObject Placed(Organization org, AuctionDistribution a, AuctionBid bid, bool highest) => new()
    {
        ["auctionId"] = a.Id, ["sequenceId"] = a.SequenceId, ["experienceId"] = a.ExperienceId, ["consumerId"] = bid.ConsumerId,
        ["bidId"] = bid.Id, ["bidAmount"] = bid.Amount, ["currencyCode"] = org.CurrencyCode, ["bidTime"] = Json.Iso(bid.PlacedAt),
        ["isHighestBid"] = highest,
    };

    private JsonObject BidEnglish(Organization org, AuctionDistribution a, string consumerId, AuctionParticipant? existing, decimal amount,
        string? fingerprint, DateTimeOffset now)
    {
        var highest = Money.Parse(a.HighestAmount);
        if (highest is null)
        {
            var start = Money.Parse(a.StartPrice);
            if (start is { } s && amount < s)
                throw ApiErrors.BadRequest("Bid must be higher than current bid", $"The first bid must be at least the starting price of {Money.Format(s)}.");
            if (amount <= 0) throw ApiErrors.BadRequest("Bid must be higher than current bid", "A bid must be greater than 0.");
        }
        else
        {
            if (amount <= highest) throw ApiErrors.BadRequest("Bid must be higher than current bid", $"The current bid is {Money.Format(highest.Value)}.");
            if (Money.Parse(a.MinBidIncrement) is { } inc && inc > 0 && amount < highest + inc)
                throw ApiErrors.BadRequest("Bid must meet minimum increment", $"The next bid must be at least {Money.Format(highest.Value + inc)}.");
        }
        var p = Participant(org, a, consumerId, existing, now);
        var bid = Record(org, a, p, amount, fingerprint, now);
        var previousConsumer = a.HighestConsumerId;
        var previousAmount = a.HighestAmount;
        a.HighestBidId = bid.Id; a.HighestAmount = bid.Amount; a.HighestConsumerId = consumerId;
        store.Put(p);
        store.Put(a);
        outbox.Record(org.Id, "auction.bid.placed", Placed(org, a, bid, true));
        if (previousConsumer is not null && previousConsumer != consumerId)
            outbox.Record(org.Id, "auction.bid.outbid", new JsonObject
            {
                ["auctionId"] = a.Id, ["sequenceId"] = a.SequenceId, ["experienceId"] = a.ExperienceId, ["consumerId"] = previousConsumer,
                ["outbidAt"] = Json.Iso(now), ["previousBidAmount"] = previousAmount, ["newHighBidAmount"] = bid.Amount,
            });
        MaybeExtend(a, now);
        return StatusJson(a, p);
    }

    /// <summary>Auto-extend: once, for a bid in the final 60 s before the end.</summary>
    private void MaybeExtend(AuctionDistribution a, DateTimeOffset now)
    {
        if (a.AutoExtendSeconds is not int ext || ext <= 0 || a.AutoExtended || a.BiddingEndsAt - now > ExtendWindow) return;
        a.AutoExtended = true;
        var changed = new List<string>();
        if (a.CloseAt is { } close)
        {
            a.CloseAt = close.AddSeconds(ext);
            changed.Add("closeAt");
            if (a.SettleAt < a.CloseAt) { a.SettleAt = a.CloseAt.Value; changed.Add("settleAt"); }
        }
        else
        {
            a.SettleAt = a.SettleAt.AddSeconds(ext);
            changed.Add("settleAt");
        }
        store.Put(a);
        ScheduleSettle(a);
        lifecycle.Updated(a, changed);
    }

    private JsonObject BidDutch(Organization org, AuctionDistribution a, string consumerId, AuctionParticipant? existing, decimal? offered,
        string? fingerprint, DateTimeOffset now)
    {
        var price = CurrentPrice(a, now);
        var amount = offered ?? price;
        if (amount < price)
            throw ApiErrors.BadRequest("Bid must be higher than current bid", $"The current price is {Money.Format(price)}.");
        var p = Participant(org, a, consumerId, existing, now);
        var bid = Record(org, a, p, amount, fingerprint, now);
        bid.Won = true;
        store.Put(bid);
        a.Sold++;
        a.LastSalePrice = Money.Format(price);
        a.HighestBidId = bid.Id; a.HighestAmount = bid.Amount; a.HighestConsumerId = consumerId;
        a.WinnerConsumerId ??= consumerId;
        a.WinningAmount = a.LastSalePrice;
        store.Put(a);
        outbox.Record(org.Id, "auction.bid.placed", Placed(org, a, bid, true));
        Award(org, a, p, a.LastSalePrice, now);
        if (a.Sold >= a.Units) Settle(a);
        return StatusJson(a, p);
    }

    private void Award(Organization org, AuctionDistribution a, AuctionParticipant p, string amount, DateTimeOffset now)
    {
        var grant = grants.Issue(org, a, p.ConsumerId, now.AddSeconds(WinnerGrantSeconds), null, p.Fingerprint);
        p.Outcome = "WON"; p.OutcomeAt = now; p.WonAmount = amount; p.GrantId = grant.Id;
        store.Put(p);
        outbox.Record(org.Id, "auction.consumer.won", new JsonObject
        {
            ["auctionId"] = a.Id, ["sequenceId"] = a.SequenceId, ["experienceId"] = a.ExperienceId, ["consumerId"] = p.ConsumerId,
            ["wonAt"] = Json.Iso(now), ["winningBidAmount"] = amount, ["currencyCode"] = org.CurrencyCode, ["paymentToken"] = grant.Token,
        });
    }

    // ------------------------------------------------------------------ settlement

    /// <summary>
    /// Settles (job <c>auction.settle</c> at <c>settleAt</c>, or <c>POST /_emulator/auctions/{id}/settle</c>); idempotent.
    /// Returns <c>{auctionId, settled, settledAt, totalBids, uniqueBidders, winningBidAmount, winnerId}</c>.
    /// </summary>
    public JsonObject Settle(AuctionDistribution a)
    {
        return store.Transaction(() =>
        {
            if (!a.Settled && !a.Archived && store.Get<AuctionDistribution>(a.Id) is not null && orgs.ById(a.OrganizationId) is { } org)
            {
                var now = Now(a.OrganizationId);
                a.Settled = true;
                a.SettledAt = now;
                var parts = ParticipantsOf(a.Id);
                if (!a.IsDutch && a.HighestConsumerId is { } top && ParticipantOf(a.Id, top) is { } leader &&
                    (Money.Parse(a.ReservePrice) is not { } reserve || Money.Parse(a.HighestAmount) >= reserve))
                {
                    a.WinnerConsumerId = top;
                    a.WinningAmount = a.HighestAmount;
                    Award(org, a, leader, a.HighestAmount!, now);
                }
                foreach (var p in parts)
                    if (p.Outcome is null && (a.IsDutch || p.BidCount > 0))
                    {
                        p.Outcome = "LOST"; p.OutcomeAt = now;
                        store.Put(p);
                    }
                store.Put(a);
                scheduler.Cancel(SettleJobKind + ":" + a.Id);
                outbox.Record(a.OrganizationId, "auction.settled", new JsonObject
                {
                    ["auctionId"] = a.Id, ["sequenceId"] = a.SequenceId, ["experienceId"] = a.ExperienceId, ["settledAt"] = Json.Iso(now),
                    ["totalBids"] = a.TotalBids, ["uniqueBidders"] = a.BidderCount, ["winningBidAmount"] = a.WinningAmount,
                    ["winnerId"] = a.WinnerConsumerId,
                });
            }
            return new JsonObject
            {
                ["auctionId"] = a.Id, ["settled"] = a.Settled, ["settledAt"] = Json.Iso(a.SettledAt), ["totalBids"] = a.TotalBids,
                ["uniqueBidders"] = a.BidderCount, ["winningBidAmount"] = a.WinningAmount, ["winnerId"] = a.WinnerConsumerId,
            };
        });
    }

    // ------------------------------------------------------------------ bid lists

    private static JsonObject BidJson(AuctionDistribution a, AuctionBid b, AuctionParticipant? p, bool withConsumer)
    {
        var j = new JsonObject
        {
            ["isHighest"] = a.IsDutch ? b.Won : b.Id == a.HighestBidId, ["amount"] = b.Amount, ["timestamp"] = Json.Iso(b.PlacedAt),
        };
        if (p?.BidderNumber is int n) j["bidderHandle"] = "Bidder " + n;
        if (withConsumer) j["consumerId"] = b.ConsumerId;
        return j;
    }

    /// <summary>
    /// consumer-part1.md <c>GET /auctions/{auctionId}/bids</c>: newest first, at most <paramref name="limit"/>; bidders are
    /// anonymous (<c>bidderHandle</c> "Bidder N"); <c>consumerId</c> only for <paramref name="revealConsumerIds"/> (secret
    /// key) or on the caller's own bids (<paramref name="self"/>).
    /// </summary>
    public JsonArray Bids(AuctionDistribution a, int limit, bool revealConsumerIds, string? self)
    {
        lock (store.Sync)
        {
            var list = BidsOf(a.Id);
            var arr = new JsonArray();
            for (int i = list.Count - 1; i >= 0 && arr.Count < limit; i--)
            {
                var b = list[i];
                arr.Add(BidJson(a, b, ParticipantOf(a.Id, b.ConsumerId), revealConsumerIds || b.ConsumerId == self));
            }
            return arr;
        }
    }

    /// <summary>consumer-part1.md <c>GET /auctions/{auctionId}/bids/history</c>: the consumer's own bids, newest first.</summary>
    public JsonArray History(AuctionDistribution a, string consumerId, int limit)
    {
        lock (store.Sync)
        {
            var p = ParticipantOf(a.Id, consumerId);
            var arr = new JsonArray();
            if (p is null) return arr;
            var list = BidsOf(a.Id);
            for (int i = list.Count - 1; i >= 0 && arr.Count < limit; i--)
                if (list[i].ConsumerId == consumerId) arr.Add(BidJson(a, list[i], p, true));
            return arr;
        }
    }

    // ------------------------------------------------------------------ grants, journeys, QA

    /// <summary>No re-offer: a lapsed winner's grant only changes the journey (ended / expired).</summary>
    internal void OnGrantExpired(AdmissionGrant grant) { }

    internal void OnGrantCompleted(AdmissionGrant grant) { }

    private JsonObject ConsumerJson(AuctionDistribution a, AuctionParticipant? p)
    {
        var c = new JsonObject { ["status"] = StatusOf(a, p).ToLowerInvariant(), ["distributionId"] = a.Id };
        if (a.HighestAmount is { } h) c["highestBid"] = h;
        if (p is null) return c;
        c["id"] = p.Id;
        c["enteredAt"] = Json.Iso(p.EnteredAt);
        if (p.LastBidAmount is { } last) c["currentBid"] = last;
        if (p.Outcome == "WON" && store.Get<AdmissionGrant>(p.GrantId) is { } g)
        {
            c["admissionGrant"] = g.Token;
            c["grantedAt"] = Json.Iso(g.AdmittedAt);
        }
        return c;
    }

    private static JsonObject Outcome(AuctionDistribution a, string type, DateTimeOffset? at)
    {
        var o = new JsonObject { ["type"] = type };
        if (at is { } t) o["at"] = Json.Iso(t);
        o["distributionId"] = a.Id;
        o["distributionType"] = DistributionTypes.Auction;
        return o;
    }

    /// <summary>
    /// Journey view (consumer-part1.md <c>GET /consumers/me</c>): <c>scheduled</c> before <c>openAt</c>; <c>enterable</c>
    /// (not_bid) while open; <c>participating</c> once entered/bidding; <c>settling</c> for a bidder between the end of bidding
    /// and settlement; <c>granted</c> (won, grant usable); <c>ended</c> with outcome <c>completed</c>, <c>expired</c>,
    /// <c>lost</c>, or <c>closed</c>.
    /// </summary>
    public Participation View(DistributionBase distribution, string consumerId)
    {
        var a = (AuctionDistribution)distribution;
        lock (store.Sync)
        {
            var now = Now(a.OrganizationId);
            var state = a.TimingState(now);
            var p = ParticipantOf(a.Id, consumerId);
            var c = ConsumerJson(a, p);
            if (p?.Outcome == "WON")
            {
                var g = store.Get<AdmissionGrant>(p.GrantId);
                if (g is not null && g.IsUsable(now)) return new Participation("granted", c, g.ToGrantJson());
                if (g?.Status == "completed") return new Participation("ended", c, Outcome: Outcome(a, "completed", g.CompletedAt));
                return new Participation("ended", c, Outcome: Outcome(a, "expired", g?.ExpiresAt));
            }
            if (p?.Outcome == "LOST") return new Participation("ended", c, Outcome: Outcome(a, "lost", p.OutcomeAt));
            if (state == "upcoming") return new Participation("scheduled", null);
            if (state == "active") return new Participation(p is null ? "enterable" : "participating", c);
            if (!a.Settled && p is { BidCount: > 0 }) return new Participation("settling", c);
            return new Participation("ended", c, Outcome: Outcome(a, "closed", a.SettledAt ?? a.BiddingEndsAt));
        }
    }

    /// <summary><c>GET /_emulator/distributions/{id}/participants</c>.</summary>
    public IReadOnlyList<JsonObject> Participants(DistributionBase distribution)
    {
        var a = (AuctionDistribution)distribution;
        lock (store.Sync)
        {
            return ParticipantsOf(a.Id).Select(p =>
            {
                var j = new JsonObject
                {
                    ["consumerId"] = p.ConsumerId, ["status"] = StatusOf(a, p), ["enteredAt"] = Json.Iso(p.EnteredAt),
                    ["bidCount"] = p.BidCount, ["lastBidAmount"] = p.LastBidAmount,
                };
                if (p.WonAmount is not null) j["wonAmount"] = p.WonAmount;
                if (p.Outcome == "WON" && store.Get<AdmissionGrant>(p.GrantId) is { } g) j["admissionGrant"] = g.Token;
                return j;
            }).ToList();
        }
    }

    /// <summary>
    /// <c>POST /_emulator/distributions/{id}/simulate</c>: N new (non-guest) consumers join. English: each places one bid
    /// at the lowest acceptable amount (startPrice, or highest + minBidIncrement, or + 1.00 without an increment), so the
    /// price climbs. Dutch: each only enters (nobody buys).
    /// </summary>
    public IReadOnlyList<string> Simulate(Organization org, DistributionBase distribution, int count)
    {
        var a = (AuctionDistribution)distribution;
        return store.Transaction(() =>
        {
            EnsureOpen(a, Now(org.Id));
            var list = new List<string>(count);
            for (int i = 0; i < count; i++)
            {
                var c = consumers.Create(org.Id, "simulated");
                if (a.IsDutch) Enter(org, a, c.Id, false, null);
                else
                {
                    var next = Money.Parse(a.HighestAmount) is { } h
                        ? h + (Money.Parse(a.MinBidIncrement) is { } inc && inc > 0 ? inc : 1m)
                        : Money.Parse(a.StartPrice) is { } s && s > 0 ? s : 1m;
                    Bid(org, a, c.Id, false, Money.Format(next), null);
                }
                list.Add(c.Id);
            }
            return (IReadOnlyList<string>)list;
        });
    }
}

/// <summary>Tells the <see cref="AuctionEngine"/> about completed and lapsed auction grants (resolved lazily: no DI cycle).</summary>
public sealed class AuctionGrantListener(IServiceProvider services) : IGrantListener
{
    public string DistributionType => DistributionTypes.Auction;
    public void OnCompleted(AdmissionGrant grant) => services.GetRequiredService<AuctionEngine>().OnGrantCompleted(grant);
    public void OnExpired(AdmissionGrant grant) => services.GetRequiredService<AuctionEngine>().OnGrantExpired(grant);
}

/// <summary>Scheduled job <c>auction.settle</c>: settles at <c>settleAt</c>.</summary>
public sealed class AuctionSettleJob(IServiceProvider services) : IJobHandler
{
    public string Kind => AuctionEngine.SettleJobKind;
    public Task RunAsync(ScheduledJob job, CancellationToken cancellationToken)
    {
        var engine = services.GetRequiredService<AuctionEngine>();
        if (engine.Get(job.OrganizationId ?? "", job.Payload?["auctionId"]?.GetValue<string>()) is { } a) engine.Settle(a);
        return Task.CompletedTask;
    }
}
