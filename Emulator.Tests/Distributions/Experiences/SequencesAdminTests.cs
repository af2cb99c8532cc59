using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Distributions.Experiences;

/// <summary>Admin sequences (CRUD, relations, products, order limits) and scheduled events.</summary>
public sealed class SequencesAdminTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    // P1, P2: products of the default seed (sequence products must name real products); P3 names nothing
    private const string P1 = "0190f000-0000-7000-8000-000000000101", P2 = "0190f000-0000-7000-8000-000000000102", P3 = "0190a0a0-0000-7000-8000-000000000003";

    [Fact]
    public async Task Sequence_crud_with_relations_and_cascade()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var sk = HttpClientExtensions.Sk(org.SecretKey);
        var now = DateTimeOffset.UtcNow;
        var (expId, seqId, apptId) = await emu.ExperienceWithAppointmentAsync(org.SecretKey, now, now.AddDays(1));

        var created = (await emu.Admin.PostJsonAsync("/sequences", new JsonObject
        {
            ["name"] = "Late", ["experienceId"] = expId, ["priority"] = 2.5, ["productSelectionMode"] = "SYSTEM_ASSIGNED",
        }, sk)).EnsureStatus(200);
        Assert.Equal(2.5, created["priority"].GetValue<double>());
        Assert.False(created.Json!.AsObject().ContainsKey("queues")); // plain Sequence shape
        Assert.Equal("SYSTEM_ASSIGNED", created["productSelectionMode"].GetValue<string>());

        var withRel = await emu.Admin.GetJsonAsync($"/sequences/{seqId}", sk);
        Assert.Equal(apptId, withRel["appointments"]![0]!["id"]!.GetValue<string>());
        Assert.Empty(withRel["announcements"]!.AsArray());

        var filtered = await emu.Admin.GetJsonAsync($"/sequences?experienceId={expId}", sk);
        Assert.Equal(2, filtered["data"]!.AsArray().Count);

        var put = (await emu.Admin.SendJsonAsync(HttpMethod.Put, $"/sequences/{created["id"].GetValue<string>()}",
            new JsonObject { ["name"] = "Later", ["accessCode"] = "X1", ["color"] = "#123456" }, sk)).EnsureStatus(200);
        Assert.Equal("Later", put["name"].GetValue<string>());
        Assert.Equal("X1", put["accessCode"].GetValue<string>());
        Assert.Equal("#123456", put["color"].GetValue<string>());
        Assert.Equal(400, (await emu.Admin.SendJsonAsync(HttpMethod.Put, $"/sequences/{seqId}", new JsonObject { ["priority"] = null }, sk)).Code);
        Assert.Equal(400, (await emu.Admin.PostJsonAsync("/sequences", new JsonObject { ["name"] = "Bad", ["productSelectionMode"] = "RANDOM" }, sk)).Code);
        Assert.Equal(404, (await emu.Admin.PostJsonAsync("/sequences", new JsonObject { ["name"] = "Orphan", ["experienceId"] = P1 }, sk)).Code);

        var deleted = (await emu.Admin.SendJsonAsync(HttpMethod.Delete, $"/sequences/{seqId}", null, sk)).EnsureStatus(200);
        Assert.True(deleted["archived"].GetValue<bool>());
        var gone = await emu.Admin.GetAsync($"/sequences/{seqId}", sk);
        Assert.Equal(404, gone.Code);
        Assert.Equal("Sequence not found", gone["error"].GetValue<string>());
        Assert.Equal(404, (await emu.Admin.GetAsync($"/appointments/{apptId}", sk)).Code); // its distributions went with it
        Assert.Equal(404, (await emu.Consumer.GetAsync($"/appointments/{apptId}", HttpClientExtensions.Pk(org.PublishableKey))).Code);
    }

    [Fact]
    public async Task Weighted_products_and_order_limits()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var sk = HttpClientExtensions.Sk(org.SecretKey);
        var seq = (await emu.Admin.PostJsonAsync("/sequences", new JsonObject { ["name"] = "Mystery" }, sk)).EnsureStatus(200)["id"].GetValue<string>();

        var p = (await emu.Admin.PostJsonAsync($"/sequences/{seq}/products", new JsonObject { ["productId"] = P1, ["weight"] = 10 }, sk)).EnsureStatus(200);
        Assert.Equal(10, p["weight"].GetValue<int>());
        var dup = await emu.Admin.PostJsonAsync($"/sequences/{seq}/products", new JsonObject { ["productId"] = P1, ["weight"] = 1 }, sk);
        Assert.Equal(400, dup.Code);
        Assert.Equal("unique", dup["issues"][0]!["type"]!.GetValue<string>());
        Assert.Equal(400, (await emu.Admin.PostJsonAsync($"/sequences/{seq}/products", new JsonObject { ["productId"] = P2, ["weight"] = 1001 }, sk)).Code);

        var replaced = (await emu.Admin.SendJsonAsync(HttpMethod.Put, $"/sequences/{seq}/products",
            new JsonArray(new JsonObject { ["productId"] = P1, ["weight"] = 5 }, new JsonObject { ["productId"] = P2, ["weight"] = 7 }), sk)).EnsureStatus(200);
        Assert.Equal(2, replaced.Json!.AsArray().Count);
        Assert.Equal(p["id"].GetValue<string>(), replaced.Json![0]!["id"]!.GetValue<string>()); // kept product keeps its id
        var one = await emu.Admin.GetJsonAsync($"/sequences/{seq}/products/{P2}", sk);
        Assert.Equal(7, one["weight"]!.GetValue<int>());
        (await emu.Admin.SendJsonAsync(HttpMethod.Put, $"/sequences/{seq}/products/{P2}", new JsonObject { ["weight"] = 9 }, sk)).EnsureStatus(200);
        (await emu.Admin.SendJsonAsync(HttpMethod.Delete, $"/sequences/{seq}/products/{P1}", null, sk)).EnsureStatus(200);
        var list = await emu.Admin.GetJsonAsync($"/sequences/{seq}/products", sk);
        Assert.Equal(9, Assert.Single(list.AsArray())!["weight"]!.GetValue<int>());
        Assert.Equal(404, (await emu.Admin.GetAsync($"/sequences/{seq}/products/{P3}", sk)).Code);
        Assert.Equal(400, (await emu.Admin.SendJsonAsync(HttpMethod.Put, $"/sequences/{seq}/products", new JsonObject(), sk)).Code);

        var limit = (await emu.Admin.PostJsonAsync($"/sequences/{seq}/order-limits", new JsonObject
        {
            ["sequenceId"] = seq, ["productId"] = P1, ["maxQuantity"] = 2, ["timeWindowSeconds"] = 86400, ["timeWindowType"] = "rolling",
        }, sk)).EnsureStatus(200);
        var limitId = limit["id"].GetValue<string>();
        Assert.Null(limit["productVariantId"]);
        Assert.Equal(400, (await emu.Admin.PostJsonAsync($"/sequences/{seq}/order-limits", new JsonObject
        {
            ["sequenceId"] = seq, ["productId"] = P1, ["maxQuantity"] = 0,
        }, sk)).Code);
        var updated = (await emu.Admin.SendJsonAsync(HttpMethod.Put, $"/sequences/{seq}/order-limits/{limitId}",
            new JsonObject { ["maxQuantity"] = 3, ["timeWindowType"] = null }, sk)).EnsureStatus(200);
        Assert.Equal(3, updated["maxQuantity"].GetValue<int>());
        Assert.Null(updated["timeWindowType"]);
        Assert.Equal(86400, updated["timeWindowSeconds"].GetValue<int>());
        Assert.Single((await emu.Admin.GetJsonAsync($"/sequences/{seq}/order-limits", sk)).AsArray());
        (await emu.Admin.SendJsonAsync(HttpMethod.Delete, $"/sequences/{seq}/order-limits/{limitId}", null, sk)).EnsureStatus(200);
        Assert.Equal(404, (await emu.Admin.GetAsync($"/sequences/{seq}/order-limits/{limitId}", sk)).Code);
    }

    [Fact]
    public async Task Scheduled_events_follow_distribution_times_and_the_clock()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var sk = HttpClientExtensions.Sk(org.SecretKey);
        var now = await emu.FreezeClockAsync();
        var (_, _, apptId) = await emu.ExperienceWithAppointmentAsync(org.SecretKey, now.AddMinutes(30), now.AddMinutes(90));

        async Task<List<JsonNode>> Mine()
        {
            var all = new List<JsonNode>();
            string? after = null;
            do
            {
                var page = await emu.Admin.GetJsonAsync("/scheduled-events?first=100" + (after is null ? "" : "&after=" + Uri.EscapeDataString(after)), sk);
                all.AddRange(page["data"]!.AsArray().Select(x => x!));
                after = page["pageInfo"]!["endCursor"]?.GetValue<string>();
            } while (after is not null);
            return all.Where(e => e["payload"]!["distributionId"]?.GetValue<string>() == apptId).ToList();
        }
        var events = await Mine();
        Assert.Equal(["open", "close"], events.Select(e => e["payload"]!["action"]!.GetValue<string>()));
        Assert.All(events, e => Assert.Equal("distributionUpdate", e["topic"]!.GetValue<string>()));
        Assert.All(events, e => Assert.Equal("pending", e["status"]!.GetValue<string>()));
        Assert.Equal(XApi.Iso(now.AddMinutes(30)), events[0]["scheduledAt"]!.GetValue<string>());

        await emu.AdvanceClockAsync(45 * 60);
        var later = await Mine();
        Assert.Equal("completed", later[0]["status"]!.GetValue<string>());
        Assert.Equal("pending", later[1]["status"]!.GetValue<string>());
        Assert.Equal(events[0]["id"]!.GetValue<string>(), later[0]["id"]!.GetValue<string>());
    }
}
