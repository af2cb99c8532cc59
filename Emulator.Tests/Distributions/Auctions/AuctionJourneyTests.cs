using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Fanfare.Emulator.Distributions;
using Fanfare.Emulator.Tests.Distributions.Draws;
using Fanfare.Emulator.Tests.Infrastructure;
using static Fanfare.Emulator.Tests.Infrastructure.HttpClientExtensions;

namespace Fanfare.Emulator.Tests.Distributions.Auctions;

/// <summary>Auction journeys over HTTP with the clock frozen at <see cref="DaKit.T0"/> and moved.</summary>
public sealed class AuctionJourneyTests(BareEmulatorServer emu) : IClassFixture<BareEmulatorServer>
{
    private static readonly DateTimeOffset T0 = DaKit.T0;

    private async Task<string> CreateAsync(OrgKeys org, JsonObject body)
    {
        body["name"] ??= "Signed jersey";
        body["settleAt"] ??= DaKit.Iso(T0.AddMinutes(30));
        return (await DaKit.CreateAsync(emu, org, "/auctions", body))["id"]!.GetValue<string>();
    }

    private Task<ApiResponse> Bid(OrgKeys org, string id, string token, string? amount)
    {
        var body = new JsonObject();
        if (amount is not null) body["amount"] = amount;
        return emu.Consumer.PostJsonAsync($"/auctions/{id}/bid", body, Pk(org.PublishableKey, token));
    }

    private async Task<JsonNode> Status(OrgKeys org, string id, string token) =>
        (await emu.Consumer.GetAsync($"/auctions/{id}/status", Pk(org.PublishableKey, token))).EnsureStatus(200).Json!;

    private static void AssertError(ApiResponse r, int status, string error)
    {
        r.EnsureStatus(status);
        Assert.Equal(error, r["error"].GetValue<string>());
    }

    [Trait("Category", "InProcess")]
    [Fact]
    public async Task English_bidding_auto_extend_settle_validate_complete()
    {
        var org = await DaKit.SetUpAsync(emu);
        var id = await CreateAsync(org, new JsonObject
        {
            ["startPrice"] = "100.00", ["minBidIncrement"] = "10.00", ["reservePrice"] = "150", ["autoExtendSeconds"] = 120,
        });
        var a = await DaKit.VerifiedAsync(emu, org.PublishableKey, "ann@example.test");
        var b = await DaKit.VerifiedAsync(emu, org.PublishableKey, "bob@example.test");
        var c = await DaKit.VerifiedAsync(emu, org.PublishableKey, "cat@example.test");

        var notBid = await Status(org, id, a.AccessToken);
        Assert.Equal("NOT_BID", notBid["status"]!.GetValue<string>());
        Assert.True(notBid.AsObject().ContainsKey("lastBidAmount") && notBid["lastBidAmount"] is null);
        Assert.Equal("{\"success\":true}", (await emu.Consumer.PostJsonAsync($"/auctions/{id}/enter", null, Pk(org.PublishableKey, a.AccessToken))).EnsureStatus(200).Text);

        AssertError(await Bid(org, id, a.AccessToken, "90.00"), 400, "Bid must be higher than current bid");
        var first = (await Bid(org, id, a.AccessToken, "100")).EnsureStatus(200);
        Assert.Equal("BIDDING", first["status"].GetValue<string>()); // highest, but below the reserve
        Assert.Equal("100.00", first["lastBidAmount"].GetValue<string>());
        Assert.Equal(1, first["bidCount"].GetValue<int>());
        AssertError(await Bid(org, id, b.AccessToken, "100.00"), 400, "Bid must be higher than current bid");
        AssertError(await Bid(org, id, b.AccessToken, "105.00"), 400, "Bid must meet minimum increment");
        Assert.Equal("BIDDING", (await Bid(org, id, b.AccessToken, "110.00")).EnsureStatus(200)["status"].GetValue<string>());
        Assert.Equal("OUTBID", (await Status(org, id, a.AccessToken))["status"]!.GetValue<string>());
        var cBid = (await Bid(org, id, c.AccessToken, "160.00")).EnsureStatus(200);
        Assert.Equal("WINNING", cBid["status"].GetValue<string>());
        Assert.Equal("160.00", cBid["winningBidAmount"].GetValue<string>());
        Assert.Equal("{\"amount\":\"160.00\"}", (await emu.Consumer.GetAsync($"/auctions/{id}/highest-bid", Pk(org.PublishableKey))).EnsureStatus(200).Text);

        var bids = (await emu.Consumer.GetAsync($"/auctions/{id}/bids?organizationId={org.Id}&limit=10", null)).EnsureStatus(200).Json!.AsArray();
        Assert.Equal(["160.00", "110.00", "100.00"], bids.Select(x => x!["amount"]!.GetValue<string>()).ToArray());
        Assert.Equal([true, false, false], bids.Select(x => x!["isHighest"]!.GetValue<bool>()).ToArray());
        Assert.Equal(["Bidder 3", "Bidder 2", "Bidder 1"], bids.Select(x => x!["bidderHandle"]!.GetValue<string>()).ToArray());
        Assert.All(bids, x => Assert.Null(x!["consumerId"])); // anonymous without the secret key
        var withIds = (await emu.Consumer.GetAsync($"/auctions/{id}/bids", Sk(org.SecretKey))).EnsureStatus(200).Json!.AsArray();
        Assert.Equal(c.ConsumerId, withIds[0]!["consumerId"]!.GetValue<string>());
        var history = (await emu.Consumer.GetAsync($"/auctions/{id}/bids/history?limit=5", Pk(org.PublishableKey, a.AccessToken))).EnsureStatus(200).Json!.AsArray();
        Assert.Equal("100.00", Assert.Single(history)!["amount"]!.GetValue<string>());

        // A bid in the last 60 s extends the end once by autoExtendSeconds (settleAt T0+30m → T0+32m).
        await emu.AdvanceClockAsync(29 * 60 + 30);
        (await Bid(org, id, a.AccessToken, "170.00")).EnsureStatus(200);
        var meta = (await emu.Consumer.GetAsync($"/auctions/{id}", Pk(org.PublishableKey))).EnsureStatus(200);
        Assert.Equal(DaKit.Iso(T0.AddMinutes(32)), meta["settleAt"].GetValue<string>());
        Assert.Equal("USD", meta["currencyCode"].GetValue<string>());
        Assert.Equal(["settleAt"], DaKit.Events(emu, "distribution.updated").Single().Data["changedFields"]!.AsArray().Select(x => x!.GetValue<string>()).ToArray());
        // Still open at the old end; a second late bid does not extend again.
        await emu.AdvanceClockAsync(90);
        (await Bid(org, id, c.AccessToken, "180.00")).EnsureStatus(200);
        meta = (await emu.Consumer.GetAsync($"/auctions/{id}", Pk(org.PublishableKey))).EnsureStatus(200);
        Assert.Equal(DaKit.Iso(T0.AddMinutes(32)), meta["settleAt"].GetValue<string>());

        // Settlement at the (extended) settleAt: the highest bidder wins.
        await emu.AdvanceClockAsync(59);
        Assert.Equal("WINNING", (await Status(org, id, c.AccessToken))["status"]!.GetValue<string>());
        await emu.AdvanceClockAsync(1);
        var won = await Status(org, id, c.AccessToken);
        Assert.Equal("WON", won["status"]!.GetValue<string>());
        var grant = won["admissionGrant"]!.GetValue<string>();
        Assert.StartsWith("eyJ", grant);
        Assert.Equal("180.00", won["winningBidAmount"]!.GetValue<string>());
        Assert.Equal(2, won["bidCount"]!.GetValue<int>());
        Assert.Equal("LOST", (await Status(org, id, a.AccessToken))["status"]!.GetValue<string>());
        Assert.Equal("LOST", (await Status(org, id, b.AccessToken))["status"]!.GetValue<string>());
        AssertError(await Bid(org, id, a.AccessToken, "500.00"), 400, "Auction is closed");

        Assert.Equal("true", (await DaKit.Validate(emu, org, $"/auctions/{id}/validate", c.ConsumerId, grant)).EnsureStatus(200).Text);
        Assert.Equal("false", (await DaKit.Validate(emu, org, $"/auctions/{id}/validate", a.ConsumerId, grant)).EnsureStatus(200).Text);
        (await emu.Consumer.PostJsonAsync($"/auctions/{id}/complete", new JsonObject { ["consumerId"] = c.ConsumerId }, Sk(org.SecretKey))).EnsureStatus(200);
        Assert.Equal("false", (await DaKit.Validate(emu, org, $"/auctions/{id}/validate", c.ConsumerId, grant)).Text);

        // The per-person order limit: the winner cannot enter again.
        var limit = await emu.Consumer.PostJsonAsync($"/auctions/{id}/enter", null, Pk(org.PublishableKey, c.AccessToken));
        limit.EnsureStatus(409);
        Assert.Equal("DISTRIBUTION_ORDER_LIMIT", limit["code"].GetValue<string>());
        Assert.Null(limit.Json!["error"]);

        var registry = emu.Services.GetRequiredService<DistributionRegistry>();
        var hit = registry.Find(org.Id, id)!.Value;
        var view = hit.Engine.View(hit.Distribution, c.ConsumerId);
        Assert.Equal("ended", view.Phase);
        Assert.Equal("completed", view.Outcome!["type"]!.GetValue<string>());
        Assert.Equal("lost", hit.Engine.View(hit.Distribution, a.ConsumerId).Outcome!["type"]!.GetValue<string>());

        // Events.
        var placed = DaKit.Events(emu, "auction.bid.placed");
        Assert.Equal(5, placed.Count);
        Assert.Equal("100.00", placed[0].Data["bidAmount"]!.GetValue<string>());
        Assert.Equal("USD", placed[0].Data["currencyCode"]!.GetValue<string>());
        Assert.True(placed[0].Data["isHighestBid"]!.GetValue<bool>());
        var outbid = DaKit.Events(emu, "auction.bid.outbid");
        Assert.Equal(4, outbid.Count);
        Assert.Equal(a.ConsumerId, outbid[0].Data["consumerId"]!.GetValue<string>());
        Assert.Equal("100.00", outbid[0].Data["previousBidAmount"]!.GetValue<string>());
        Assert.Equal("110.00", outbid[0].Data["newHighBidAmount"]!.GetValue<string>());
        var winEvt = Assert.Single(DaKit.Events(emu, "auction.consumer.won"));
        Assert.Equal(grant, winEvt.Data["paymentToken"]!.GetValue<string>());
        Assert.Equal("180.00", winEvt.Data["winningBidAmount"]!.GetValue<string>());
        var settled = Assert.Single(DaKit.Events(emu, "auction.settled"));
        Assert.Equal(5, settled.Data["totalBids"]!.GetValue<int>());
        Assert.Equal(3, settled.Data["uniqueBidders"]!.GetValue<int>());
        Assert.Equal(c.ConsumerId, settled.Data["winnerId"]!.GetValue<string>());
        Assert.Equal(DaKit.Iso(T0.AddMinutes(32)), settled.Data["settledAt"]!.GetValue<string>());
    }

    [Fact]
    public async Task Reserve_not_met_means_no_winner_and_no_reoffer()
    {
        var org = await DaKit.SetUpAsync(emu);
        var id = await CreateAsync(org, new JsonObject { ["reservePrice"] = "500.00" });
        var a = await DaKit.VerifiedAsync(emu, org.PublishableKey, "ann@example.test");
        (await Bid(org, id, a.AccessToken, "200.00")).EnsureStatus(200);
        var settle = (await emu.Control.PostJsonAsync($"/_emulator/auctions/{id}/settle")).EnsureStatus(200);
        Assert.True(settle["settled"].GetValue<bool>());
        Assert.Null(settle["winnerId"]);
        var s = await Status(org, id, a.AccessToken);
        Assert.Equal("LOST", s["status"]!.GetValue<string>());
        Assert.Null(s["admissionGrant"]);
        Assert.Empty(DaKit.Events(emu, "auction.consumer.won"));
        Assert.Equal("false", (await DaKit.Validate(emu, org, $"/auctions/{id}/validate", a.ConsumerId)).Text);
        // The settle job at settleAt does nothing more.
        await emu.AdvanceClockAsync(45 * 60);
        Assert.Single(DaKit.Events(emu, "auction.settled"));
    }

    [Trait("Category", "InProcess")]
    [Fact]
    public async Task Winner_grant_lapses_without_reoffer()
    {
        var org = await DaKit.SetUpAsync(emu);
        var id = await CreateAsync(org, new JsonObject { ["settleAt"] = DaKit.Iso(T0.AddMinutes(1)) });
        var a = await DaKit.VerifiedAsync(emu, org.PublishableKey, "ann@example.test");
        var b = await DaKit.VerifiedAsync(emu, org.PublishableKey, "bob@example.test");
        (await Bid(org, id, a.AccessToken, "10.00")).EnsureStatus(200);
        (await Bid(org, id, b.AccessToken, "20.00")).EnsureStatus(200);
        await emu.AdvanceClockAsync(60);
        Assert.Equal("WON", (await Status(org, id, b.AccessToken))["status"]!.GetValue<string>());
        await emu.AdvanceClockAsync(24 * 3600);
        Assert.Equal("false", (await DaKit.Validate(emu, org, $"/auctions/{id}/validate", b.ConsumerId)).Text);
        Assert.Single(DaKit.Events(emu, "auction.consumer.won"));
        var hit = emu.Services.GetRequiredService<DistributionRegistry>().Find(org.Id, id)!.Value;
        Assert.Equal("expired", hit.Engine.View(hit.Distribution, b.ConsumerId).Outcome!["type"]!.GetValue<string>());
        Assert.Equal("lost", hit.Engine.View(hit.Distribution, a.ConsumerId).Outcome!["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task Dutch_price_drops_with_the_clock_and_a_bid_wins_at_once()
    {
        var org = await DaKit.SetUpAsync(emu);
        var id = await CreateAsync(org, new JsonObject
        {
            ["auctionType"] = "dutch", ["startPrice"] = "100.00", ["priceDropAmount"] = "10.00", ["priceDropIntervalSeconds"] = 60,
            ["floorPrice"] = "50.00", ["quantity"] = 2, ["openAt"] = DaKit.Iso(T0),
        });
        async Task<JsonNode> Price() => (await emu.Consumer.GetAsync($"/auctions/{id}/current-price", Pk(org.PublishableKey))).EnsureStatus(200).Json!;
        var p0 = await Price();
        Assert.Equal("100.00", p0["currentPrice"]!.GetValue<string>());
        Assert.Equal(2, p0["remainingQuantity"]!.GetValue<int>());
        Assert.False(p0["auctionEnded"]!.GetValue<bool>());
        await emu.AdvanceClockAsync(150);
        Assert.Equal("80.00", (await Price())["currentPrice"]!.GetValue<string>());

        var a = await DaKit.VerifiedAsync(emu, org.PublishableKey, "ann@example.test");
        var b = await DaKit.VerifiedAsync(emu, org.PublishableKey, "bob@example.test");
        var c = await DaKit.VerifiedAsync(emu, org.PublishableKey, "cat@example.test");
        AssertError(await Bid(org, id, a.AccessToken, "70.00"), 400, "Bid must be higher than current bid");
        var won = (await Bid(org, id, a.AccessToken, null)).EnsureStatus(200);
        Assert.Equal("WON", won["status"].GetValue<string>());
        Assert.Equal("80.00", won["winningBidAmount"].GetValue<string>());
        Assert.StartsWith("eyJ", won["admissionGrant"].GetValue<string>());
        Assert.Equal(1, (await Price())["remainingQuantity"]!.GetValue<int>());
        var again = await Bid(org, id, a.AccessToken, null);
        again.EnsureStatus(409);
        Assert.Equal("DISTRIBUTION_ORDER_LIMIT", again["code"].GetValue<string>());

        await emu.AdvanceClockAsync(600); // 100 − 12 × 10 < floor
        Assert.Equal("50.00", (await Price())["currentPrice"]!.GetValue<string>());
        var wonB = (await Bid(org, id, b.AccessToken, "55.00")).EnsureStatus(200);
        Assert.Equal("WON", wonB["status"].GetValue<string>());
        Assert.Equal("50.00", wonB["winningBidAmount"].GetValue<string>());
        var end = await Price();
        Assert.Equal(0, end["remainingQuantity"]!.GetValue<int>());
        Assert.True(end["auctionEnded"]!.GetValue<bool>());
        AssertError(await Bid(org, id, c.AccessToken, null), 400, "Auction is closed");
        Assert.Equal(2, DaKit.Events(emu, "auction.consumer.won").Count);
        Assert.Single(DaKit.Events(emu, "auction.settled"));
        Assert.Equal("true", (await DaKit.Validate(emu, org, $"/auctions/{id}/validate", b.ConsumerId)).Text);
    }

    [Fact]
    public async Task Parallel_bids_never_lose_an_update()
    {
        var org = await DaKit.SetUpAsync(emu);
        var id = await CreateAsync(org, new JsonObject { ["startPrice"] = "1.00" });
        var bidders = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => DaKit.VerifiedAsync(emu, org.PublishableKey, $"bidder{i}@example.test")));
        // Distinct amounts in a scrambled order.
        var amounts = Enumerable.Range(0, 50).Select(i => 100m + (i * 37 % 50)).ToArray();
        var results = await Task.WhenAll(bidders.Select((b, i) => Bid(org, id, b.AccessToken, amounts[i].ToString("0.00"))));
        Assert.All(results, r => Assert.True(r.Code is 200 or 400, r.Text));
        var accepted = results.Select((r, i) => (r, i)).Where(x => x.r.Code == 200).Select(x => amounts[x.i]).ToList();
        Assert.Contains(amounts.Max(), accepted); // the top amount always beats whatever was highest

        var highest = (await emu.Consumer.GetAsync($"/auctions/{id}/highest-bid", Pk(org.PublishableKey))).EnsureStatus(200);
        Assert.Equal(accepted.Max().ToString("0.00"), highest["amount"].GetValue<string>());
        var all = (await emu.Consumer.GetAsync($"/auctions/{id}/bids?limit=100", Sk(org.SecretKey))).EnsureStatus(200).Json!.AsArray();
        Assert.Equal(accepted.Count, all.Count);
        Assert.Single(all, x => x!["isHighest"]!.GetValue<bool>());
        // Accepted bids strictly increase in the order they were applied.
        var applied = all.Reverse().Select(x => decimal.Parse(x!["amount"]!.GetValue<string>())).ToList();
        Assert.Equal(applied.OrderBy(x => x), applied);
        Assert.Equal(applied.Count, applied.Distinct().Count());
        var bidCounts = 0;
        foreach (var b in bidders) bidCounts += (await Status(org, id, b.AccessToken))["bidCount"]!.GetValue<int>();
        Assert.Equal(accepted.Count, bidCounts);
        Assert.Equal(accepted.Count, DaKit.Events(emu, "auction.bid.placed").Count);
        var settled = (await emu.Control.PostJsonAsync($"/_emulator/auctions/{id}/settle")).EnsureStatus(200);
        Assert.Equal(accepted.Count, settled["totalBids"].GetValue<int>());
        Assert.Equal(accepted.Max().ToString("0.00"), settled["winningBidAmount"].GetValue<string>());
    }

    [Fact]
    public async Task Errors_not_open_not_found_guests_and_validation()
    {
        var org = await DaKit.SetUpAsync(emu);
        var openAt = T0.AddMinutes(5);
        var id = await CreateAsync(org, new JsonObject { ["openAt"] = DaKit.Iso(openAt) });
        var a = await DaKit.VerifiedAsync(emu, org.PublishableKey, "ann@example.test");

        var early = await Bid(org, id, a.AccessToken, "10.00");
        early.EnsureStatus(423);
        Assert.Equal("{\"error\":\"Auction is not open yet\"}", early.Text);
        Assert.Equal(DaKit.Iso(openAt), early.Headers.GetValues("Retry-After").Single());
        var earlyEnter = await emu.Consumer.PostJsonAsync($"/auctions/{id}/enter", null, Pk(org.PublishableKey, a.AccessToken));
        earlyEnter.EnsureStatus(423);

        var missing = await Bid(org, "00000000-0000-7000-8000-000000000000", a.AccessToken, "10.00");
        missing.EnsureStatus(404);
        Assert.Equal("{\"error\":\"Auction not found\"}", missing.Text);

        var guest = await emu.GuestAsync(org.PublishableKey);
        AssertError(await Bid(org, id, guest.AccessToken, "10.00"), 401, "Authentication required");
        AssertError(await Bid(org, id, "not-a-token", "10.00"), 401, "Authentication required");
        (await emu.Consumer.GetAsync($"/auctions/{id}/bids", null)).EnsureStatus(401);

        await emu.AdvanceClockAsync(300);
        var noAmount = await Bid(org, id, a.AccessToken, null);
        noAmount.EnsureStatus(400);
        Assert.Equal("validation_error", noAmount["error"].GetValue<string>());
        var notDecimal = await Bid(org, id, a.AccessToken, "ten");
        notDecimal.EnsureStatus(400);
        Assert.Equal("validation_error", notDecimal["error"].GetValue<string>());
        (await Bid(org, id, a.AccessToken, "10.00")).EnsureStatus(200);
        // No minimum increment configured: any higher amount is accepted (the consumer may raise their own bid).
        Assert.Equal("WINNING", (await Bid(org, id, a.AccessToken, "10.01")).EnsureStatus(200)["status"].GetValue<string>());

        await emu.AdvanceClockAsync(25 * 60);
        var b = await DaKit.VerifiedAsync(emu, org.PublishableKey, "bob@example.test");
        AssertError(await Bid(org, id, b.AccessToken, "20.00"), 400, "Auction is closed");
        AssertError(await emu.Consumer.PostJsonAsync($"/auctions/{id}/enter", null, Pk(org.PublishableKey, b.AccessToken)), 400, "Auction is closed");
        // The winner asking again meets the order limit first.
        Assert.Equal(409, (await Bid(org, id, a.AccessToken, "20.00")).Code);
    }
}
