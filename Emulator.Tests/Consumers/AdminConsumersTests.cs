using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Infrastructure;
using static Fanfare.Emulator.Tests.Infrastructure.HttpClientExtensions;

namespace Fanfare.Emulator.Tests.Consumers;

/// <summary>Admin <c>/consumers</c> (admin-part2.md) over HTTP: pages, filters, update, deletion, batch, distribution, timeline.</summary>
public sealed class AdminConsumersTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    [Fact]
    public async Task List_pages_with_cursors_and_filters()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var sk = Sk(org.SecretKey);
        Assert.Equal(401, (await emu.Admin.GetAsync("/consumers", Pk(org.PublishableKey))).Code);
        await emu.BatchAsync(org.SecretKey, "ann@people.test", "bob@people.test", "cat@people.test");

        var all = await emu.Admin.GetJsonAsync("/consumers?first=100", sk);
        var total = all["data"]!.AsArray().Count;
        Assert.True(total >= 5); // 2 seeded + 3
        Assert.Null(all["pageInfo"]!["endCursor"]);
        var c0 = all["data"]![0]!;
        foreach (var f in new[] { "id", "organizationId", "createdAt", "createdBy", "archived", "emailVerified", "phoneVerified", "status", "ltv", "aov", "loyaltyBalance", "totalOrders" })
            Assert.True(c0.AsObject().ContainsKey(f), f);

        var seen = new List<string>();
        string? after = null;
        do
        {
            var page = await emu.Admin.GetJsonAsync("/consumers?first=2" + (after is null ? "" : "&after=" + Uri.EscapeDataString(after)), sk);
            seen.AddRange(page["data"]!.AsArray().Select(c => c!["id"]!.GetValue<string>()));
            after = page["pageInfo"]!["endCursor"]?.GetValue<string>();
        } while (after is not null);
        Assert.Equal(total, seen.Distinct().Count());

        var bob = await emu.Admin.GetJsonAsync("/consumers?search=bob", sk);
        Assert.Equal("bob@people.test", Assert.Single(bob["data"]!.AsArray())!["email"]!.GetValue<string>());
        var sorted = await emu.Admin.GetJsonAsync("/consumers?sortBy=email&sortDir=asc&search=people.test", sk);
        Assert.Equal(["ann@people.test", "bob@people.test", "cat@people.test"], sorted["data"]!.AsArray().Select(c => c!["email"]!.GetValue<string>()));

        var bad = await emu.Admin.GetAsync("/consumers?search=a", sk);
        Assert.Equal(400, bad.Code);
        Assert.Equal("validation_error", bad["error"].GetValue<string>());
        Assert.Equal(400, (await emu.Admin.GetAsync("/consumers?sortBy=nope", sk)).Code);
        Assert.Equal(400, (await emu.Admin.GetAsync("/consumers?after=%%%", sk)).Code);
    }

    [Fact]
    public async Task Put_updates_and_bad_input_changes_nothing()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var sk = Sk(org.SecretKey);
        var id = (await emu.BatchAsync(org.SecretKey, "dan@people.test"))[0];

        var bad = await emu.Admin.SendJsonAsync(HttpMethod.Put, $"/consumers/{id}", new JsonObject { ["fullName"] = "X", ["email"] = "not-an-email" }, sk);
        Assert.Equal(400, bad.Code);
        Assert.Equal("Name dan", (await emu.Admin.GetJsonAsync($"/consumers/{id}", sk))["fullName"]!.GetValue<string>());

        var ok = (await emu.Admin.SendJsonAsync(HttpMethod.Put, $"/consumers/{id}", new JsonObject
        {
            ["fullName"] = "Dan Updated", ["smsOptOut"] = true, ["status"] = "INACTIVE", ["metadata"] = new JsonObject { ["tier"] = "vip", ["tags"] = new JsonArray("a", 1) },
        }, sk)).EnsureStatus(200);
        Assert.Equal("Dan Updated", ok["fullName"].GetValue<string>());
        Assert.True(ok["smsOptOut"].GetValue<bool>());
        Assert.Equal("INACTIVE", ok["status"].GetValue<string>());
        Assert.Equal("vip", ok["metadata"]["tier"]!.GetValue<string>());
        Assert.Equal("api_key", ok["updatedBy"].GetValue<string>());
        Assert.False(ok.Json!.AsObject().ContainsKey("primarySyncSource")); // ConsumerNoSync

        Assert.Equal(404, (await emu.Admin.GetAsync("/consumers/00000000-0000-0000-0000-000000000000", sk)).Code);
        var acme = (await emu.OrganizationsAsync())[1];
        Assert.Equal(404, (await emu.Admin.GetAsync($"/consumers/{id}", Sk(acme.SecretKey))).Code);
    }

    [Fact]
    public async Task Delete_revokes_sessions_at_once_and_erases_personal_fields()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var sk = Sk(org.SecretKey);
        var session = await emu.SignInByEmailAsync(org.PublishableKey, "gone@people.test");
        var id = session["session"]!["consumerId"]!.GetValue<string>();
        var headers = Pk(org.PublishableKey, session["accessToken"]!.GetValue<string>());
        (await emu.Consumer.GetAsync("/consumers/me", headers)).EnsureStatus(200);

        var deleted = (await emu.Admin.SendJsonAsync(HttpMethod.Delete, $"/consumers/{id}", null, sk)).EnsureStatus(200);
        Assert.True(deleted["archived"].GetValue<bool>());
        Assert.Equal("INACTIVE", deleted["status"].GetValue<string>());
        Assert.Null(deleted["email"]);
        Assert.Equal(id, deleted["id"].GetValue<string>());

        Assert.Equal(401, (await emu.Consumer.GetAsync("/consumers/me", headers)).Code);
        var refresh = await emu.Consumer.PostJsonAsync("/auth/refresh", new JsonObject { ["refreshToken"] = session["refreshToken"]!.GetValue<string>() }, Pk(org.PublishableKey));
        Assert.Equal(401, refresh.Code);
        var list = await emu.Admin.GetJsonAsync("/consumers?first=100", sk);
        Assert.DoesNotContain(list["data"]!.AsArray(), c => c!["id"]!.GetValue<string>() == id);
        Assert.Contains((await emu.Admin.GetJsonAsync("/consumers?first=100&includeArchived=true", sk))["data"]!.AsArray(), c => c!["id"]!.GetValue<string>() == id);

        // Signing in again with the same email is a new consumer.
        var again = await emu.SignInByEmailAsync(org.PublishableKey, "gone@people.test");
        Assert.NotEqual(id, again["session"]!["consumerId"]!.GetValue<string>());
    }

    [Fact]
    public async Task Batch_validates_everything_and_is_all_or_nothing()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var sk = Sk(org.SecretKey);
        var before = (await emu.Admin.GetJsonAsync("/consumers?first=100", sk))["data"]!.AsArray().Count;
        var bad = await emu.Admin.PostJsonAsync("/consumers/batch", new JsonObject
        {
            ["consumers"] = new JsonArray(
                new JsonObject { ["email"] = "ok@people.test", ["emailVerified"] = true, ["phoneVerified"] = false, ["status"] = "ACTIVE" },
                new JsonObject { ["email"] = "x", ["phoneVerified"] = false, ["status"] = "WRONG" }),
        }, sk);
        Assert.Equal(400, bad.Code);
        Assert.True(bad["issues"].AsArray().Count >= 3);
        Assert.Equal(409, (await emu.Admin.PostJsonAsync("/consumers/batch", new JsonObject
        {
            ["consumers"] = new JsonArray(new JsonObject { ["email"] = "demo@fanfare.test", ["emailVerified"] = true, ["phoneVerified"] = false, ["status"] = "ACTIVE" }),
        }, sk)).Code);
        Assert.Equal(before, (await emu.Admin.GetJsonAsync("/consumers?first=100", sk))["data"]!.AsArray().Count);

        var created = (await emu.Admin.PostJsonAsync("/consumers/batch", new JsonObject
        {
            ["consumers"] = new JsonArray(new JsonObject
            {
                ["email"] = "Vip@People.test", ["emailVerified"] = true, ["phoneVerified"] = false, ["status"] = "ACTIVE",
                ["totalOrders"] = 3, ["ltv"] = "300.00", ["loyaltyBalance"] = 250,
            }),
        }, sk)).EnsureStatus(200);
        var c = created.Json![0]!;
        Assert.Equal("vip@people.test", c["email"]!.GetValue<string>());
        Assert.Equal(3, c["totalOrders"]!.GetValue<int>());
        Assert.Equal("300", c["ltv"]!.GetValue<string>());
        Assert.Equal("100", c["aov"]!.GetValue<string>());
        Assert.Equal(250, c["loyaltyBalance"]!.GetValue<int>());
        var txns = await emu.Admin.GetJsonAsync($"/consumers/{c["id"]!.GetValue<string>()}/loyalty-transactions", sk);
        Assert.Equal("migration", txns["transactions"]![0]!["txnType"]!.GetValue<string>());
    }

    [Trait("Category", "InProcess")]
    [Fact]
    public async Task Orders_drive_ltv_and_distribution()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var sk = Sk(org.SecretKey);
        var ids = await emu.BatchAsync(org.SecretKey, "o1@people.test", "o2@people.test");
        emu.CompleteOrder(org.Id, ids[0], "300.00");
        emu.CompleteOrder(org.Id, ids[0], "50.50");
        emu.CompleteOrder(org.Id, ids[1], "10.00");
        var c = await emu.Admin.GetJsonAsync($"/consumers/{ids[0]}", sk);
        Assert.Equal(2, c["totalOrders"]!.GetValue<int>());
        Assert.Equal("350.5", c["ltv"]!.GetValue<string>());
        Assert.Equal("175.25", c["aov"]!.GetValue<string>());
        Assert.NotNull(c["lastOrderAt"]);
        Assert.True(c["monetaryRank"]!.GetValue<int>() > 0);

        var top = await emu.Admin.GetJsonAsync("/consumers?sortBy=totalOrderValue&sortDir=desc&first=1", sk);
        Assert.Equal(ids[0], top["data"]![0]!["id"]!.GetValue<string>());

        var dist = await emu.Admin.GetJsonAsync("/consumers/distribution?field=ltv&buckets=5", sk);
        Assert.Equal("ltv", dist["field"]!.GetValue<string>());
        Assert.Equal(dist["totalCount"]!.GetValue<int>(), dist["buckets"]!.AsArray().Sum(b => b!["value"]!.GetValue<int>()));
        Assert.Equal("350.5", dist["stats"]!["max"]!.GetValue<string>());
        Assert.Equal(400, (await emu.Admin.GetAsync("/consumers/distribution?field=nope", sk)).Code);
    }

    [Trait("Category", "InProcess")]
    [Fact]
    public async Task Timeline_is_the_real_history_in_time_order()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var sk = Sk(org.SecretKey);
        await emu.FreezeClockAsync();
        var session = await emu.SignInByEmailAsync(org.PublishableKey, "time@people.test");
        var id = session["session"]!["consumerId"]!.GetValue<string>();
        var headers = Pk(org.PublishableKey, session["accessToken"]!.GetValue<string>());
        await emu.AdvanceClockAsync(60);
        var queues = await emu.Admin.GetJsonAsync("/queues", sk);
        var queueId = queues["data"]!.AsArray().First(q => q!["name"]!.GetValue<string>() == "Sneaker Drop queue")!["id"]!.GetValue<string>();
        (await emu.Consumer.PostJsonAsync($"/queues/{queueId}/enter", null, headers)).EnsureStatus(200);
        await emu.AdvanceClockAsync(60);
        emu.CompleteOrder(org.Id, id, "20.00");
        await emu.AdvanceClockAsync(60);
        emu.Beacon(org.Id, id, "productView");

        var t = await emu.Admin.GetJsonAsync($"/consumers/{id}/timeline", sk);
        Assert.Equal(id, t["consumerId"]!.GetValue<string>());
        var types = t["activities"]!.AsArray().Select(a => a!["type"]!.GetValue<string>()).ToList();
        Assert.Equal(t["totalCount"]!.GetValue<int>(), types.Count);
        Assert.True(types.IndexOf("SIGN_IN") < types.IndexOf("QUEUE"));
        Assert.True(types.IndexOf("QUEUE") < types.IndexOf("ORDER"));
        Assert.True(types.IndexOf("ORDER") < types.IndexOf("BEACON_EVENT"));
        Assert.Contains("MESSAGE", types); // the OTP email
        var queue = t["activities"]!.AsArray().First(a => a!["type"]!.GetValue<string>() == "QUEUE")!;
        Assert.Equal("Sneaker Drop — Queue", queue["experienceName"]!.GetValue<string>());
        Assert.Contains(queue["status"]!.GetValue<string>(), new[] { "QUEUED", "ADMITTED" });
        Assert.NotNull(queue["enqueuedAt"]);
        var stamps = t["activities"]!.AsArray().Select(a => a!["timestamp"]!.GetValue<string>()).ToList();
        Assert.Equal(stamps.OrderBy(s => s, StringComparer.Ordinal), stamps);

        var only = await emu.Admin.GetJsonAsync($"/consumers/{id}/timeline?types=QUEUE,DRAW", sk);
        Assert.Single(only["activities"]!.AsArray());
        var c = await emu.Admin.GetJsonAsync($"/consumers/{id}", sk);
        Assert.NotNull(c["lastLoginAt"]);
        Assert.Equal(1, c["totalEngagements"]!.GetValue<int>());
        Assert.Equal("US", c["lastGeoCountry"]!.GetValue<string>());
        Assert.True(c["totalMessages"]!.GetValue<int>() >= 1);
    }

    [Fact]
    public async Task The_default_seed_gives_every_new_operation_something_real()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var sk = Sk(org.SecretKey);
        var vip = (await emu.Admin.GetJsonAsync("/consumers?email=vip@fanfare.test", sk))["data"]![0]!;
        Assert.Equal(2, vip["totalOrders"]!.GetValue<int>());
        Assert.Equal("200", vip["ltv"]!.GetValue<string>());
        Assert.Equal(300 + 220 + 180, vip["loyaltyBalance"]!.GetValue<int>()); // bonus + two conversions (100 + 1 per unit)
        var vipId = vip["id"]!.GetValue<string>();
        var buckets = (await emu.Admin.GetJsonAsync($"/consumers/{vipId}/loyalty-transactions", sk))["expiringBuckets"]!.AsArray();
        Assert.Equal(3, buckets.Count); // fixed expiry after 12 months
        var audiences = (await emu.Admin.GetJsonAsync("/audiences", sk))["data"]!.AsArray();
        Assert.Contains(audiences, a => a!["type"]!.GetValue<string>() == "DYNAMIC" && a["groupId"] is null);
        Assert.Equal(3, audiences.Count(a => a!["groupName"]?.GetValue<string>() == "Loyalty tiers"));
        var mine = (await emu.Admin.GetJsonAsync($"/consumers/{vipId}/audiences", sk)).AsArray().Select(a => a!["name"]!.GetValue<string>()).ToList();
        Assert.Contains("High value (LTV ≥ 100)", mine);
        Assert.Contains("Silver", mine);
        Assert.NotEmpty((await emu.Admin.GetJsonAsync($"/consumers/{vipId}/timeline", sk))["activities"]!.AsArray());
    }

    [Fact]
    public async Task Openapi_lists_the_new_operations_on_their_ports()
    {
        await emu.ResetAsync();
        var admin = (await emu.Admin.GetJsonAsync("/openapi/v1.json"))["paths"]!.AsObject();
        foreach (var path in new[] { "/consumers", "/consumers/{id}", "/consumers/batch", "/consumers/distribution", "/consumers/{id}/audiences",
                     "/consumers/{id}/loyalty-transactions", "/consumers/{id}/timeline", "/audiences", "/audiences/{audienceId}", "/audiences/{audienceId}/count",
                     "/audiences/{audienceId}/import", "/audiences/{audienceId}/members", "/audiences/{audienceId}/rules", "/audiences/{audienceId}/rules/{ruleId}",
                     "/audiences/{audienceId}/status", "/audiences/{audienceId}/sync", "/audiences/groups/{groupId}", "/audiences/groups/{groupId}/members",
                     "/audiences/import/klaviyo", "/audiences/import/mailchimp", "/audiences/import/sendgrid", "/audiences/loyalty-tiers", "/audiences/loyalty-tiers/{groupId}" })
            Assert.True(admin.ContainsKey(path), path);
        var consumer = (await emu.Consumer.GetJsonAsync("/openapi/v1.json"))["paths"]!.AsObject();
        foreach (var path in new[] { "/loyalty/balance", "/loyalty/expirations", "/loyalty/history" })
            Assert.True(consumer.ContainsKey(path), path);
    }
}
