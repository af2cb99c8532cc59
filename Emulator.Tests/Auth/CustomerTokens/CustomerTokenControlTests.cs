using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Auth.CustomerTokens;

/// <summary>The control plane: minting, verifying, the enforcement switch, the seed section and persistence.</summary>
public class CustomerTokenControlTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    private const string Probe = "/customer-token-probe";

    [Fact]
    public async Task Mint_accepts_iso_or_unix_expiry_and_read_only()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        async Task<string> Mint(JsonObject body) =>
            (await emu.Control.PostJsonAsync("/_emulator/customer-tokens", body)).EnsureStatus(200)["token"].GetValue<string>();

        Assert.Equal(CustomerTokenFormatTests.Signed("cust_1", org.CustomerTokenSecret), await Mint(new() { ["customerId"] = "cust_1" }));
        var expected = CustomerTokenFormatTests.Signed("exp:1776509029:ro:cust_1", org.CustomerTokenSecret);
        Assert.Equal(expected, await Mint(new() { ["customerId"] = "cust_1", ["readOnly"] = true, ["expiresAt"] = 1776509029 }));
        Assert.Equal(expected, await Mint(new() { ["customerId"] = "cust_1", ["readOnly"] = true, ["expiresAt"] = "1776509029" }));
        Assert.Equal(expected, await Mint(new() { ["customerId"] = "cust_1", ["readOnly"] = true, ["expiresAt"] = "2026-04-18T10:43:49Z" }));
        Assert.Equal(expected, await Mint(new()
        {
            ["organizationId"] = org.Id, ["environment"] = "test", ["customerId"] = "cust_1", ["readOnly"] = true,
            ["expiresAt"] = "2026-04-18T12:43:49+02:00",
        }));
    }

    [Fact]
    public async Task Mint_and_verify_refuse_bad_input()
    {
        await emu.ResetAsync();
        foreach (var body in new[]
                 {
                     new JsonObject(), new JsonObject { ["customerId"] = "" }, new JsonObject { ["customerId"] = "ro:x" },
                     new JsonObject { ["customerId"] = 5 }, new JsonObject { ["customerId"] = "c", ["environment"] = "prod" },
                     new JsonObject { ["customerId"] = "c", ["expiresAt"] = 17765090290 },
                     new JsonObject { ["customerId"] = "c", ["expiresAt"] = "tomorrow" },
                     new JsonObject { ["customerId"] = "c", ["readOnly"] = "yes" },
                 })
        {
            var r = await emu.Control.PostJsonAsync("/_emulator/customer-tokens", body);
            r.EnsureStatus(400);
            Assert.Equal("validation_error", r["error"].GetValue<string>());
        }
        var unknown = await emu.Control.PostJsonAsync("/_emulator/customer-tokens", new JsonObject { ["organizationId"] = "nope", ["customerId"] = "c" });
        Assert.Equal("Organization not found", unknown.EnsureStatus(404)["error"].GetValue<string>());
        (await emu.Control.PostJsonAsync("/_emulator/customer-tokens/verify", new JsonObject())).EnsureStatus(400);
        (await emu.Control.SendJsonAsync(HttpMethod.Put, "/_emulator/organizations/nope/client-side-security",
            new JsonObject { ["environment"] = "test", ["enforced"] = true })).EnsureStatus(404);
        var org = await emu.DemoOrgAsync();
        (await emu.Control.SendJsonAsync(HttpMethod.Put, $"/_emulator/organizations/{org.Id}/client-side-security",
            new JsonObject { ["environment"] = "staging", ["enforced"] = true })).EnsureStatus(400);
        (await emu.Control.SendJsonAsync(HttpMethod.Put, $"/_emulator/organizations/{org.Id}/client-side-security",
            new JsonObject { ["environment"] = "test" })).EnsureStatus(400);
    }

    [Fact]
    public async Task Verify_reports_reason_and_parts()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var now = await emu.FreezeClockAsync(DateTimeOffset.FromUnixTimeSeconds(1776500000));
        async Task<JsonNode> Verify(string token, string? environment = null)
        {
            var body = new JsonObject { ["token"] = token };
            if (environment is not null) body["environment"] = environment;
            return (await emu.Control.PostJsonAsync("/_emulator/customer-tokens/verify", body)).EnsureStatus(200).Json!;
        }

        var ok = await Verify(CustomerTokenFormatTests.Signed("exp:1776509029:ro:cust_1", org.CustomerTokenSecret));
        Assert.Equal("""{"valid":true,"customerId":"cust_1","readOnly":true,"expiresAt":"2026-04-18T10:43:49.000Z","consumerIds":[]}""", ok.ToJsonString());

        var format = await Verify("HMAC-SHA256 ro:exp:1776509029:cust_1:" + new string('0', 64));
        Assert.Equal("""{"valid":false,"reason":"invalid_format","message":"Customer token has invalid format","readOnly":false}""", format.ToJsonString());

        var live = await Verify(CustomerTokenFormatTests.Signed("cust_1", org.CustomerTokenSecret), "live");
        Assert.Equal("invalid_signature", live["reason"]!.GetValue<string>());
        Assert.Equal("Customer token has invalid signature", live["message"]!.GetValue<string>());

        await emu.AdvanceClockAsync(9029);
        var expired = await Verify(CustomerTokenFormatTests.Signed("exp:1776509029:cust_1", org.CustomerTokenSecret));
        Assert.Equal("expired", expired["reason"]!.GetValue<string>());
        Assert.False(expired["readOnly"]!.GetValue<bool>());
        _ = now;
    }

    [Fact]
    public async Task Seed_section_enforces_and_reset_restores_it()
    {
        var seed = Path.Combine(Path.GetTempPath(), $"css-seed-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(seed, """
        {
          "randomSeed": "css-test",
          "organizations": [
            { "name": "Hardened Shop", "clientSideSecurity": { "test": { "enforced": true }, "live": { "enforced": false } } },
            { "name": "Open Shop" }
          ]
        }
        """);
        try
        {
            await using var server = await EmulatorServer.StartAsync(o => o.SeedFile = seed);
            var orgs = await server.OrganizationsAsync();
            var state = await server.Control.GetJsonAsync($"/_emulator/organizations/{orgs[0].Id}/client-side-security");
            Assert.Equal($$$"""{"organizationId":"{{{orgs[0].Id}}}","test":{"enforced":true},"live":{"enforced":false}}""", state.ToJsonString());

            (await server.Consumer.GetAsync(Probe, HttpClientExtensions.Pk(orgs[0].PublishableKey))).EnsureStatus(401);
            (await server.Consumer.GetAsync(Probe, HttpClientExtensions.Pk(orgs[0].LivePublishableKey))).EnsureStatus(404);
            (await server.Consumer.GetAsync(Probe, HttpClientExtensions.Pk(orgs[1].PublishableKey))).EnsureStatus(404);

            (await server.Control.SendJsonAsync(HttpMethod.Put, $"/_emulator/organizations/{orgs[0].Id}/client-side-security",
                new JsonObject { ["environment"] = "test", ["enforced"] = false })).EnsureStatus(200);
            (await server.Consumer.GetAsync(Probe, HttpClientExtensions.Pk(orgs[0].PublishableKey))).EnsureStatus(404);
            await server.ResetAsync();
            (await server.Consumer.GetAsync(Probe, HttpClientExtensions.Pk(orgs[0].PublishableKey))).EnsureStatus(401);
        }
        finally { File.Delete(seed); }
    }

    [Fact]
    public async Task The_flag_survives_a_restart()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"css-data-{Guid.NewGuid():N}");
        try
        {
            string orgId, pk;
            await using (var first = await EmulatorServer.StartAsync(o => { o.InMemory = false; o.DataDirectory = dir; }))
            {
                var org = await first.DemoOrgAsync();
                (orgId, pk) = (org.Id, org.PublishableKey);
                (await first.Control.SendJsonAsync(HttpMethod.Put, $"/_emulator/organizations/{orgId}/client-side-security",
                    new JsonObject { ["environment"] = "test", ["enforced"] = true })).EnsureStatus(200);
            }
            await using var second = await EmulatorServer.StartAsync(o => { o.InMemory = false; o.DataDirectory = dir; });
            (await second.Consumer.GetAsync(Probe, HttpClientExtensions.Pk(pk))).EnsureStatus(401);
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }
}
