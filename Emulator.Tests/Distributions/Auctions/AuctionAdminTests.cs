using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Distributions.Draws;
using Fanfare.Emulator.Tests.Infrastructure;
using static Fanfare.Emulator.Tests.Infrastructure.HttpClientExtensions;

namespace Fanfare.Emulator.Tests.Distributions.Auctions;

/// <summary>Admin <c>/auctions</c> CRUD (admin-part1.md), simulate and participants.</summary>
public sealed class AuctionAdminTests(BareEmulatorServer emu) : IClassFixture<BareEmulatorServer>
{
    [Fact]
    public async Task Create_get_list_update_delete()
    {
        var org = await DaKit.SetUpAsync(emu);
        var sk = Sk(org.SecretKey);
        var created = (await emu.Admin.PostJsonAsync("/auctions", new JsonObject
        {
            ["sequenceId"] = DaKit.SequenceId, ["name"] = "Jersey", ["settleAt"] = "2031-03-02T12:00:00Z",
            ["startPrice"] = "100", ["minBidIncrement"] = "5.5", ["reservePrice"] = null,
        }, sk)).EnsureStatus(200);
        var a = created.Json!.AsObject();
        var id = a["id"]!.GetValue<string>();
        Assert.Equal("english", a["auctionType"]!.GetValue<string>());
        Assert.Equal("100.00", a["startPrice"]!.GetValue<string>());
        Assert.Equal("5.50", a["minBidIncrement"]!.GetValue<string>());
        Assert.Equal("2031-03-02T12:00:00.000Z", a["settleAt"]!.GetValue<string>());
        Assert.True(a.ContainsKey("reservePrice") && a["reservePrice"] is null);
        Assert.Equal(created.Text, (await emu.Admin.GetAsync($"/auctions/{id}", sk)).EnsureStatus(200).Text);

        var list = (await emu.Admin.GetAsync($"/auctions?sequenceId={DaKit.SequenceId}", sk)).EnsureStatus(200);
        Assert.Single(list["data"].AsArray());
        Assert.Null(list["pageInfo"]["startCursor"]);

        var updated = (await emu.Admin.SendJsonAsync(HttpMethod.Put, $"/auctions/{id}", new JsonObject
        {
            ["reservePrice"] = "250.00", ["autoExtendSeconds"] = 30,
        }, sk)).EnsureStatus(200);
        Assert.Equal("250.00", updated["reservePrice"].GetValue<string>());
        Assert.Equal(30, updated["autoExtendSeconds"].GetValue<int>());

        (await emu.Admin.SendJsonAsync(HttpMethod.Delete, $"/auctions/{id}", null, sk)).EnsureStatus(200);
        var gone = await emu.Admin.GetAsync($"/auctions/{id}", sk);
        gone.EnsureStatus(404);
        Assert.Equal("Auction not found", gone["error"].GetValue<string>());
        (await emu.Consumer.GetAsync($"/auctions/{id}", Pk(org.PublishableKey))).EnsureStatus(404);
    }

    [Fact]
    public async Task Validation()
    {
        var org = await DaKit.SetUpAsync(emu);
        var bad = await emu.Admin.PostJsonAsync("/auctions", new JsonObject
        {
            ["sequenceId"] = DaKit.SequenceId, ["name"] = "Dutch", ["settleAt"] = "2031-03-02T12:00:00Z", ["auctionType"] = "dutch",
            ["priceDropAmount"] = "12,5", ["closeAt"] = "2031-03-03T12:00:00Z",
        }, Sk(org.SecretKey));
        bad.EnsureStatus(400);
        var keys = bad["issues"].AsArray().Select(i => i!["path"]![0]!["key"]!.GetValue<string>()).ToList();
        Assert.Contains("priceDropAmount", keys);
        Assert.Contains("startPrice", keys);
        Assert.Contains("closeAt", keys);
        var badType = await emu.Admin.PostJsonAsync("/auctions", new JsonObject
        {
            ["sequenceId"] = DaKit.SequenceId, ["name"] = "x", ["settleAt"] = "2031-03-02T12:00:00Z", ["auctionType"] = "vickrey",
        }, Sk(org.SecretKey));
        badType.EnsureStatus(400);
        Assert.Equal("picklist", badType["issues"][0]!["type"]!.GetValue<string>());
        Assert.Empty((await emu.Admin.GetAsync("/auctions", Sk(org.SecretKey))).EnsureStatus(200)["data"].AsArray());
    }

    [Fact]
    public async Task Simulate_bidders_and_participants()
    {
        var org = await DaKit.SetUpAsync(emu);
        var a = await DaKit.CreateAsync(emu, org, "/auctions", new JsonObject
        {
            ["name"] = "Sim", ["settleAt"] = DaKit.Iso(DaKit.T0.AddHours(1)), ["startPrice"] = "50.00", ["minBidIncrement"] = "5.00",
        });
        var id = a["id"]!.GetValue<string>();
        var sim = (await emu.Control.PostJsonAsync($"/_emulator/distributions/{id}/simulate", new JsonObject { ["consumers"] = 4 })).EnsureStatus(200);
        Assert.Equal(4, sim["consumerIds"].AsArray().Count);
        Assert.Equal("{\"amount\":\"65.00\"}", (await emu.Consumer.GetAsync($"/auctions/{id}/highest-bid", Pk(org.PublishableKey))).Text);
        var p = (await emu.Control.GetJsonAsync($"/_emulator/distributions/{id}/participants"))["participants"]!.AsArray();
        Assert.Equal(["OUTBID", "OUTBID", "OUTBID", "WINNING"], p.Select(x => x!["status"]!.GetValue<string>()).ToArray());
    }
}
