using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Infrastructure;
using static Fanfare.Emulator.Tests.Infrastructure.HttpClientExtensions;

namespace Fanfare.Emulator.Tests.Distributions.TimedReleases;

/// <summary>Timed release journeys over HTTP: countdown (423) → open → instant grant → handoff validate → complete.</summary>
public sealed class TimedReleaseTests(BareEmulatorServer emu) : IClassFixture<BareEmulatorServer>
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 1, 9, 0, 0, TimeSpan.Zero);

    private async Task<(OrgKeys Org, string SequenceId, string Id)> SetupAsync(JsonObject? extra = null)
    {
        await emu.ResetAsync();
        await emu.FreezeClockAsync(T0);
        var org = await emu.DemoOrgAsync();
        var sequenceId = emu.CreateSequence(org);
        var body = new JsonObject { ["sequenceId"] = sequenceId, ["name"] = "Midnight drop", ["openAt"] = "2030-01-01T09:01:00Z", ["closeAt"] = "2030-01-01T10:00:00Z" };
        foreach (var (k, v) in extra ?? []) body[k] = v?.DeepClone();
        var t = (await emu.Admin.PostJsonAsync("/timed-releases", body, Sk(org.SecretKey))).EnsureStatus(200);
        return (org, sequenceId, t["id"].GetValue<string>());
    }

    [Fact]
    public async Task Countdown_then_instant_access_handoff_and_complete()
    {
        var (org, sequenceId, id) = await SetupAsync();
        var g = await emu.GuestOfAsync(org);

        var early = await emu.Consumer.PostJsonAsync($"/timed-releases/{id}/enter", new JsonObject(), g.Headers);
        Assert.Equal(423, early.Code);
        Assert.Equal("Timed release is not open yet", early["error"].GetValue<string>());
        Assert.Equal("2030-01-01T09:01:00Z", early.Headers.GetValues("Retry-After").Single());
        Assert.Equal("NOT_ENTERED", (await emu.Consumer.GetAsync($"/timed-releases/{id}/status", g.Headers)).EnsureStatus(200)["status"].GetValue<string>());

        await emu.AdvanceClockAsync(60);
        var entered = (await emu.Consumer.PostJsonAsync($"/api/v1/timed-releases/{id}/enter", new JsonObject { ["variantId"] = "var_red" }, g.Headers)).EnsureStatus(200);
        Assert.Equal("ENTERED", entered["status"].GetValue<string>());
        Assert.Equal("var_red", entered["selectedVariantId"].GetValue<string>());
        Assert.Equal("2030-01-01T10:00:00.000Z", entered["expiresAt"].GetValue<string>());
        Assert.Equal("2030-01-01T09:01:00.000Z", entered["enteredAt"].GetValue<string>());
        var token = entered["admissionGrant"].GetValue<string>();
        var claims = DistributionTestKit.Claims(token);
        Assert.Equal("timed_release", claims["distributionType"]!.GetValue<string>());
        Assert.Equal(g.Id, claims["consumerId"]!.GetValue<string>());
        Assert.Equal(emu.ExperienceOf(sequenceId), claims["experienceId"]!.GetValue<string>());

        // re-entry returns the same grant
        Assert.Equal(token, (await emu.Consumer.PostJsonAsync($"/timed-releases/{id}/enter", null, g.Headers)).EnsureStatus(200)["admissionGrant"].GetValue<string>());
        var status = (await emu.Consumer.GetAsync($"/timed-releases/{id}/status", g.Headers)).EnsureStatus(200);
        Assert.Equal(token, status["admissionGrant"].GetValue<string>());

        var handoff = (await emu.Admin.PostJsonAsync("/handoffs/validate", new JsonObject { ["token"] = token }, Sk(org.SecretKey))).EnsureStatus(200);
        Assert.True(handoff["valid"].GetValue<bool>());
        Assert.Equal(id, handoff["distributionId"].GetValue<string>());

        var done = (await emu.Consumer.PostJsonAsync($"/timed-releases/{id}/complete", new JsonObject { ["consumerId"] = g.Id }, Sk(org.SecretKey))).EnsureStatus(200);
        Assert.Equal("COMPLETED", done["status"].GetValue<string>());
        Assert.Equal(id, done["timedReleaseId"].GetValue<string>());

        var used = await emu.Admin.PostJsonAsync("/handoffs/validate", new JsonObject { ["token"] = token }, Sk(org.SecretKey));
        Assert.Equal(403, used.Code);
        Assert.Equal("ADMISSION_USED", used["code"].GetValue<string>());
        var after = (await emu.Consumer.GetAsync($"/timed-releases/{id}/status", g.Headers)).EnsureStatus(200);
        Assert.Equal("COMPLETED", after["status"].GetValue<string>());
        Assert.NotNull(after["completedAt"]);
        Assert.Null(after["admissionGrant"]);
        Assert.Equal(409, (await emu.Consumer.PostJsonAsync($"/timed-releases/{id}/complete", new JsonObject { ["consumerId"] = g.Id }, Sk(org.SecretKey))).Code);
    }

    [Fact]
    public async Task Leave_revokes_the_grant_and_re_entry_issues_a_new_one()
    {
        var (org, _, id) = await SetupAsync(new JsonObject { ["openAt"] = null });
        var g = await emu.GuestOfAsync(org);
        Assert.False((await emu.Consumer.PostJsonAsync($"/timed-releases/{id}/leave", null, g.Headers)).EnsureStatus(200)["success"].GetValue<bool>());
        var first = (await emu.Consumer.PostJsonAsync($"/timed-releases/{id}/enter", null, g.Headers)).EnsureStatus(200)["admissionGrant"].GetValue<string>();
        Assert.True((await emu.Consumer.PostJsonAsync($"/timed-releases/{id}/leave", null, g.Headers)).EnsureStatus(200)["success"].GetValue<bool>());
        var left = (await emu.Consumer.GetAsync($"/timed-releases/{id}/status", g.Headers)).EnsureStatus(200);
        Assert.Equal("LEFT", left["status"].GetValue<string>());
        Assert.NotNull(left["leftAt"]);
        Assert.Equal(403, (await emu.Admin.PostJsonAsync("/handoffs/validate", new JsonObject { ["token"] = first }, Sk(org.SecretKey))).Code);

        var second = (await emu.Consumer.PostJsonAsync($"/timed-releases/{id}/enter", null, g.Headers)).EnsureStatus(200)["admissionGrant"].GetValue<string>();
        Assert.NotEqual(first, second);
        (await emu.Admin.PostJsonAsync("/handoffs/validate", new JsonObject { ["token"] = second }, Sk(org.SecretKey))).EnsureStatus(200);
    }

    [Fact]
    public async Task After_closeAt_entry_is_400_and_grants_have_expired()
    {
        var (org, _, id) = await SetupAsync(new JsonObject { ["openAt"] = null });
        var g = await emu.GuestOfAsync(org);
        var token = (await emu.Consumer.PostJsonAsync($"/timed-releases/{id}/enter", null, g.Headers)).EnsureStatus(200)["admissionGrant"].GetValue<string>();
        await emu.AdvanceClockAsync(3600);
        var expired = await emu.Admin.PostJsonAsync("/handoffs/validate", new JsonObject { ["token"] = token }, Sk(org.SecretKey));
        Assert.Equal(403, expired.Code);
        Assert.Equal("ADMISSION_EXPIRED", expired["code"].GetValue<string>());
        var late = await emu.Consumer.PostJsonAsync($"/timed-releases/{id}/enter", null, (await emu.GuestOfAsync(org)).Headers);
        Assert.Equal(400, late.Code);
        Assert.Equal("Timed release is closed", late["error"].GetValue<string>());
        Assert.Single(emu.Events("distribution.closed"));
    }

    [Fact]
    public async Task Guests_are_refused_when_supportsGuest_is_false()
    {
        var (org, _, id) = await SetupAsync(new JsonObject { ["openAt"] = null, ["supportsGuest"] = false });
        var g = await emu.GuestOfAsync(org);
        var refused = await emu.Consumer.PostJsonAsync($"/timed-releases/{id}/enter", null, g.Headers);
        Assert.Equal(403, refused.Code);
        Assert.Equal("Guest access not allowed", refused["error"].GetValue<string>());
        var session = await emu.SignInByEmailAsync(org.PublishableKey, "demo@fanfare.test");
        var headers = Pk(org.PublishableKey, session["accessToken"]!.GetValue<string>());
        Assert.Equal("ENTERED", (await emu.Consumer.PostJsonAsync($"/timed-releases/{id}/enter", null, headers)).EnsureStatus(200)["status"].GetValue<string>());
        Assert.Equal(401, (await emu.Consumer.PostJsonAsync($"/timed-releases/{id}/enter", null, Pk(org.PublishableKey))).Code);
    }

    [Fact]
    public async Task Admin_crud_details_and_isolation()
    {
        var (org, sequenceId, id) = await SetupAsync();
        var sk = Sk(org.SecretKey);
        var other = (await emu.OrganizationsAsync())[1];

        var admin = (await emu.Admin.GetJsonAsync($"/timed-releases/{id}", sk)).AsObject();
        foreach (var key in new[] { "id", "organizationId", "createdAt", "createdBy", "archived", "sequenceId", "name", "timeZone", "supportsGuest", "openAt", "closeAt", "statusOverride", "teardownStatus" })
            Assert.True(admin.ContainsKey(key), key);
        var details = (await emu.Consumer.GetAsync($"/timed-releases/{id}", Pk(org.PublishableKey))).EnsureStatus(200).Json!.AsObject();
        Assert.Equal(["id", "timeZone", "supportsGuest", "closeAt", "openAt", "statusOverride", "statusOverrideAt", "statusOverrideBy", "teardownStatus"],
            details.Select(kv => kv.Key));

        var list = await emu.Admin.GetJsonAsync("/timed-releases", sk);
        Assert.Single(list["data"]!.AsArray());
        var put = (await emu.Admin.SendJsonAsync(HttpMethod.Put, $"/timed-releases/{id}", new JsonObject { ["supportsGuest"] = false, ["closeAt"] = null }, sk)).EnsureStatus(200);
        Assert.False(put["supportsGuest"].GetValue<bool>());
        Assert.Null(put["closeAt"]);

        var foreign = await emu.Admin.GetAsync($"/timed-releases/{id}", Sk(other.SecretKey));
        Assert.Equal(404, foreign.Code);
        Assert.Equal("Timed release not found", foreign["error"].GetValue<string>());
        Assert.Equal(404, (await emu.Consumer.GetAsync($"/timed-releases/{id}", Pk(other.PublishableKey))).Code);

        (await emu.Admin.SendJsonAsync(HttpMethod.Delete, $"/timed-releases/{id}", null, sk)).EnsureStatus(200);
        Assert.Equal(404, (await emu.Admin.GetAsync($"/timed-releases/{id}", sk)).Code);
        Assert.Equal(400, (await emu.Admin.PostJsonAsync("/timed-releases", new JsonObject { ["sequenceId"] = sequenceId }, sk)).Code);
    }
}
