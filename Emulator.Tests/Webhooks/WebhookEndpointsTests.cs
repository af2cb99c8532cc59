using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Infrastructure;
using static Fanfare.Emulator.Tests.Infrastructure.HttpClientExtensions;

namespace Fanfare.Emulator.Tests.Webhooks;

/// <summary>Endpoint management on the admin port (behavior.md §7.1).</summary>
public sealed class WebhookEndpointsTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    [Fact]
    public async Task Create_get_list_patch_delete_round_trip()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();

        var created = await emu.CreateEndpointAsync(org.SecretKey, "http://localhost:3000/webhooks/fanfare", ["queue.consumer.admitted", "order.created"],
            new JsonObject { ["description"] = "local app" });
        var id = created["id"].S();
        Assert.StartsWith("whe_", id);
        Assert.Equal(org.WebhookSecret, created["secret"].S()); // no secret given: the organization's well-known one
        Assert.StartsWith("whsec_", created["secret"].S());
        Assert.Equal("v1", created["signatureScheme"].S());
        Assert.True(created["enabled"]!.GetValue<bool>());
        Assert.Equal(org.Id, created["organizationId"].S());
        Assert.Equal(["queue.consumer.admitted", "order.created"], created["events"]!.AsArray().Select(e => e.S()));

        var own = await emu.CreateEndpointAsync(org.SecretKey, "https://example.test/hook", ["*"],
            new JsonObject { ["secret"] = "whsec_mine", ["signatureScheme"] = "body-hex", ["enabled"] = false });
        Assert.Equal("whsec_mine", own["secret"].S());
        Assert.Equal("body-hex", own["signatureScheme"].S());
        Assert.Equal("disabled", own["status"].S());

        var list = (await emu.Admin.GetJsonAsync("/webhooks", Sk(org.SecretKey)))["data"]!.AsArray();
        Assert.Equal([id, own["id"].S()], list.Select(e => e!["id"].S()));

        // the guides' prefixes reach the same endpoints
        foreach (var prefix in new[] { "", "/api", "/api/v1" })
            Assert.Equal("local app", (await emu.Admin.GetJsonAsync($"{prefix}/webhooks/{id}", Sk(org.SecretKey)))["description"].S());

        var patched = (await emu.Admin.SendJsonAsync(HttpMethod.Patch, $"/api/v1/webhooks/{id}", new JsonObject { ["enabled"] = false }, Sk(org.SecretKey))).EnsureStatus(200);
        Assert.False(patched["enabled"].GetValue<bool>());
        Assert.Equal("manual", patched["disabledReason"].S());
        patched = (await emu.Admin.SendJsonAsync(HttpMethod.Patch, $"/webhooks/{id}",
            new JsonObject { ["enabled"] = true, ["url"] = "http://localhost:3001/x", ["events"] = new JsonArray("*") }, Sk(org.SecretKey))).EnsureStatus(200);
        Assert.True(patched["enabled"].GetValue<bool>());
        Assert.Null(patched["disabledReason"]);
        Assert.Equal("http://localhost:3001/x", patched["url"].S());

        var deleted = (await emu.Admin.SendJsonAsync(HttpMethod.Delete, $"/webhooks/{id}", null, Sk(org.SecretKey))).EnsureStatus(200);
        Assert.Equal(id, deleted["id"].S());
        var gone = await emu.Admin.GetAsync($"/webhooks/{id}", Sk(org.SecretKey));
        Assert.Equal(404, gone.Code);
        Assert.Equal("Webhook endpoint not found", gone["error"].S());
    }

    [Fact]
    public async Task Secret_key_required_and_endpoints_are_scoped_to_their_organization()
    {
        await emu.ResetAsync();
        var orgs = await emu.OrganizationsAsync();
        var (demo, acme) = (orgs[0], orgs[1]);

        var none = await emu.Admin.GetAsync("/webhooks", null);
        Assert.Equal(401, none.Code);
        Assert.Equal("Authentication required", none["error"].S());
        var pk = await emu.Admin.PostJsonAsync("/webhooks", new JsonObject { ["url"] = "http://x.test/", ["events"] = new JsonArray("*") },
            new Dictionary<string, string> { ["Authorization"] = "Bearer " + demo.PublishableKey });
        Assert.Equal(401, pk.Code);
        Assert.Equal("Secret key required", pk["error"].S());

        var ep = await emu.CreateEndpointAsync(demo.SecretKey, "http://x.test/", ["*"]);
        var cross = await emu.Admin.GetAsync($"/webhooks/{ep["id"].S()}", Sk(acme.SecretKey));
        Assert.Equal(404, cross.Code);
        Assert.Empty((await emu.Admin.GetJsonAsync("/webhooks", Sk(acme.SecretKey)))["data"]!.AsArray());
        Assert.Equal(acme.WebhookSecret, (await emu.CreateEndpointAsync(acme.SecretKey, "http://x.test/", ["*"]))["secret"].S());
        Assert.NotEqual(demo.WebhookSecret, acme.WebhookSecret);
    }

    [Fact]
    public async Task Invalid_input_is_a_validation_error()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();

        async Task<JsonArray> Issues(JsonObject body)
        {
            var r = await emu.Admin.PostJsonAsync("/webhooks", body, Sk(org.SecretKey));
            Assert.Equal(400, r.Code);
            Assert.Equal("validation_error", r["error"].S());
            return r["issues"].AsArray();
        }
        string Key(JsonNode? issue) => issue!["path"]![0]!["key"].S();

        Assert.Equal(["url", "events"], (await Issues([])).Select(Key));
        Assert.Equal("url", Key((await Issues(new JsonObject { ["url"] = "not a url", ["events"] = new JsonArray("*") })).Single()));
        Assert.Equal("url", Key((await Issues(new JsonObject { ["url"] = "ftp://x.test/", ["events"] = new JsonArray("*") })).Single()));
        var unknown = (await Issues(new JsonObject { ["url"] = "http://x.test/", ["events"] = new JsonArray("queue.consumer_entered") })).Single();
        Assert.Equal("events", Key(unknown));
        Assert.Equal("\"queue.consumer_entered\"", unknown["received"].S());
        Assert.Equal("events", Key((await Issues(new JsonObject { ["url"] = "http://x.test/", ["events"] = new JsonArray() })).Single()));
        Assert.Equal("signatureScheme", Key((await Issues(new JsonObject { ["url"] = "http://x.test/", ["events"] = new JsonArray("*"), ["signatureScheme"] = "v2" })).Single()));

        var ep = await emu.CreateEndpointAsync(org.SecretKey, "http://x.test/", ["*"]);
        var badTest = await emu.Admin.PostJsonAsync("/webhooks/test", new JsonObject { ["endpointId"] = ep["id"].S(), ["eventType"] = "queue.nope" }, Sk(org.SecretKey));
        Assert.Equal(400, badTest.Code);
        var unknownEndpoint = await emu.Admin.PostJsonAsync("/webhooks/test", new JsonObject { ["endpointId"] = "whe_nope", ["eventType"] = "order.created" }, Sk(org.SecretKey));
        Assert.Equal(404, unknownEndpoint.Code);
        var badReplay = await emu.Admin.PostJsonAsync($"/webhooks/{ep["id"].S()}/replay", new JsonObject { ["startTime"] = "yesterday" }, Sk(org.SecretKey));
        Assert.Equal(400, badReplay.Code);
        Assert.Equal(["startTime", "endTime"], badReplay["issues"].AsArray().Select(Key));
        Assert.Equal(400, (await emu.Admin.GetAsync("/webhooks/events?startTime=soon", Sk(org.SecretKey))).Code);
    }

    [Fact]
    public async Task Ids_are_deterministic_for_the_same_seed_and_calls()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var first = (await emu.CreateEndpointAsync(org.SecretKey, "http://x.test/", ["*"]))["id"].S();
        await emu.ResetAsync();
        var second = (await emu.CreateEndpointAsync(org.SecretKey, "http://x.test/", ["*"]))["id"].S();
        Assert.Equal(first, second);
    }
}
