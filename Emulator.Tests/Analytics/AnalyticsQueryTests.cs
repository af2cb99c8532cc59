using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Fanfare.Emulator.Analytics;
using Fanfare.Emulator.Commerce;
using Fanfare.Emulator.Infrastructure.Store;
using Fanfare.Emulator.Tests.Auth;
using Fanfare.Emulator.Tests.Distributions;
using Fanfare.Emulator.Tests.Distributions.Experiences;
using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Analytics;

/// <summary>
/// <c>POST /analytics/query</c> (admin-part1.md) over real records: beacon events and orders (put in the store, as the
/// beacon and checkout endpoints would), and queue events made over HTTP; buckets on the emulator clock.
/// </summary>
public sealed class AnalyticsQueryTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.Parse("2030-05-01T10:00:00Z");

    private static JsonObject M(string name, string evt, string op = "count", string unit = "count", string? field = null)
    {
        var m = new JsonObject { ["name"] = name, ["unit"] = unit, ["op"] = op, ["event"] = evt };
        if (field is not null) m["field"] = field;
        return m;
    }

    private static JsonObject Query(string interval, string range, params JsonObject[] measures) =>
        new() { ["interval"] = interval, ["timeRange"] = range, ["measures"] = new JsonArray(measures) };

    private async Task<ApiResponse> RunAsync(OrgKeys org, JsonObject q) =>
        await emu.Admin.PostJsonAsync("/analytics/query", q, HttpClientExtensions.Sk(org.SecretKey));

    private void Beacon(OrgKeys org, string name, DateTimeOffset at, string? consumerId, JsonObject? props = null, string? rfm = null)
    {
        var store = emu.Services.GetRequiredService<DocumentStore>();
        var body = new JsonObject
        {
            ["organizationId"] = org.Id, ["eventId"] = Guid.NewGuid().ToString(), ["eventName"] = name, ["eventTimestamp"] = XApi.Iso(at),
            ["consumerId"] = consumerId, ["eventProperties"] = props ?? new JsonObject(),
        };
        if (rfm is not null) body["segments"] = new JsonObject { ["rfm"] = rfm };
        store.Put(new BeaconEvent { Id = Guid.NewGuid().ToString(), OrganizationId = org.Id, EventName = name, ConsumerId = consumerId, ReceivedAt = at, Body = body });
    }

    private void Order(OrgKeys org, string consumerId, DateTimeOffset at, string total, string status = OrderStatuses.Completed, DateTimeOffset? cancelledAt = null) =>
        emu.Services.GetRequiredService<DocumentStore>().Put(new Order
        {
            Id = Guid.NewGuid().ToString(), OrganizationId = org.Id, ConsumerId = consumerId, Status = status, TotalAmount = total,
            CurrencyCode = "USD", CreatedAt = at, CompletedAt = at, CancelledAt = cancelledAt,
            Items = [new OrderItem { ProductId = "p", Quantity = 1, UnitPrice = total }],
        });

    private static double Num(JsonNode? n) => n!.GetValue<double>();

    [Trait("Category", "InProcess")]
    [Fact]
    public async Task Counts_sums_and_averages_real_records_in_clock_buckets()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await emu.FreezeClockAsync(T0);
        Beacon(org, "pageView", T0.AddMinutes(5), "c1", new JsonObject { ["pagePath"] = "/drop" });
        Beacon(org, "pageView", T0.AddMinutes(20), "c2", new JsonObject { ["pagePath"] = "/drop" });
        Beacon(org, "pageView", T0.AddMinutes(70), "c1", new JsonObject { ["pagePath"] = "/home" });
        Beacon(org, "purchase", T0.AddMinutes(75), "c1", new JsonObject { ["totalRevenue"] = "120.50", ["currency"] = "USD" });
        Order(org, "c1", T0.AddMinutes(10), "100.00");
        Order(org, "c2", T0.AddMinutes(15), "50.00");
        Order(org, "c2", T0.AddMinutes(65), "30.00", OrderStatuses.Cancelled, T0.AddMinutes(90));

        var r = (await RunAsync(org, Query("1h", $"{XApi.Iso(T0)}/{XApi.Iso(T0.AddHours(3))}",
            M("views", "pageView"), M("orders", "order_created"), M("revenue", "order_created", "sum", "currency"),
            M("aov", "order_created", "avg", "currency"), M("cancelled", "order_cancelled"),
            M("purchaseRevenue", "purchase", "sum", "currency", "totalRevenue")))).EnsureStatus(200);

        Assert.Equal("currency", r["meta"]["revenue"]["unit"].GetValue<string>());
        Assert.Equal("USD", r["meta"]["revenue"]["currency"].GetValue<string>());
        Assert.Equal("count", r["meta"]["views"]["unit"].GetValue<string>());
        Assert.False(r["meta"]["views"].AsObject().ContainsKey("currency"));
        var data = r["data"].AsArray();
        Assert.Equal([XApi.Iso(T0), XApi.Iso(T0.AddHours(1)), XApi.Iso(T0.AddHours(2))], data.Select(b => b!["time_bucket"]!.GetValue<string>()));
        var h0 = data[0]!["series"]!; var h1 = data[1]!["series"]!; var h2 = data[2]!["series"]!;
        Assert.Equal(2, Num(h0["views"])); Assert.Equal(1, Num(h1["views"])); Assert.Equal(0, Num(h2["views"]));
        Assert.Equal(2, Num(h0["orders"])); Assert.Equal(1, Num(h1["orders"]));
        Assert.Equal("150.00", h0["revenue"]!.GetValue<string>());
        Assert.Equal("75.00", h0["aov"]!.GetValue<string>());
        Assert.Equal("30.00", h1["revenue"]!.GetValue<string>());
        Assert.Equal(1, Num(h1["cancelled"]));
        Assert.Equal("120.50", h1["purchaseRevenue"]!.GetValue<string>());
        Assert.Equal("0.00", h2["revenue"]!.GetValue<string>());

        // where: one page path; "in" on consumers.
        var q = Query("1h", $"{XApi.Iso(T0)}/{XApi.Iso(T0.AddHours(2))}", M("views", "pageView"));
        q["where"] = new JsonArray(new JsonObject { ["path"] = "pagePath", ["op"] = "=", ["value"] = "/drop" });
        var filtered = (await RunAsync(org, q)).EnsureStatus(200)["data"].AsArray();
        Assert.Equal(2, Num(filtered[0]!["series"]!["views"])); Assert.Equal(0, Num(filtered[1]!["series"]!["views"]));
        q["where"] = new JsonArray(new JsonObject { ["path"] = "consumerId", ["op"] = "in", ["value"] = new JsonArray("c2") });
        Assert.Equal(1, (await RunAsync(org, q)).EnsureStatus(200)["data"].AsArray().Sum(b => Num(b!["series"]!["views"])));
        q["where"] = new JsonArray(new JsonObject { ["path"] = "consumerId", ["op"] = "neq", ["value"] = "c2" });
        Assert.Equal(2, (await RunAsync(org, q)).EnsureStatus(200)["data"].AsArray().Sum(b => Num(b!["series"]!["views"])));
    }

    [Fact]
    public async Task Distribution_events_come_from_what_really_happened()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await emu.FreezeClockAsync(T0);
        var sequenceId = emu.CreateSequence(org);
        var queueId = (await emu.Admin.PostJsonAsync("/queues", new JsonObject { ["sequenceId"] = sequenceId, ["name"] = "Q", ["admitRate"] = 60 },
            HttpClientExtensions.Sk(org.SecretKey))).EnsureStatus(200)["id"].GetValue<string>();
        for (int i = 0; i < 3; i++)
        {
            var g = await emu.GuestOfAsync(org);
            (await emu.Consumer.PostJsonAsync($"/queues/{queueId}/enter", null, g.Headers)).EnsureStatus(200);
            await emu.AdvanceClockAsync(600);
        }

        var r = (await RunAsync(org, Query("15m", $"{XApi.Iso(T0)}/{XApi.Iso(T0.AddMinutes(45))}",
            M("entered", "queue_entered"), M("granted", "queue_granted"), M("noShows", "appointment_no_show")))).EnsureStatus(200);
        var data = r["data"].AsArray();
        Assert.Equal(3, data.Count);
        Assert.Equal([2.0, 1.0, 0.0], data.Select(b => Num(b!["series"]!["entered"])));
        Assert.Equal(3, data.Sum(b => Num(b!["series"]!["granted"])));
        Assert.All(data, b => Assert.Equal(0, Num(b!["series"]!["noShows"])));

        var q = Query("15m", $"{XApi.Iso(T0)}/{XApi.Iso(T0.AddMinutes(45))}", M("entered", "queue_entered"));
        q["where"] = new JsonArray(new JsonObject { ["path"] = "queueId", ["op"] = "eq", ["value"] = "someone-else" });
        Assert.Equal(0, (await RunAsync(org, q)).EnsureStatus(200)["data"].AsArray().Sum(b => Num(b!["series"]!["entered"])));
    }

    [Fact]
    public async Task Auction_bids_sum_as_currency_from_the_outbox()
    {
        var org = await Fanfare.Emulator.Tests.Distributions.Draws.DaKit.SetUpAsync(emu);
        var t0 = Fanfare.Emulator.Tests.Distributions.Draws.DaKit.T0;
        var id = (await Fanfare.Emulator.Tests.Distributions.Draws.DaKit.CreateAsync(emu, org, "/auctions", new JsonObject
        {
            ["name"] = "Jersey", ["settleAt"] = XApi.Iso(t0.AddMinutes(30)), ["startPrice"] = "100.00", ["minBidIncrement"] = "10.00",
        }))["id"]!.GetValue<string>();
        var a = await Fanfare.Emulator.Tests.Distributions.Draws.DaKit.VerifiedAsync(emu, org.PublishableKey, "ann@analytics.test");
        var b = await Fanfare.Emulator.Tests.Distributions.Draws.DaKit.VerifiedAsync(emu, org.PublishableKey, "bob@analytics.test");
        foreach (var (token, amount) in new[] { (a.AccessToken, "100.00"), (b.AccessToken, "125.50") })
        {
            (await emu.Consumer.PostJsonAsync($"/auctions/{id}/enter", null, HttpClientExtensions.Pk(org.PublishableKey, token))).EnsureStatus(200);
            (await emu.Consumer.PostJsonAsync($"/auctions/{id}/bid", new JsonObject { ["amount"] = amount }, HttpClientExtensions.Pk(org.PublishableKey, token))).EnsureStatus(200);
        }
        var r = (await RunAsync(org, Query("1h", $"{XApi.Iso(t0)}/{XApi.Iso(t0.AddHours(1))}",
            M("bids", "bid_placed"), M("bidTotal", "bid_placed", "sum", "currency"), M("avgBid", "bid_placed", "avg", "currency"),
            M("outbids", "outbid")))).EnsureStatus(200);
        var series = Assert.Single(r["data"].AsArray())!["series"]!;
        Assert.Equal(2, Num(series["bids"]));
        Assert.Equal("225.50", series["bidTotal"]!.GetValue<string>());
        Assert.Equal("112.75", series["avgBid"]!.GetValue<string>());
        Assert.Equal(1, Num(series["outbids"]));
        Assert.Equal("USD", r["meta"]["bidTotal"]["currency"].GetValue<string>());
    }

    [Trait("Category", "InProcess")]
    [Fact]
    public async Task Relative_ranges_end_now_on_the_emulator_clock_and_nothing_gives_zero_buckets()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await emu.FreezeClockAsync(T0);
        Beacon(org, "addToCart", T0.AddHours(-3), null);

        var day = (await RunAsync(org, Query("1h", "24h", M("carts", "addToCart"), M("bounced", "messageBounced")))).EnsureStatus(200)["data"].AsArray();
        Assert.Equal(25, day.Count); // [T0-24h, T0]: the last bucket is the one holding now
        Assert.Equal(XApi.Iso(T0.AddHours(-24)), day[0]!["time_bucket"]!.GetValue<string>());
        Assert.Equal(1, day.Sum(b => Num(b!["series"]!["carts"])));
        Assert.Equal(1, Num(day[21]!["series"]!["carts"]));
        Assert.All(day, b => Assert.Equal(0, Num(b!["series"]!["bounced"])));

        Assert.Equal(8, (await RunAsync(org, Query("1d", "7d", M("carts", "addToCart")))).EnsureStatus(200)["data"].AsArray().Count);
        Assert.Equal(25, (await RunAsync(org, Query("1h", "P1D", M("carts", "addToCart")))).EnsureStatus(200)["data"].AsArray().Count);
        Beacon(org, "addToCart", T0, null); // at exactly now: inside a window ending now
        Assert.Equal(1, Num((await RunAsync(org, Query("1h", "last_24h", M("carts", "addToCart")))).EnsureStatus(200)["data"].AsArray()[24]!["series"]!["carts"]));
        Assert.Equal(6, (await RunAsync(org, Query("1h", $"{XApi.Iso(T0.AddHours(-6))}/PT6H", M("carts", "addToCart")))).EnsureStatus(200)["data"].AsArray().Count);

        // Time moves with the emulator clock.
        await emu.AdvanceClockAsync(TimeSpan.FromDays(2).TotalSeconds);
        Assert.Equal(0, (await RunAsync(org, Query("1h", "24h", M("carts", "addToCart")))).EnsureStatus(200)["data"].AsArray().Sum(b => Num(b!["series"]!["carts"])));
    }

    [Trait("Category", "InProcess")]
    [Fact]
    public async Task Group_by_segment_rfm_splits_each_bucket()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await emu.FreezeClockAsync(T0);
        Beacon(org, "productView", T0.AddMinutes(1), "c1", rfm: "CHAMPIONS");
        Beacon(org, "productView", T0.AddMinutes(2), "c2", rfm: "CHAMPIONS");
        Beacon(org, "productView", T0.AddMinutes(3), "c3", rfm: "LOST");
        // c4 has no segment on the event: two recent orders make them LOYAL.
        Order(org, "c4", T0.AddDays(-3), "20.00");
        Order(org, "c4", T0.AddDays(-2), "20.00");
        Beacon(org, "productView", T0.AddMinutes(4), "c4");

        var q = Query("1h", $"{XApi.Iso(T0)}/{XApi.Iso(T0.AddHours(1))}", M("views", "productView"));
        q["groupBy"] = new JsonObject { ["field"] = "segment_rfm" };
        var data = (await RunAsync(org, q)).EnsureStatus(200)["data"].AsArray();
        var bySegment = data.ToDictionary(b => b!["segment_rfm"]!.GetValue<string>(), b => Num(b!["series"]!["views"]));
        Assert.Equal(2, bySegment["CHAMPIONS"]);
        Assert.Equal(1, bySegment["LOST"]);
        Assert.Equal(1, bySegment["LOYAL"]);
        Assert.Equal(0, bySegment["NEW"]);
        Assert.Equal(0, bySegment["AT_RISK"]);
        Assert.All(data, b => Assert.Equal(XApi.Iso(T0), b!["time_bucket"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Malformed_queries_are_the_standard_400()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var issues = (await RunAsync(org, new JsonObject { ["interval"] = "2h", ["timeRange"] = "yesterday-ish", ["measures"] = new JsonArray(
            new JsonObject { ["name"] = "x", ["unit"] = "count", ["op"] = "median", ["event"] = "teleported" }) })).AssertValidationError();
        issues.IssueAt("interval");
        issues.IssueAt("timeRange");
        issues.IssueAt("op");
        issues.IssueAt("event");

        (await RunAsync(org, new JsonObject())).AssertValidationError().IssueAt("measures");
        (await RunAsync(org, Query("1h", "24h"))).AssertValidationError().IssueAt("measures");
        (await RunAsync(org, Query("1m", "365d", M("v", "pageView")))).AssertValidationError().IssueAt("timeRange");
        (await RunAsync(org, Query("1h", "2030-01-02T00:00:00Z/2030-01-01T00:00:00Z", M("v", "pageView")))).AssertValidationError().IssueAt("timeRange");
        (await RunAsync(org, Query("1h", "24h", M("v", "pageView", "sum")))).AssertValidationError().IssueAt("field");
        var where = Query("1h", "24h", M("v", "pageView"));
        where["where"] = new JsonArray(new JsonObject { ["path"] = "a", ["op"] = "like", ["value"] = 1 });
        where["groupBy"] = new JsonObject { ["field"] = "country" };
        issues = (await RunAsync(org, where)).AssertValidationError();
        issues.IssueAt("op"); issues.IssueAt("field");
        (await emu.Admin.PostRawAsync("/analytics/query", "{not json", HttpClientExtensions.Sk(org.SecretKey))).AssertValidationError();
        (await emu.Admin.PostJsonAsync("/analytics/query", Query("1h", "24h", M("v", "pageView")), HttpClientExtensions.Pk(org.PublishableKey)))
            .AssertError(401, "Secret key required");
    }
}
