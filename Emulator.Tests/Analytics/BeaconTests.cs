using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Commerce;
using Fanfare.Emulator.Tests.Infrastructure;
using static Fanfare.Emulator.Tests.Infrastructure.HttpClientExtensions;

namespace Fanfare.Emulator.Tests.Analytics;

/// <summary>Beacon port: the 19 event bodies validated, single and batch → 200 null, kept and readable on the control
/// plane (newest first, filters, clear), a purchase linked to a real order.</summary>
public sealed class BeaconTests(BareEmulatorServer emu) : IClassFixture<BareEmulatorServer>
{
    private static readonly string[] Names =
    [
        "pageView", "productImpression", "productClick", "productView", "addToCart", "removeFromCart", "viewCart", "beginCheckout",
        "purchase", "searchSubmitted", "qrScanned", "messageSent", "messageDelivered", "messageBounced", "messageComplained",
        "messageClicked", "messageOpened", "messageRead", "messageFailed",
    ];

    private static JsonObject Event(string orgId, string name, string? consumerId = null, JsonObject? props = null) => new()
    {
        ["organizationId"] = orgId, ["eventId"] = Guid.NewGuid().ToString(), ["eventName"] = name, ["eventTimestamp"] = "2030-01-01T09:00:00.000Z",
        ["consumerId"] = consumerId, ["sessionId"] = "sess_1", ["isGuest"] = true, ["pageUrl"] = "https://shop.example.com/",
        ["experienceId"] = Guid.NewGuid().ToString(), ["segments"] = new JsonObject { ["rfm"] = "NEW" },
        ["eventProperties"] = props ?? new JsonObject { ["timezone"] = "UTC" },
    };

    [Fact]
    public async Task All_19_events_are_accepted_kept_and_filterable_newest_first()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var pk = Pk(org.PublishableKey);
        // the seed's consumer history stores beacon events of its own: start from an empty log
        (await emu.Control.SendJsonAsync(HttpMethod.Delete, "/_emulator/beacon/events", null)).EnsureStatus(200);
        var single = await emu.Beacon.PostJsonAsync("/events", Event(org.Id, "pageView", "c1", new JsonObject { ["pageType"] = "home" }), pk);
        Assert.Equal(200, single.Code);
        Assert.Equal("null", single.Text);

        var batch = new JsonArray(Names.Skip(1).Select(n => (JsonNode)Event(org.Id, n, "c2", n.StartsWith("message") ? new JsonObject { ["channel"] = "email", ["messageId"] = "m1" } : null)).ToArray());
        var b = await emu.Beacon.PostJsonAsync("/events/batch", batch, pk);
        Assert.Equal(200, b.Code);
        Assert.Equal("null", b.Text);

        var all = (await emu.Control.GetJsonAsync("/_emulator/beacon/events"))["events"]!.AsArray();
        Assert.Equal(19, all.Count);
        Assert.Equal("messageFailed", all[0]!["eventName"]!.GetValue<string>()); // newest first
        Assert.Equal(Names.OrderBy(x => x), all.Select(e => e!["eventName"]!.GetValue<string>()).OrderBy(x => x));
        Assert.Single((await emu.Control.GetJsonAsync("/_emulator/beacon/events?consumerId=c1"))["events"]!.AsArray());
        Assert.Single((await emu.Control.GetJsonAsync("/_emulator/beacon/events?eventName=addToCart"))["events"]!.AsArray());
        Assert.Empty((await emu.Control.GetJsonAsync("/_emulator/beacon/events?since=2100-01-01T00:00:00Z"))["events"]!.AsArray());

        Assert.Equal(19, (await emu.Control.SendJsonAsync(HttpMethod.Delete, "/_emulator/beacon/events", null)).EnsureStatus(200)["deleted"].GetValue<int>());
        Assert.Empty((await emu.Control.GetJsonAsync("/_emulator/beacon/events"))["events"]!.AsArray());
    }

    [Fact]
    public async Task Invalid_events_are_400_and_a_bad_batch_stores_nothing()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var pk = Pk(org.PublishableKey);
        // the seed's consumer history stores beacon events of its own: start from an empty log
        (await emu.Control.SendJsonAsync(HttpMethod.Delete, "/_emulator/beacon/events", null)).EnsureStatus(200);
        var missing = await emu.Beacon.PostJsonAsync("/events", new JsonObject { ["eventName"] = "pageView" }, pk);
        Assert.Equal(400, missing.Code);
        Assert.Equal("validation_error", missing["error"].GetValue<string>());
        Assert.Equal(3, missing["issues"].AsArray().Count); // organizationId, eventId, eventTimestamp

        var unknownName = Event(org.Id, "pageViewed");
        Assert.Equal(400, (await emu.Beacon.PostJsonAsync("/events", unknownName, pk)).Code);
        var badUuid = Event(org.Id, "pageView"); badUuid["sequenceId"] = "seq-1";
        Assert.Equal(400, (await emu.Beacon.PostJsonAsync("/events", badUuid, pk)).Code);
        var badChannel = Event(org.Id, "messageSent", props: new JsonObject { ["channel"] = "pigeon" });
        Assert.Equal(400, (await emu.Beacon.PostJsonAsync("/events", badChannel, pk)).Code);

        var batch = new JsonArray(Event(org.Id, "pageView"), Event(org.Id, "purchase", props: new JsonObject { ["products"] = "none" }));
        var bad = await emu.Beacon.PostJsonAsync("/events/batch", batch, pk);
        Assert.Equal(400, bad.Code);
        Assert.Equal(1, bad["issues"][0]!["path"]![0]!["key"]!.GetValue<int>()); // the batch index
        Assert.Equal(400, (await emu.Beacon.PostJsonAsync("/events/batch", new JsonObject(), pk)).Code);

        var foreign = Event(Guid.NewGuid().ToString(), "pageView");
        Assert.Equal(403, (await emu.Beacon.PostJsonAsync("/events", foreign, pk)).Code);
        Assert.Equal(401, (await emu.Beacon.PostJsonAsync("/events", Event(org.Id, "pageView"))).Code);
        Assert.Empty((await emu.Control.GetJsonAsync("/_emulator/beacon/events"))["events"]!.AsArray());
    }

    [Fact]
    public async Task A_purchase_event_links_to_an_order_of_this_emulator()
    {
        var a = await emu.AdmittedGuestAsync();
        var s = (await emu.CheckoutAsync(a, a.CheckoutBody())).EnsureStatus(200);
        var orderId = s["orderId"].GetValue<string>();
        (await emu.Control.PostJsonAsync($"/_emulator/payments/{s["paymentId"].GetValue<string>()}/succeed")).EnsureStatus(200);
        var purchase = Event(a.Org.Id, "purchase", a.Guest.Id, new JsonObject
        {
            ["orderId"] = orderId, ["currency"] = "USD", ["totalRevenue"] = "149.99",
            ["products"] = new JsonArray(new JsonObject { ["productId"] = CommerceTestKit.Sneaker, ["price"] = "149.99", ["quantity"] = 1 }),
        });
        (await emu.Beacon.PostJsonAsync("/events", purchase, Pk(a.Org.PublishableKey))).EnsureStatus(200);
        (await emu.Beacon.PostJsonAsync("/events", Event(a.Org.Id, "purchase", a.Guest.Id, new JsonObject { ["orderId"] = "not-ours" }), Pk(a.Org.PublishableKey))).EnsureStatus(200);
        var linked = (await emu.Control.GetJsonAsync($"/_emulator/beacon/events?orderId={orderId}"))["events"]!.AsArray();
        Assert.Equal(a.Guest.Id, linked.Single()!["consumerId"]!.GetValue<string>());
        var newest = (await emu.Control.GetJsonAsync("/_emulator/beacon/events?limit=1"))["events"]![0]!;
        Assert.Null(newest["orderId"]);
    }
}
