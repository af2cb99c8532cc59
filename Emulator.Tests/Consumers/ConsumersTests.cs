using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Distributions.Experiences;
using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Consumers;

/// <summary><c>GET /consumers/me</c>, <c>GET /consumers/{id}</c> and <c>GET /organizations/{id}/settings</c> on the consumer port.</summary>
public sealed class ConsumersTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    [Fact]
    public async Task Me_requires_a_token_and_starts_empty()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var anon = await emu.Consumer.GetAsync("/consumers/me", HttpClientExtensions.Pk(org.PublishableKey));
        Assert.Equal(401, anon.Code);
        Assert.Equal("Authentication required", anon["error"].GetValue<string>());
        var bogus = await emu.Consumer.GetAsync("/consumers/me", XApi.As(org.PublishableKey, "not-a-token"));
        Assert.Equal(401, bogus.Code);

        var guest = await emu.GuestAsync(org.PublishableKey);
        var me = await emu.Consumer.GetJsonAsync("/consumers/me", XApi.As(org.PublishableKey, guest.AccessToken));
        Assert.Empty(me["active"]!["journeys"]!.AsArray());
        Assert.Empty(me["waitlists"]!.AsArray());
        Assert.Single(me["active"]!.AsObject()); // additionalProperties: false — only journeys
    }

    [Fact]
    public async Task Me_lists_gated_and_routed_journeys()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var sk = HttpClientExtensions.Sk(org.SecretKey);
        var guest = await emu.GuestAsync(org.PublishableKey);
        var headers = XApi.As(org.PublishableKey, guest.AccessToken);

        var gatedExp = (await emu.CreateExperienceAsync(org.SecretKey, new JsonObject
        {
            ["name"] = "Secret", ["sequence"] = new JsonObject { ["name"] = "Members", ["accessCode"] = "LETMEIN" },
        }));
        var gatedId = gatedExp["id"]!.GetValue<string>();
        var gatedSeq = gatedExp["sequences"]![0]!["id"]!.GetValue<string>();
        (await emu.Consumer.PostJsonAsync($"/experiences/{gatedId}/route", new JsonObject(), headers)).EnsureStatus(200);

        var emptyExp = (await emu.CreateExperienceAsync(org.SecretKey, new JsonObject
        {
            ["name"] = "No distributions yet", ["sequence"] = new JsonObject { ["name"] = "Soon" },
        }));
        var emptyId = emptyExp["id"]!.GetValue<string>();
        (await emu.Consumer.PostJsonAsync($"/experiences/{emptyId}/enter", null, headers)).EnsureStatus(200);

        var me = await emu.Consumer.GetJsonAsync("/consumers/me", headers);
        var journeys = me["active"]!["journeys"]!.AsArray();
        Assert.Equal(2, journeys.Count);
        var gated = journeys.First(j => j!["experienceId"]!.GetValue<string>() == gatedId)!;
        Assert.Equal("gated", gated["journeyStage"]!.GetValue<string>());
        Assert.Equal("access_code", gated["gates"]![0]!["type"]!.GetValue<string>());
        Assert.Equal(gatedSeq, gated["selected"]!["sequenceId"]!.GetValue<string>());
        var routed = journeys.First(j => j!["experienceId"]!.GetValue<string>() == emptyId)!;
        Assert.Equal("routed", routed["journeyStage"]!.GetValue<string>());
        Assert.Equal("unavailable", routed["sequence"]!["phase"]!.GetValue<string>());

        // With the code the journey becomes routed; leaving drops the other one; another consumer sees nothing.
        (await emu.Consumer.PostJsonAsync($"/experiences/{gatedId}/route", new JsonObject { ["accessCode"] = "letmein" }, headers)).EnsureStatus(200);
        (await emu.Consumer.SendJsonAsync(HttpMethod.Delete, $"/experiences/{emptyId}/leave", null, headers)).EnsureStatus(200);
        me = await emu.Consumer.GetJsonAsync("/consumers/me", headers);
        var only = Assert.Single(me["active"]!["journeys"]!.AsArray())!;
        Assert.Equal("routed", only["journeyStage"]!.GetValue<string>());
        Assert.Equal(gatedSeq, only["sequenceId"]!.GetValue<string>());
        var other = await emu.GuestAsync(org.PublishableKey);
        Assert.Empty((await emu.Consumer.GetJsonAsync("/consumers/me", XApi.As(org.PublishableKey, other.AccessToken)))["active"]!["journeys"]!.AsArray());
    }

    [Fact]
    public async Task Consumer_by_id_needs_the_secret_key_of_its_organization()
    {
        await emu.ResetAsync();
        var orgs = await emu.OrganizationsAsync();
        var (org, acme) = (orgs[0], orgs[1]);
        var (id, _) = await emu.VerifiedAsync(org.PublishableKey, "profile@consumers.test");

        var profile = (await emu.Consumer.GetAsync($"/consumers/{id}", HttpClientExtensions.Sk(org.SecretKey))).EnsureStatus(200);
        Assert.Equal(id, profile["id"].GetValue<string>());
        Assert.Equal("profile@consumers.test", profile["email"].GetValue<string>());
        Assert.Equal("0", profile["aov"].GetValue<string>());
        Assert.Equal("0", profile["ltv"].GetValue<string>());
        Assert.Equal(0, profile["totalOrders"].GetValue<int>());
        Assert.False(profile["smsOptOut"].GetValue<bool>());
        Assert.Null(profile["phone"]);
        Assert.True(profile.Json!.AsObject().ContainsKey("lastGeoCoordinates"));

        var pk = await emu.Consumer.GetAsync($"/consumers/{id}", HttpClientExtensions.Pk(org.PublishableKey));
        Assert.Equal(401, pk.Code);
        Assert.Equal("Secret key required", pk["error"].GetValue<string>());
        var missing = await emu.Consumer.GetAsync("/consumers/0190a0a0-0000-7000-8000-000000000042", HttpClientExtensions.Sk(org.SecretKey));
        Assert.Equal(404, missing.Code);
        Assert.Equal("Consumer not found", missing["error"].GetValue<string>());
        Assert.Equal(404, (await emu.Consumer.GetAsync($"/consumers/{id}", HttpClientExtensions.Sk(acme.SecretKey))).Code);
        Assert.Equal(200, (await emu.Consumer.GetAsync($"/api/v1/consumers/{id}", new Dictionary<string, string>
        {
            ["X-Organization-Id"] = org.Id, ["X-Secret-Key"] = org.SecretKey,
        })).Code);
    }

    [Fact]
    public async Task Organization_settings_from_the_seed_and_isolation()
    {
        await emu.ResetAsync();
        var orgs = await emu.OrganizationsAsync();
        var (org, acme) = (orgs[0], orgs[1]);
        var demo = await emu.Consumer.GetJsonAsync($"/organizations/{org.Id}/settings", HttpClientExtensions.Pk(org.PublishableKey));
        Assert.Equal(["http://localhost:3000", "http://localhost:5173"], demo["frameAncestors"]!.AsArray().Select(x => x!.GetValue<string>()));
        Assert.False(demo.AsObject().ContainsKey("cdp"));
        var acmeSettings = await emu.Consumer.GetJsonAsync($"/organizations/{acme.Id}/settings", HttpClientExtensions.Pk(acme.PublishableKey));
        Assert.Empty(acmeSettings["frameAncestors"]!.AsArray());
        var cross = await emu.Consumer.GetAsync($"/organizations/{acme.Id}/settings", HttpClientExtensions.Pk(org.PublishableKey));
        Assert.Equal(404, cross.Code);
        Assert.Equal("Organization not found", cross["error"].GetValue<string>());
        Assert.Equal(401, (await emu.Consumer.GetAsync($"/organizations/{org.Id}/settings", new Dictionary<string, string>())).Code);
    }
}
