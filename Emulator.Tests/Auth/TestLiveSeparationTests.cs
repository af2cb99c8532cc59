using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Auth;

/// <summary>Issue 9 §2, behavior.md §1.3: test and live data are isolated, whatever the engine.</summary>
public sealed class TestLiveSeparationTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    private static Dictionary<string, string> Sk(string key) => HttpClientExtensions.Sk(key);

    [Fact]
    public async Task Objects_of_one_mode_are_invisible_and_untouchable_from_the_other()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        foreach (var (mine, theirs) in new[] { (org.SecretKey, org.LiveSecretKey), (org.LiveSecretKey, org.SecretKey) })
        {
            var seq = (await emu.Admin.PostJsonAsync("/sequences", new JsonObject { ["name"] = "Mine" }, Sk(mine))).EnsureStatus(200)["id"].GetValue<string>();
            var exp = (await emu.Admin.PostJsonAsync("/experiences", new JsonObject { ["name"] = "Mine", ["timeZone"] = "UTC" }, Sk(mine))).EnsureStatus(200)["id"].GetValue<string>();
            var hook = (await emu.Admin.PostJsonAsync("/webhooks", new JsonObject { ["url"] = "http://127.0.0.1:9/", ["events"] = new JsonArray("*") }, Sk(mine))).EnsureStatus(200)["id"].GetValue<string>();

            foreach (var path in new[] { $"/sequences/{seq}", $"/experiences/{exp}", $"/webhooks/{hook}" })
            {
                Assert.Equal(404, (await emu.Admin.GetAsync(path, Sk(theirs))).Code);
                Assert.Equal(404, (await emu.Admin.SendJsonAsync(HttpMethod.Delete, path, null, Sk(theirs))).Code);
                (await emu.Admin.GetAsync(path, Sk(mine))).EnsureStatus(200); // still there, untouched
            }
            Assert.Equal(404, (await emu.Admin.SendJsonAsync(HttpMethod.Put, $"/sequences/{seq}", new JsonObject { ["name"] = "Theirs" }, Sk(theirs))).Code);
            Assert.Equal("Mine", (await emu.Admin.GetAsync($"/sequences/{seq}", Sk(mine)))["name"].GetValue<string>());

            var theirList = await emu.Admin.GetJsonAsync("/sequences?first=100", Sk(theirs));
            Assert.DoesNotContain(theirList["data"]!.AsArray(), s => s!["id"]!.GetValue<string>() == seq);
            var theirHooks = (await emu.Admin.GetAsync("/webhooks", Sk(theirs))).Text;
            Assert.DoesNotContain(hook, theirHooks);
        }
    }

    [Fact]
    public async Task The_seed_belongs_to_test_mode_by_default()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var test = (await emu.Admin.GetJsonAsync("/experiences?first=100", Sk(org.SecretKey)))["data"]!.AsArray();
        var live = (await emu.Admin.GetJsonAsync("/experiences?first=100", Sk(org.LiveSecretKey)))["data"]!.AsArray();
        Assert.NotEmpty(test);
        Assert.Empty(live);
    }

    [Fact]
    public async Task A_consumer_session_stays_in_the_mode_that_made_it()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var (_, testToken, testRefresh) = await emu.GuestAsync(org.PublishableKey);
        var (_, liveToken, _) = await emu.GuestAsync(org.LivePublishableKey);

        // The token alone works in its own mode; with the other mode's publishable key it is refused.
        (await emu.Consumer.GetAsync("/consumers/me", new Dictionary<string, string> { ["Authorization"] = "Bearer " + testToken })).EnsureStatus(200);
        (await emu.Consumer.GetAsync("/consumers/me", HttpClientExtensions.Pk(org.PublishableKey, testToken))).EnsureStatus(200);
        Assert.Equal(401, (await emu.Consumer.GetAsync("/consumers/me", HttpClientExtensions.Pk(org.LivePublishableKey, testToken))).Code);
        Assert.Equal(401, (await emu.Consumer.GetAsync("/consumers/me", HttpClientExtensions.Pk(org.PublishableKey, liveToken))).Code);
        (await emu.Consumer.GetAsync("/consumers/me", HttpClientExtensions.Pk(org.LivePublishableKey, liveToken))).EnsureStatus(200);

        // Refresh tokens too: a test session cannot be refreshed through a live key.
        Assert.Equal(401, (await emu.RefreshAsync(org.LivePublishableKey, testRefresh)).Code);
        (await emu.RefreshAsync(org.PublishableKey, testRefresh)).EnsureStatus(200);
    }

    [Fact]
    public async Task Keys_of_both_modes_in_one_request_are_refused()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var headers = new Dictionary<string, string> { ["Authorization"] = "Bearer " + org.LiveSecretKey, ["X-Publishable-Key"] = org.PublishableKey };
        Assert.Equal(401, (await emu.Admin.GetAsync("/sequences", headers)).Code);
    }
}
