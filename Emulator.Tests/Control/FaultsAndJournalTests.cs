using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Infrastructure;
using static Fanfare.Emulator.Tests.Infrastructure.HttpClientExtensions;

namespace Fanfare.Emulator.Tests.Control;

/// <summary>Fault and latency injection (<c>/_emulator/faults</c>) and the request journal (<c>/_emulator/requests</c>).</summary>
public sealed class FaultsAndJournalTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    private async Task<JsonNode> AddFaultAsync(JsonObject rule) =>
        (await emu.Control.PostJsonAsync("/_emulator/faults", rule)).EnsureStatus(201).Json!;

    [Fact]
    public async Task A_503_with_retry_after_fires_times_then_disappears()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var rule = await AddFaultAsync(new JsonObject
        {
            ["match"] = new JsonObject { ["api"] = "consumer", ["method"] = "POST", ["path"] = "/auth/guest" },
            ["fault"] = new JsonObject { ["status"] = 503, ["headers"] = new JsonObject { ["Retry-After"] = "5" } },
            ["times"] = 2,
        });
        var id = rule["id"]!.GetValue<string>();
        Assert.StartsWith("flt_", id);
        for (var i = 0; i < 2; i++)
        {
            var r = await emu.Consumer.PostJsonAsync("/api/v1/auth/guest", new JsonObject(), Pk(org.PublishableKey));
            Assert.Equal(503, r.Code);
            Assert.Equal("""{"error":"Service unavailable"}""", r.Text);
            Assert.Equal("5", r.Headers.RetryAfter!.ToString());
        }
        (await emu.Consumer.PostJsonAsync("/api/v1/auth/guest", new JsonObject(), Pk(org.PublishableKey))).EnsureStatus(200);
        Assert.Equal(404, (await emu.Control.GetAsync($"/_emulator/faults/{id}", null)).Code);
    }

    [Fact]
    public async Task Default_bodies_are_the_contract_envelopes_and_custom_bodies_are_sent_as_given()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await AddFaultAsync(new JsonObject { ["match"] = new JsonObject { ["path"] = "/experiences" , ["method"] = "GET" }, ["fault"] = new JsonObject { ["status"] = 500 }, ["times"] = 1 });
        var e500 = await emu.Admin.GetAsync("/api/experiences", Sk(org.SecretKey));
        Assert.Equal(500, e500.Code);
        Assert.Equal("""{"error":"Internal server error"}""", e500.Text);

        await AddFaultAsync(new JsonObject { ["match"] = new JsonObject { ["path"] = "/experiences/*" }, ["fault"] = new JsonObject { ["status"] = 429 }, ["times"] = 1 });
        var e429 = await emu.Admin.GetAsync("/api/experiences/anything", Sk(org.SecretKey));
        Assert.Equal(429, e429.Code);
        Assert.Equal("""{"error":"Rate limit exceeded","retryAfter":60}""", e429.Text);
        Assert.Equal("60", e429.Headers.RetryAfter!.ToString());

        await AddFaultAsync(new JsonObject { ["match"] = new JsonObject { ["api"] = "admin" }, ["fault"] = new JsonObject { ["status"] = 418, ["body"] = new JsonObject { ["teapot"] = true } }, ["times"] = 1 });
        var custom = await emu.Admin.GetAsync("/api/experiences", Sk(org.SecretKey));
        Assert.Equal(418, custom.Code);
        Assert.Equal("""{"teapot":true}""", custom.Text);
        (await emu.Admin.GetAsync("/api/experiences", Sk(org.SecretKey))).EnsureStatus(200);
    }

    [Fact]
    public async Task Faults_never_touch_the_control_plane_or_health()
    {
        await emu.ResetAsync();
        await AddFaultAsync(new JsonObject { ["match"] = new JsonObject { ["path"] = "/**" }, ["fault"] = new JsonObject { ["status"] = 503 } });
        (await emu.Control.GetAsync("/_emulator/health", null)).EnsureStatus(200);
        (await emu.Consumer.GetAsync("/health", null)).EnsureStatus(200);
        (await emu.Control.GetAsync("/_emulator/faults", null)).EnsureStatus(200);
        Assert.Equal(503, (await emu.Consumer.GetAsync("/api/experiences/x", null)).Code);
        Assert.Equal(204, (await emu.Control.SendAsync(HttpMethod.Delete, "/_emulator/faults", null)).Code);
        Assert.NotEqual(503, (await emu.Consumer.GetAsync("/api/experiences/x", null)).Code);
    }

    [Fact]
    public async Task A_dropped_connection_and_a_slow_response()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await AddFaultAsync(new JsonObject { ["match"] = new JsonObject { ["path"] = "/auth/guest" }, ["fault"] = new JsonObject { ["type"] = "connection_reset" }, ["times"] = 1 });
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => emu.Consumer.PostJsonAsync("/api/auth/guest", new JsonObject(), Pk(org.PublishableKey)));

        var slow = await AddFaultAsync(new JsonObject { ["match"] = new JsonObject { ["path"] = "/auth/guest" }, ["fault"] = new JsonObject { ["delay"] = new JsonObject { ["minSeconds"] = 0.05, ["maxSeconds"] = 0.2 } }, ["times"] = 1 });
        // Latency only: the request still runs.
        (await emu.Consumer.PostJsonAsync("/api/auth/guest", new JsonObject(), Pk(org.PublishableKey))).EnsureStatus(200);
        Assert.Equal(404, (await emu.Control.GetAsync($"/_emulator/faults/{slow["id"]}", null)).Code);
    }

    [Fact]
    public async Task Probability_is_deterministic_and_matches_by_organization()
    {
        async Task<string> Pattern()
        {
            await emu.ResetAsync();
            var org = await emu.DemoOrgAsync();
            await AddFaultAsync(new JsonObject { ["match"] = new JsonObject { ["organizationId"] = org.Id }, ["fault"] = new JsonObject { ["status"] = 503 }, ["probability"] = 0.5 });
            var s = "";
            for (var i = 0; i < 24; i++) s += (await emu.Admin.GetAsync("/api/experiences", Sk(org.SecretKey))).Code == 503 ? "x" : ".";
            // Another organization's requests never match.
            var other = (await emu.OrganizationsAsync())[1];
            (await emu.Admin.GetAsync("/api/experiences", Sk(other.SecretKey))).EnsureStatus(200);
            return s;
        }
        var first = await Pattern();
        Assert.Contains("x", first);
        Assert.Contains(".", first);
        Assert.Equal(first, await Pattern());
    }

    [Fact]
    public async Task Bad_rules_get_the_standard_400_with_nested_paths()
    {
        await emu.ResetAsync();
        var bad = await emu.Control.PostJsonAsync("/_emulator/faults", new JsonObject { ["fault"] = new JsonObject { ["status"] = "x" } });
        Assert.Equal(400, bad.Code);
        Assert.Equal("validation_error", bad["error"].GetValue<string>());
        var path = bad["issues"]![0]!["path"]!.AsArray().Select(p => p!["key"]!.GetValue<string>()).ToList();
        Assert.Equal(["fault", "status"], path);
        Assert.Equal(400, (await emu.Control.PostJsonAsync("/_emulator/faults", new JsonObject { ["fault"] = new JsonObject() })).Code);
        Assert.Equal(400, (await emu.Control.PostJsonAsync("/_emulator/faults", new JsonObject { ["fault"] = new JsonObject { ["status"] = 503 }, ["probability"] = 2 })).Code);
        Assert.Equal(400, (await emu.Control.PostJsonAsync("/_emulator/faults", new JsonObject { ["match"] = new JsonObject { ["api"] = "nope" }, ["fault"] = new JsonObject { ["status"] = 503 } })).Code);
        Assert.Empty((await emu.Control.GetJsonAsync("/_emulator/faults"))["faults"]!.AsArray());
    }

    [Fact]
    public async Task The_journal_records_api_requests_without_credentials_and_filters_them()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        Assert.Equal(204, (await emu.Control.SendAsync(HttpMethod.Delete, "/_emulator/requests", null)).Code);
        (await emu.Consumer.PostJsonAsync("/api/v1/auth/guest", new JsonObject { ["deviceFingerprint"] = "journal-test" }, Pk(org.PublishableKey))).EnsureStatus(200);
        Assert.Equal(401, (await emu.Admin.GetAsync("/api/experiences", null)).Code);
        await emu.Control.GetAsync("/_emulator/clock", null); // the control plane is not recorded

        var all = (await emu.Control.GetJsonAsync("/_emulator/requests"))["requests"]!.AsArray();
        Assert.Equal(2, all.Count);
        var unauth = all[0]!; // newest first
        Assert.Equal("admin", unauth["api"]!.GetValue<string>());
        Assert.Equal(401, unauth["status"]!.GetValue<int>());
        Assert.Equal("none", unauth["credential"]!.GetValue<string>());
        Assert.Contains("Authentication required", unauth["responseBody"]!.GetValue<string>());

        var guest = all[1]!;
        Assert.Equal("consumer", guest["api"]!.GetValue<string>());
        Assert.Equal("POST", guest["method"]!.GetValue<string>());
        Assert.Equal("/auth/guest", guest["path"]!.GetValue<string>());
        Assert.Equal("/api/v1/auth/guest", guest["target"]!.GetValue<string>());
        Assert.Equal("publishable", guest["credential"]!.GetValue<string>());
        Assert.Equal(org.Id, guest["organizationId"]!.GetValue<string>());
        Assert.Contains("journal-test", guest["requestBody"]!.GetValue<string>());
        Assert.Contains("accessToken", guest["responseBody"]!.GetValue<string>());
        Assert.DoesNotContain(org.PublishableKey, guest.ToJsonString());

        Assert.Single((await emu.Control.GetJsonAsync("/_emulator/requests?status=4xx"))["requests"]!.AsArray());
        Assert.Single((await emu.Control.GetJsonAsync("/_emulator/requests?api=consumer&path=/auth/**"))["requests"]!.AsArray());
        Assert.Single((await emu.Control.GetJsonAsync("/_emulator/requests?limit=1"))["requests"]!.AsArray());
        Assert.Empty((await emu.Control.GetJsonAsync("/_emulator/requests?since=2999-01-01T00:00:00Z"))["requests"]!.AsArray());
        Assert.Equal(400, (await emu.Control.GetAsync("/_emulator/requests?status=abc", null)).Code);
        Assert.Equal(204, (await emu.Control.SendAsync(HttpMethod.Delete, "/_emulator/requests", null)).Code);
        Assert.Empty((await emu.Control.GetJsonAsync("/_emulator/requests"))["requests"]!.AsArray());
    }

    [Fact]
    public async Task The_journal_truncates_large_bodies_and_shows_which_fault_answered()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await emu.Control.SendAsync(HttpMethod.Delete, "/_emulator/requests", null);
        var rule = await AddFaultAsync(new JsonObject { ["match"] = new JsonObject { ["path"] = "/auth/guest" }, ["fault"] = new JsonObject { ["status"] = 503 }, ["times"] = 1 });
        await emu.Consumer.PostJsonAsync("/api/auth/guest", new JsonObject { ["deviceFingerprint"] = new string('x', 20_000) }, Pk(org.PublishableKey));
        var entry = (await emu.Control.GetJsonAsync("/_emulator/requests"))["requests"]![0]!;
        Assert.Equal(503, entry["status"]!.GetValue<int>());
        Assert.Equal(rule["id"]!.GetValue<string>(), entry["faultId"]!.GetValue<string>());
        Assert.True(entry["requestBodyTruncated"]!.GetValue<bool>());
        Assert.Equal(8192, entry["requestBody"]!.GetValue<string>().Length);
    }
}
