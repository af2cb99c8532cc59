using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Consumers;
using Fanfare.Emulator.Tests.Infrastructure;
using static Fanfare.Emulator.Tests.Infrastructure.HttpClientExtensions;

namespace Fanfare.Emulator.Tests.Loyalty;

/// <summary>Loyalty (behavior.md §10.3): earning from real events, caps, maxBalance, expiry on the clock, adjustments.</summary>
public sealed class LoyaltyTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    private async Task<(string Id, Dictionary<string, string> Headers)> SignInAsync(OrgKeys org, string email)
    {
        var s = await emu.SignInByEmailAsync(org.PublishableKey, email);
        return (s["session"]!["consumerId"]!.GetValue<string>(), Pk(org.PublishableKey, s["accessToken"]!.GetValue<string>()));
    }

    private async Task SettingsAsync(JsonObject settings) =>
        (await emu.Control.SendJsonAsync(HttpMethod.Put, "/_emulator/loyalty/settings", settings)).EnsureStatus(200);

    private async Task<int> BalanceAsync(Dictionary<string, string> headers) =>
        (await emu.Consumer.GetJsonAsync("/loyalty/balance", headers))["balance"]!.GetValue<int>();

    [Fact]
    public async Task Requires_a_consumer_token()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var r = await emu.Consumer.GetAsync("/loyalty/balance", Pk(org.PublishableKey));
        Assert.Equal(401, r.Code);
        Assert.Equal("Authentication required", r["error"].GetValue<string>());
    }

    [Trait("Category", "InProcess")]
    [Fact]
    public async Task Earns_from_entries_and_a_conversion_once_per_order()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var (id, headers) = await SignInAsync(org, "earn@loyalty.test");
        Assert.Equal(0, await BalanceAsync(headers));

        var queues = await emu.Admin.GetJsonAsync("/queues", Sk(org.SecretKey));
        var queueId = queues["data"]!.AsArray().First(q => q!["name"]!.GetValue<string>() == "Sneaker Drop queue")!["id"]!.GetValue<string>();
        (await emu.Consumer.PostJsonAsync($"/queues/{queueId}/enter", null, headers)).EnsureStatus(200);
        (await emu.Consumer.PostJsonAsync($"/queues/{queueId}/leave", null, headers)).EnsureStatus(200);
        (await emu.Consumer.PostJsonAsync($"/queues/{queueId}/enter", null, headers)).EnsureStatus(200);
        Assert.Equal(10, await BalanceAsync(headers)); // one entry per queue earns

        emu.CompleteOrder(org.Id, id, "20.00", "order-1");
        emu.Beacon(org.Id, id, "purchase", new JsonObject { ["orderId"] = "order-1", ["totalRevenue"] = "20.00" });
        emu.Beacon(org.Id, id, "purchase", new JsonObject { ["orderId"] = "order-2", ["totalRevenue"] = "5.00" });
        var balance = await emu.Consumer.GetJsonAsync("/loyalty/balance", headers);
        Assert.Equal(10 + 120 + 105, balance["balance"]!.GetValue<int>());
        Assert.Equal(235, balance["lifetimePoints"]!.GetValue<int>());

        var history = (await emu.Consumer.GetJsonAsync("/loyalty/history?limit=10", headers)).AsArray();
        Assert.Equal(3, history.Count);
        Assert.All(history, h => Assert.Equal("earn", h!["txnType"]!.GetValue<string>()));
        Assert.Equal(2, history.Count(h => h!["sourceType"]!.GetValue<string>() == "conversion"));
        Assert.Equal("system", history[0]!["actorType"]!.GetValue<string>());
        Assert.Single((await emu.Consumer.GetJsonAsync("/loyalty/history?limit=1", headers)).AsArray());
        Assert.Equal(400, (await emu.Consumer.GetAsync("/loyalty/history?limit=abc", headers)).Code);

        var admin = await emu.Admin.GetJsonAsync($"/consumers/{id}", Sk(org.SecretKey));
        Assert.Equal(235, admin["loyaltyBalance"]!.GetValue<int>());
        Assert.Equal(235, admin["loyaltyLifetimePoints"]!.GetValue<int>());
    }

    [Trait("Category", "InProcess")]
    [Fact]
    public async Task Fixed_expiry_runs_on_the_clock_and_expirations_agree()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var start = await emu.FreezeClockAsync(new DateTimeOffset(2026, 1, 15, 12, 0, 0, TimeSpan.Zero));
        await SettingsAsync(new JsonObject { ["expirationType"] = "fixed", ["fixedExpireMonths"] = 12 });
        var (id, headers) = await SignInAsync(org, "expire@loyalty.test");
        (await emu.Control.PostJsonAsync("/_emulator/loyalty/adjustments", new JsonObject { ["consumerId"] = id, ["delta"] = 100, ["reason"] = "welcome" })).EnsureStatus(200);
        await emu.AdvanceClockAsync(30 * 86400);
        emu.CompleteOrder(org.Id, id, "0.00", "order-e");
        (id, headers) = await SignInAsync(org, "expire@loyalty.test"); // access tokens live an hour of emulator time
        Assert.Equal(200, await BalanceAsync(headers));
        Assert.Empty((await emu.Consumer.GetJsonAsync("/loyalty/expirations?withinDays=90", headers)).AsArray());

        // 11 months later: the first bucket expires within 60 days, on the day it was earned plus 12 months.
        await emu.AdvanceClockAsync(300 * 86400);
        (id, headers) = await SignInAsync(org, "expire@loyalty.test");
        var exp = (await emu.Consumer.GetJsonAsync("/loyalty/expirations?withinDays=60", headers)).AsArray();
        var first = Assert.Single(exp)!;
        Assert.Equal("2027-01-15", first["expiresOn"]!.GetValue<string>());
        Assert.Equal(100, first["points"]!.GetValue<int>());
        Assert.Equal(2, (await emu.Consumer.GetJsonAsync("/loyalty/expirations?withinDays=365", headers)).AsArray().Count);

        // Past 13 months: both buckets expired, oldest first, as expirations said.
        var thirteenMonths = start.AddMonths(13) - (start + TimeSpan.FromDays(330));
        await emu.AdvanceClockAsync(thirteenMonths.TotalSeconds);
        (id, headers) = await SignInAsync(org, "expire@loyalty.test");
        var balance = await emu.Consumer.GetJsonAsync("/loyalty/balance", headers);
        Assert.Equal(0, balance["balance"]!.GetValue<int>());
        Assert.Equal(200, balance["lifetimePoints"]!.GetValue<int>());
        var history = (await emu.Consumer.GetJsonAsync("/loyalty/history", headers)).AsArray();
        var expires = history.Where(h => h!["txnType"]!.GetValue<string>() == "expire").ToList();
        Assert.Equal(2, expires.Count);
        Assert.Equal(-100, expires.Last()!["pointsDelta"]!.GetValue<int>()); // newest first: the welcome bucket expired first
        Assert.StartsWith("2027-01-15", expires.Last()!["occurredAt"]!.GetValue<string>());
        var txns = await emu.Admin.GetJsonAsync($"/consumers/{id}/loyalty-transactions?limit=2", Sk(org.SecretKey));
        Assert.Equal(2, txns["transactions"]!.AsArray().Count);
        Assert.NotNull(txns["nextCursor"]);
        var rest = await emu.Admin.GetJsonAsync($"/consumers/{id}/loyalty-transactions?cursor={txns["nextCursor"]!.GetValue<string>()}", Sk(org.SecretKey));
        Assert.Equal(2, rest["transactions"]!.AsArray().Count);
        Assert.Null(rest["nextCursor"]);
        Assert.Empty(rest["expiringBuckets"]!.AsArray());
        var adjust = rest["transactions"]!.AsArray().First(t => t!["txnType"]!.GetValue<string>() == "adjust")!;
        Assert.Equal("admin", adjust["metadata"]!["actorType"]!.GetValue<string>());
        Assert.Equal("welcome", adjust["sourceDescription"]!.GetValue<string>());
    }

    [Trait("Category", "InProcess")]
    [Fact]
    public async Task Caps_and_max_balance_hold()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await emu.FreezeClockAsync(new DateTimeOffset(2026, 3, 10, 15, 0, 0, TimeSpan.Zero));
        await SettingsAsync(new JsonObject
        {
            ["dailyEarnCap"] = 25, ["monthlyEarnCap"] = 40, ["maxBalance"] = 1000, ["eventPoints"] = new JsonObject { ["productView"] = 10 },
        });
        var (id, headers) = await SignInAsync(org, "caps@loyalty.test");
        for (int i = 0; i < 3; i++) emu.Beacon(org.Id, id, "productView");
        Assert.Equal(25, await BalanceAsync(headers));
        await emu.AdvanceClockAsync(86400);
        (id, headers) = await SignInAsync(org, "caps@loyalty.test");
        for (int i = 0; i < 3; i++) emu.Beacon(org.Id, id, "product_view");
        Assert.Equal(40, await BalanceAsync(headers)); // monthly cap
        var capped = (await emu.Consumer.GetJsonAsync("/loyalty/history", headers)).AsArray();
        Assert.Equal(5, capped.Count); // 10, 10, 5 (daily cap) then 10, 5 (monthly cap); capped-to-zero events earn nothing
        Assert.Equal(40, capped.Sum(h => h!["pointsDelta"]!.GetValue<int>()));

        await SettingsAsync(new JsonObject { ["maxBalance"] = 50 });
        var adj = (await emu.Control.PostJsonAsync("/_emulator/loyalty/adjustments", new JsonObject { ["consumerId"] = id, ["delta"] = 100 })).EnsureStatus(200);
        Assert.True(adj["applied"].GetValue<bool>());
        Assert.Equal(10, adj["appliedAmount"].GetValue<int>());
        Assert.Equal(50, adj["balance"].GetValue<int>());
        var none = (await emu.Control.PostJsonAsync("/_emulator/loyalty/adjustments", new JsonObject { ["consumerId"] = id, ["delta"] = 5 })).EnsureStatus(200);
        Assert.False(none["applied"].GetValue<bool>());
        var minus = (await emu.Control.PostJsonAsync("/_emulator/loyalty/adjustments", new JsonObject { ["consumerId"] = id, ["delta"] = -80 })).EnsureStatus(200);
        Assert.Equal(-50, minus["appliedAmount"].GetValue<int>());
        Assert.Equal(0, minus["balance"].GetValue<int>());
        Assert.NotNull(minus["transactionId"].GetValue<string>());
        Assert.Equal(400, (await emu.Control.PostJsonAsync("/_emulator/loyalty/adjustments", new JsonObject { ["consumerId"] = id, ["delta"] = 0 })).Code);
        Assert.Equal(404, (await emu.Control.PostJsonAsync("/_emulator/loyalty/adjustments", new JsonObject { ["consumerId"] = "nobody", ["delta"] = 1 })).Code);
        Assert.Equal(400, (await emu.Control.SendJsonAsync(HttpMethod.Put, "/_emulator/loyalty/settings", new JsonObject { ["expirationType"] = "fixed" })).Code);
    }

    [Trait("Category", "InProcess")]
    [Fact]
    public async Task Inactivity_expiry_resets_on_earning()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await emu.FreezeClockAsync(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await SettingsAsync(new JsonObject { ["expirationType"] = "inactivity", ["inactivityExpireMonths"] = 2 });
        var (id, headers) = await SignInAsync(org, "idle@loyalty.test");
        (await emu.Control.PostJsonAsync("/_emulator/loyalty/adjustments", new JsonObject { ["consumerId"] = id, ["delta"] = 30 })).EnsureStatus(200);
        await emu.AdvanceClockAsync(45 * 86400);
        emu.CompleteOrder(org.Id, id, "0.00");
        await emu.AdvanceClockAsync(45 * 86400); // 90 days after the first earn, 45 after the last
        (id, headers) = await SignInAsync(org, "idle@loyalty.test");
        Assert.Equal(130, await BalanceAsync(headers));
        var exp = Assert.Single((await emu.Consumer.GetJsonAsync("/loyalty/expirations?withinDays=30", headers)).AsArray())!;
        Assert.Equal(130, exp["points"]!.GetValue<int>());
        await emu.AdvanceClockAsync(20 * 86400);
        (id, headers) = await SignInAsync(org, "idle@loyalty.test");
        Assert.Equal(0, await BalanceAsync(headers));
    }

    [Trait("Category", "InProcess")]
    [Fact]
    public async Task A_cancelled_order_reverses_its_conversion_points()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var (id, headers) = await SignInAsync(org, "cancel@loyalty.test");
        emu.CompleteOrder(org.Id, id, "10.00", "order-c");
        Assert.Equal(110, await BalanceAsync(headers));
        var outbox = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Fanfare.Emulator.Infrastructure.Events.EventOutbox>(emu.Services);
        for (int i = 0; i < 2; i++)
            outbox.Record(org.Id, "order.cancelled", new JsonObject { ["orderId"] = "order-c", ["consumerId"] = id, ["cancelledAt"] = "2026-01-01T00:00:00.000Z", ["reason"] = "customer_requested" });
        Assert.Equal(0, await BalanceAsync(headers));
        var history = (await emu.Consumer.GetJsonAsync("/loyalty/history", headers)).AsArray();
        Assert.Equal(-110, Assert.Single(history, h => h!["txnType"]!.GetValue<string>() == "reversal")!["pointsDelta"]!.GetValue<int>());
    }
}
