using System.Text;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Consumers;
using Fanfare.Emulator.Tests.Infrastructure;
using static Fanfare.Emulator.Tests.Infrastructure.HttpClientExtensions;

namespace Fanfare.Emulator.Tests.Audiences;

/// <summary>The 26 audience operations of admin-part1.md and <c>GET /consumers/{id}/audiences</c>, over HTTP.</summary>
public sealed class AudiencesTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    private static JsonObject Rule(string field, string op, params JsonNode?[] values) =>
        new() { ["field"] = field, ["operator"] = op, ["values"] = new JsonArray(values) };

    [Trait("Category", "InProcess")]
    [Fact]
    public async Task Rule_audience_crud_count_and_members_agree_with_real_orders()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var sk = Sk(org.SecretKey);
        var ids = await emu.BatchAsync(org.SecretKey, "a1@aud.test", "a2@aud.test", "a3@aud.test");
        emu.CompleteOrder(org.Id, ids[0], "250.00");
        emu.CompleteOrder(org.Id, ids[1], "40.00");

        var created = (await emu.Admin.PostJsonAsync("/audiences", new JsonObject
        {
            ["name"] = "Big spenders", ["type"] = "DYNAMIC", ["rules"] = new JsonArray(Rule("ltv", "GREATER_THAN_OR_EQUAL", 100), Rule("email", "CONTAINS", "@aud.test")),
        }, sk)).EnsureStatus(200);
        var id = created["id"].GetValue<string>();
        Assert.Equal(2, created["rules"].AsArray().Count);
        Assert.Empty(created["imports"].AsArray());

        var count = await emu.Admin.GetJsonAsync($"/audiences/{id}/count", sk);
        Assert.Equal(1, count["count"]!.GetValue<int>());
        var members = await emu.Admin.GetJsonAsync($"/audiences/{id}/members", sk);
        Assert.Equal(ids[0], Assert.Single(members["data"]!.AsArray())!["id"]!.GetValue<string>());

        // Another order moves a consumer in: count and members follow.
        emu.CompleteOrder(org.Id, ids[1], "70.00");
        Assert.Equal(2, (await emu.Admin.GetJsonAsync($"/audiences/{id}/count", sk))["count"]!.GetValue<int>());
        Assert.Equal(2, (await emu.Admin.GetJsonAsync($"/audiences/{id}/members", sk))["data"]!.AsArray().Count);
        var mine = await emu.Admin.GetJsonAsync($"/consumers/{ids[1]}/audiences", sk);
        Assert.Contains(mine.AsArray(), a => a!["id"]!.GetValue<string>() == id);
        Assert.False(mine[0]!.AsObject().ContainsKey("rules")); // AudienceSummary

        // Rules: add (AND), get, update, delete, replace-all.
        var r2 = (await emu.Admin.PostJsonAsync($"/audiences/{id}/rules", new JsonObject
        {
            ["audienceId"] = id, ["field"] = "email", ["operator"] = "CONTAINS", ["values"] = new JsonArray("a2@"),
        }, sk)).EnsureStatus(200);
        var r2id = r2["id"].GetValue<string>();
        Assert.Equal(1, (await emu.Admin.GetJsonAsync($"/audiences/{id}/count", sk))["count"]!.GetValue<int>());
        Assert.Equal("CONTAINS", (await emu.Admin.GetJsonAsync($"/audiences/{id}/rules/{r2id}", sk))["operator"]!.GetValue<string>());
        (await emu.Admin.SendJsonAsync(HttpMethod.Put, $"/audiences/{id}/rules/{r2id}", new JsonObject { ["values"] = new JsonArray("a1@") }, sk)).EnsureStatus(200);
        Assert.Equal(ids[0], (await emu.Admin.GetJsonAsync($"/audiences/{id}/members", sk))["data"]![0]!["id"]!.GetValue<string>());
        (await emu.Admin.SendJsonAsync(HttpMethod.Delete, $"/audiences/{id}/rules/{r2id}", null, sk)).EnsureStatus(200);
        Assert.Equal(404, (await emu.Admin.GetAsync($"/audiences/{id}/rules/{r2id}", sk)).Code);
        var replaced = (await emu.Admin.SendJsonAsync(HttpMethod.Put, $"/audiences/{id}/rules", new JsonObject
        {
            ["rules"] = new JsonArray(new JsonObject { ["audienceId"] = id, ["field"] = "totalOrders", ["operator"] = "EQUALS", ["values"] = new JsonArray(0) }),
        }, sk)).EnsureStatus(200);
        Assert.Single(replaced.Json!.AsArray());
        Assert.Single((await emu.Admin.GetJsonAsync($"/audiences/{id}/rules", sk)).AsArray());
        Assert.Contains((await emu.Admin.GetJsonAsync($"/audiences/{id}/members?first=100", sk))["data"]!.AsArray(), c => c!["id"]!.GetValue<string>() == ids[2]);

        var status = await emu.Admin.GetJsonAsync($"/audiences/{id}/status", sk);
        Assert.True(status["version"]!.GetValue<int>() > 1);
        Assert.False(status["inProgress"]!.GetValue<bool>());

        var put = (await emu.Admin.SendJsonAsync(HttpMethod.Put, $"/audiences/{id}", new JsonObject { ["name"] = "No orders", ["description"] = "d" }, sk)).EnsureStatus(200);
        Assert.Equal("No orders", put["name"].GetValue<string>());
        Assert.False(put.Json!.AsObject().ContainsKey("rules")); // AudienceBase
        var list = await emu.Admin.GetJsonAsync("/audiences", sk);
        Assert.Contains(list["data"]!.AsArray(), a => a!["id"]!.GetValue<string>() == id);
        var del = (await emu.Admin.SendJsonAsync(HttpMethod.Delete, $"/audiences/{id}", null, sk)).EnsureStatus(200);
        Assert.True(del["archived"].GetValue<bool>());
        Assert.Equal(404, (await emu.Admin.GetAsync($"/audiences/{id}", sk)).Code);
    }

    [Fact]
    public async Task Bad_input_is_a_validation_error_and_changes_nothing()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var sk = Sk(org.SecretKey);
        var before = (await emu.Admin.GetJsonAsync("/audiences", sk))["data"]!.AsArray().Count;
        var bad = await emu.Admin.PostJsonAsync("/audiences", new JsonObject
        {
            ["name"] = "", ["type"] = "NOPE", ["rules"] = new JsonArray(Rule("shoeSize", "BETWEEN", 1)),
        }, sk);
        Assert.Equal(400, bad.Code);
        Assert.Equal("validation_error", bad["error"].GetValue<string>());
        Assert.True(bad["issues"].AsArray().Count >= 4);
        Assert.Equal(before, (await emu.Admin.GetJsonAsync("/audiences", sk))["data"]!.AsArray().Count);
        var stat = (await emu.Admin.PostJsonAsync("/audiences", new JsonObject { ["name"] = "VIP list", ["type"] = "STATIC_LIST" }, sk)).EnsureStatus(200);
        var sid = stat["id"].GetValue<string>();
        var wrongAudience = await emu.Admin.PostJsonAsync($"/audiences/{sid}/rules", new JsonObject
        {
            ["audienceId"] = "00000000-0000-4000-8000-000000000000", ["field"] = "ltv", ["operator"] = "EQUALS", ["values"] = new JsonArray(1),
        }, sk);
        Assert.Equal(400, wrongAudience.Code);
        Assert.Equal(400, (await emu.Admin.PostJsonAsync($"/audiences/{sid}/members", new JsonObject { ["consumerIds"] = new JsonArray("nobody") }, sk)).Code);
        Assert.Equal(404, (await emu.Admin.GetAsync("/audiences/does-not-exist/count", sk)).Code);
        Assert.Equal(401, (await emu.Admin.GetAsync("/audiences", Pk(org.PublishableKey))).Code);
    }

    [Fact]
    public async Task Static_list_members_and_routing_refuses_non_members()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var sk = Sk(org.SecretKey);
        var ids = await emu.BatchAsync(org.SecretKey, "s1@aud.test", "s2@aud.test");
        var a = (await emu.Admin.PostJsonAsync("/audiences", new JsonObject { ["name"] = "Insiders", ["type"] = "STATIC_LIST" }, sk)).EnsureStatus(200);
        var id = a["id"].GetValue<string>();
        var added = (await emu.Admin.PostJsonAsync($"/audiences/{id}/members", new JsonObject { ["consumerIds"] = new JsonArray(ids[0], ids[0]) }, sk)).EnsureStatus(200);
        Assert.Equal(1, added["addedCount"].GetValue<int>());
        Assert.Equal(1, (await emu.Admin.GetJsonAsync($"/audiences/{id}/count", sk))["count"]!.GetValue<int>());
        var dyn = (await emu.Admin.PostJsonAsync("/audiences", new JsonObject { ["name"] = "D", ["type"] = "DYNAMIC" }, sk)).EnsureStatus(200);
        Assert.Equal(400, (await emu.Admin.PostJsonAsync($"/audiences/{dyn["id"].GetValue<string>()}/members", new JsonObject { ["consumerIds"] = new JsonArray(ids[1]) }, sk)).Code);

        // A sequence limited to the audience: a member is routed to it, a guest is not.
        var exp = (await emu.Admin.PostJsonAsync("/experiences", new JsonObject
        {
            ["name"] = "Members only", ["sequence"] = new JsonObject { ["name"] = "Insiders", ["audienceId"] = id },
        }, sk)).EnsureStatus(200);
        var expId = exp["id"].GetValue<string>();
        var guest = await emu.GuestAsync(org.PublishableKey);
        var refused = (await emu.Consumer.PostJsonAsync($"/experiences/{expId}/route", new JsonObject(), Pk(org.PublishableKey, guest.AccessToken))).Json!.ToJsonString();
        Assert.Contains("AUDIENCE_NOT_MEMBER", refused);

        (await emu.Admin.SendJsonAsync(HttpMethod.Put, $"/consumers/{ids[0]}", new JsonObject { ["fullName"] = "Insider" }, sk)).EnsureStatus(200);
        var session = await emu.SignInByEmailAsync(org.PublishableKey, "s1@aud.test");
        Assert.Equal(ids[0], session["session"]!["consumerId"]!.GetValue<string>());
        var routed = (await emu.Consumer.PostJsonAsync($"/experiences/{expId}/route", new JsonObject(), Pk(org.PublishableKey, session["accessToken"]!.GetValue<string>()))).Json!.ToJsonString();
        Assert.DoesNotContain("AUDIENCE_NOT_MEMBER", routed);
    }

    [Fact]
    public async Task Loyalty_tier_groups_enforce_non_overlapping_ranges()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var sk = Sk(org.SecretKey);
        JsonObject Tier(string name, int order, JsonNode start, JsonNode? end) => new() { ["name"] = name, ["order"] = order, ["startValue"] = start, ["endValue"] = end };
        var overlap = await emu.Admin.PostJsonAsync("/audiences/loyalty-tiers", new JsonObject
        {
            ["groupName"] = "Tiers", ["attribute"] = "loyaltyBalance",
            ["tiers"] = new JsonArray(Tier("Silver", 1, 0, 600), Tier("Gold", 2, 500, null)),
        }, sk);
        Assert.Equal(400, overlap.Code);
        Assert.Contains("overlap", overlap.Text);

        var ids = await emu.BatchAsync(org.SecretKey, "t1@aud.test", "t2@aud.test");
        (await emu.Control.PostJsonAsync("/_emulator/loyalty/adjustments", new JsonObject { ["consumerId"] = ids[1], ["delta"] = 700 })).EnsureStatus(200);
        var created = (await emu.Admin.PostJsonAsync("/audiences/loyalty-tiers", new JsonObject
        {
            ["groupName"] = "Tiers", ["attribute"] = "loyaltyBalance",
            ["tiers"] = new JsonArray(Tier("Silver", 1, 0, "500"), Tier("Gold", 2, 500, null)),
        }, sk)).EnsureStatus(200);
        var groupId = created["tierGroup"].GetValue<string>();
        var gold = created["audiences"].AsArray().First(a => a!["name"]!.GetValue<string>() == "Gold")!;
        Assert.Equal(groupId, gold["groupId"]!.GetValue<string>());
        Assert.Equal("SEGMENTED_VALUE", gold["groupType"]!.GetValue<string>());
        var goldMembers = (await emu.Admin.GetJsonAsync($"/audiences/{gold["id"]!.GetValue<string>()}/members?first=100", sk))["data"]!.AsArray();
        Assert.Contains(goldMembers, c => c!["id"]!.GetValue<string>() == ids[1]);
        Assert.DoesNotContain(goldMembers, c => c!["id"]!.GetValue<string>() == ids[0]);
        Assert.All(goldMembers, c => Assert.True(c!["loyaltyBalance"]!.GetValue<int>() >= 500));

        Assert.Equal(2, (await emu.Admin.GetJsonAsync($"/audiences/groups/{groupId}", sk)).AsArray().Count);
        var groupMembers = await emu.Admin.GetJsonAsync($"/audiences/groups/{groupId}/members?first=100", sk);
        Assert.Contains(groupMembers["data"]!.AsArray(), c => c!["id"]!.GetValue<string>() == ids[0]);

        var updated = (await emu.Admin.SendJsonAsync(HttpMethod.Put, $"/audiences/loyalty-tiers/{groupId}", new JsonObject
        {
            ["groupName"] = "Tiers v2", ["attribute"] = "loyaltyBalance",
            ["tiers"] = new JsonArray(Tier("Silver", 1, 0, 1000), Tier("Platinum", 2, 1000, null)),
        }, sk)).EnsureStatus(200);
        Assert.Equal(groupId, updated["tierGroup"].GetValue<string>());
        var names = (await emu.Admin.GetJsonAsync($"/audiences/groups/{groupId}", sk)).AsArray().Select(a => a!["name"]!.GetValue<string>()).OrderBy(x => x).ToList();
        Assert.Equal(["Platinum", "Silver"], names);
        Assert.Equal(400, (await emu.Admin.SendJsonAsync(HttpMethod.Put, $"/audiences/loyalty-tiers/{groupId}", new JsonObject
        {
            ["groupName"] = "x", ["attribute"] = "loyaltyBalance", ["tiers"] = new JsonArray(Tier("A", 1, 0, null), Tier("B", 2, 10, null)),
        }, sk)).Code);

        var deleted = (await emu.Admin.SendJsonAsync(HttpMethod.Delete, $"/audiences/groups/{groupId}", null, sk)).EnsureStatus(200);
        Assert.Equal(2, deleted.Json!.AsArray().Count);
        Assert.Equal(404, (await emu.Admin.GetAsync($"/audiences/groups/{groupId}", sk)).Code);
    }

    [Fact]
    public async Task Provider_imports_complete_on_the_clock_and_sync_again()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var sk = Sk(org.SecretKey);
        await emu.FreezeClockAsync();
        (await emu.Control.SendJsonAsync(HttpMethod.Put, "/_emulator/audience-sources/klaviyo/lists/LST1", new JsonObject
        {
            ["name"] = "Newsletter",
            ["members"] = new JsonArray(
                new JsonObject { ["email"] = "Demo@Fanfare.test", ["name"] = "Existing" },
                new JsonObject { ["email"] = "new1@list.test", ["name"] = "New One" },
                new JsonObject { ["phone"] = "+15555550199" }),
        })).EnsureStatus(200);

        var result = (await emu.Admin.PostJsonAsync("/audiences/import/klaviyo", new JsonObject { ["listIds"] = new JsonArray("LST1", "NOPE") }, sk)).EnsureStatus(200);
        var imported = Assert.Single(result["imported"].AsArray())!;
        Assert.Equal("PENDING", imported["status"]!.GetValue<string>());
        var skipped = Assert.Single(result["skipped"].AsArray())!;
        Assert.Equal("NOPE", skipped["listId"]!.GetValue<string>());
        Assert.Equal("list_not_found", skipped["reason"]!.GetValue<string>());

        var audience = (await emu.Admin.GetJsonAsync("/audiences", sk))["data"]!.AsArray().First(a => a!["type"]!.GetValue<string>() == "SYNCED_LIST")!;
        var id = audience["id"]!.GetValue<string>();
        Assert.Equal("klaviyo", audience["primarySourceVendor"]!.GetValue<string>());
        Assert.Equal("LST1", audience["primaryExternalId"]!.GetValue<string>());
        Assert.Equal("PENDING", (await emu.Admin.GetJsonAsync($"/audiences/{id}/import", sk))["status"]!.GetValue<string>());
        Assert.Equal(0, (await emu.Admin.GetJsonAsync($"/audiences/{id}/count", sk))["count"]!.GetValue<int>());
        Assert.True((await emu.Admin.GetJsonAsync($"/audiences/{id}/status", sk))["inProgress"]!.GetValue<bool>());

        await emu.AdvanceClockAsync(1);
        Assert.Equal("PROCESSING", (await emu.Admin.GetJsonAsync($"/audiences/{id}/import", sk))["status"]!.GetValue<string>());
        await emu.AdvanceClockAsync(2);
        var done = await emu.Admin.GetJsonAsync($"/audiences/{id}/import", sk);
        Assert.Equal("COMPLETED", done["status"]!.GetValue<string>());
        Assert.Equal(3, done["processedConsumers"]!.GetValue<int>());
        var members = (await emu.Admin.GetJsonAsync($"/audiences/{id}/members", sk))["data"]!.AsArray();
        Assert.Equal(3, members.Count);
        Assert.Contains(members, m => m!["email"]?.GetValue<string>() == "demo@fanfare.test"); // matched, not duplicated
        var created = members.First(m => m!["email"]?.GetValue<string>() == "new1@list.test")!;
        Assert.Equal("klaviyo", created["primarySourceVendor"]!.GetValue<string>());
        Assert.Equal("SUCCESS", (await emu.Admin.GetJsonAsync($"/audiences/{id}/status", sk))["syncStatus"]!.GetValue<string>());

        var again = (await emu.Admin.PostJsonAsync("/audiences/import/klaviyo", new JsonObject { ["listIds"] = new JsonArray("LST1") }, sk)).EnsureStatus(200);
        Assert.Equal("already_synced", again["skipped"][0]!["reason"]!.GetValue<string>());
        Assert.Equal(id, again["skipped"][0]!["existingAudienceId"]!.GetValue<string>());

        // The list changes; a sync replaces the members.
        (await emu.Control.SendJsonAsync(HttpMethod.Put, "/_emulator/audience-sources/klaviyo/lists/LST1", new JsonObject
        {
            ["members"] = new JsonArray(new JsonObject { ["email"] = "new1@list.test" }),
        })).EnsureStatus(200);
        var sync = (await emu.Admin.PostJsonAsync($"/audiences/{id}/sync", null, sk)).EnsureStatus(200);
        Assert.True(sync["success"].GetValue<bool>());
        Assert.Equal("PENDING", sync["status"].GetValue<string>());
        await emu.AdvanceClockAsync(5);
        Assert.Equal(1, (await emu.Admin.GetJsonAsync($"/audiences/{id}/count", sk))["count"]!.GetValue<int>());
        var dynamicAudience = (await emu.Admin.PostJsonAsync("/audiences", new JsonObject { ["name"] = "x", ["type"] = "DYNAMIC" }, sk)).EnsureStatus(200);
        Assert.Equal(400, (await emu.Admin.PostJsonAsync($"/audiences/{dynamicAudience["id"].GetValue<string>()}/sync", null, sk)).Code);
    }

    [Fact]
    public async Task Csv_import_uploads_to_the_upload_url_and_completes_on_the_clock()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var sk = Sk(org.SecretKey);
        await emu.FreezeClockAsync();
        var a = (await emu.Admin.PostJsonAsync("/audiences", new JsonObject { ["name"] = "CSV", ["type"] = "STATIC_LIST" }, sk)).EnsureStatus(200);
        var id = a["id"].GetValue<string>();
        var imp = (await emu.Admin.PostJsonAsync($"/audiences/{id}/import", null, sk)).EnsureStatus(200);
        var url = imp["uploadUrl"].GetValue<string>();
        Assert.Equal("PENDING", imp["status"].GetValue<string>());
        var up = await emu.Admin.SendAsync(HttpMethod.Put, new Uri(url).PathAndQuery, new StringContent("email,fullName\ncsv1@aud.test,Csv One\nnot-an-email,Bad\n", Encoding.UTF8, "text/csv"));
        up.EnsureStatus(200);
        await emu.AdvanceClockAsync(5);
        var done = await emu.Admin.GetJsonAsync($"/audiences/{id}/import", sk);
        Assert.Equal("COMPLETED", done["status"]!.GetValue<string>());
        Assert.Equal(1, done["errorCount"]!.GetValue<int>());
        Assert.Equal(2, done["errors"]![0]!["row"]!.GetValue<int>());
        Assert.Equal("csv1@aud.test", (await emu.Admin.GetJsonAsync($"/audiences/{id}/members", sk))["data"]![0]!["email"]!.GetValue<string>());
    }
}
