using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Distributions.Experiences;

/// <summary>Consumer experiences: details, enter/leave, routing outcomes and reasons, archived-status.</summary>
public sealed class RouteAndConsumerExperienceTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    private async Task<ApiResponse> RouteAsync(string experienceId, string pk, string? token, string? accessCode = null) =>
        await emu.Consumer.PostJsonAsync($"/experiences/{experienceId}/route",
            accessCode is null ? new JsonObject() : new JsonObject { ["accessCode"] = accessCode }, HttpClientExtensions.Pk(pk, token));

    /// <summary>An experience whose sequences carry no distribution (so guests are fine) — (experienceId, sequence ids).</summary>
    private async Task<(string Id, List<string> Sequences)> ExperienceAsync(string sk, string? experienceAccessCode, params (string Name, double Priority, string? Code, string? Audience)[] seqs)
    {
        var body = new JsonObject { ["name"] = "Routing " + Guid.NewGuid().ToString("N")[..6] };
        if (experienceAccessCode is not null) body["accessCode"] = experienceAccessCode;
        var e = await emu.CreateExperienceAsync(sk, body);
        var id = e["id"]!.GetValue<string>();
        var ids = new List<string>();
        foreach (var (name, priority, code, audience) in seqs)
        {
            var s = new JsonObject { ["name"] = name, ["priority"] = priority, ["experienceId"] = id };
            if (code is not null) s["accessCode"] = code;
            if (audience is not null) s["audienceId"] = audience;
            ids.Add((await emu.Admin.PostJsonAsync("/sequences", s, HttpClientExtensions.Sk(sk))).EnsureStatus(200)["id"].GetValue<string>());
        }
        return (id, ids);
    }

    [Fact]
    public async Task Routes_to_the_highest_priority_open_sequence_and_offers_gated_ones()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var guest = await emu.GuestAsync(org.PublishableKey);
        var (id, seqs) = await ExperienceAsync(org.SecretKey, null, ("General", 0, null, null), ("VIP", 10, "VIP2030", null));

        var r = (await RouteAsync(id, org.PublishableKey, guest.AccessToken)).EnsureStatus(200);
        Assert.Equal(1, r["schemaVersion"].GetValue<int>());
        Assert.Equal(id, r["experienceId"].GetValue<string>());
        Assert.Equal("routed", r["outcome"].GetValue<string>());
        Assert.Equal("admissible", r["selected"]["status"]!.GetValue<string>());
        Assert.Equal(seqs[0], r["selected"]["sequence"]!["id"]!.GetValue<string>());
        Assert.Empty(r["selected"]["gates"]!.AsArray());
        Assert.Equal("closed", r["selected"]["sequence"]!["availability"]!.GetValue<string>());
        var offer = Assert.Single(r["offers"].AsArray())!;
        Assert.Equal("gated", offer["status"]!.GetValue<string>());
        Assert.Equal(seqs[1], offer["sequence"]!["id"]!.GetValue<string>());
        Assert.Equal("ACCESS_CODE_REQUIRED", offer["reasons"]![0]!["code"]!.GetValue<string>());
        Assert.Empty(r["outcomeReasons"].AsArray());

        var vip = (await RouteAsync(id, org.PublishableKey, guest.AccessToken, "vip2030")).EnsureStatus(200);
        Assert.Equal("routed", vip["outcome"].GetValue<string>());
        Assert.Equal(seqs[1], vip["selected"]["sequence"]!["id"]!.GetValue<string>());
        Assert.Empty(vip["offers"].AsArray());
    }

    [Fact]
    public async Task Access_code_gates_missing_then_invalid_then_routed()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var guest = await emu.GuestAsync(org.PublishableKey);
        var (id, seqs) = await ExperienceAsync(org.SecretKey, null, ("Members", 1, "OPEN-SESAME", null));

        var missing = (await RouteAsync(id, org.PublishableKey, guest.AccessToken)).EnsureStatus(200);
        Assert.Equal("gated", missing["outcome"].GetValue<string>());
        Assert.Equal("gated", missing["selected"]["status"]!.GetValue<string>());
        var gate = missing["selected"]["gates"]![0]!;
        Assert.Equal("access_code", gate["type"]!.GetValue<string>());
        Assert.Equal("missing", gate["status"]!.GetValue<string>());
        Assert.Equal("ACCESS_CODE_REQUIRED", gate["reason"]!["code"]!.GetValue<string>());
        Assert.Empty(missing["offers"].AsArray());
        Assert.Equal("ACCESS_CODE_REQUIRED", missing["outcomeReasons"][0]!["code"]!.GetValue<string>());

        var invalid = (await RouteAsync(id, org.PublishableKey, guest.AccessToken, "nope")).EnsureStatus(200);
        Assert.Equal("gated", invalid["outcome"].GetValue<string>());
        Assert.Equal("invalid", invalid["selected"]["gates"]![0]!["status"]!.GetValue<string>());
        Assert.Equal("ACCESS_CODE_INVALID", invalid["outcomeReasons"][0]!["code"]!.GetValue<string>());

        var ok = (await RouteAsync(id, org.PublishableKey, guest.AccessToken, " open-sesame ")).EnsureStatus(200);
        Assert.Equal("routed", ok["outcome"].GetValue<string>());
        Assert.Equal(seqs[0], ok["selected"]["sequence"]!["id"]!.GetValue<string>());

        // The experience-level access code guards every sequence, and consumers never see the codes.
        var (id2, _) = await ExperienceAsync(org.SecretKey, "EXP-CODE", ("Any", 0, null, null));
        Assert.Equal("gated", (await RouteAsync(id2, org.PublishableKey, guest.AccessToken))["outcome"].GetValue<string>());
        var details = await emu.Consumer.GetJsonAsync($"/experiences/{id}", HttpClientExtensions.Pk(org.PublishableKey));
        Assert.True(details["hasProtectedSequences"]!.GetValue<bool>());
        Assert.DoesNotContain("OPEN-SESAME", details.ToJsonString());
    }

    [Fact]
    public async Task No_sequences_audience_and_authentication_reasons()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var guest = await emu.GuestAsync(org.PublishableKey);

        var (empty, _) = await ExperienceAsync(org.SecretKey, null);
        var none = (await RouteAsync(empty, org.PublishableKey, guest.AccessToken)).EnsureStatus(200);
        Assert.Equal("no_access", none["outcome"].GetValue<string>());
        Assert.False(none.Json!.AsObject().ContainsKey("selected"));
        Assert.Empty(none["offers"].AsArray());
        Assert.Equal("NO_SEQUENCES", none["outcomeReasons"][0]!["code"]!.GetValue<string>());

        var (aud, _) = await ExperienceAsync(org.SecretKey, null, ("Insiders", 0, null, "0190a0a0-0000-7000-8000-00000000abcd"));
        var blocked = (await RouteAsync(aud, org.PublishableKey, guest.AccessToken)).EnsureStatus(200);
        Assert.Equal("no_access", blocked["outcome"].GetValue<string>());
        var codes = blocked["outcomeReasons"].AsArray().Select(x => x!["code"]!.GetValue<string>()).ToList();
        Assert.Equal(["NO_ACCESS", "AUDIENCE_NOT_MEMBER"], codes);

        // Publishable key only: authentication gate. A guest on an appointment-only sequence: authentication gate too.
        var (open, _) = await ExperienceAsync(org.SecretKey, null, ("General", 0, null, null));
        var anon = (await RouteAsync(open, org.PublishableKey, null)).EnsureStatus(200);
        Assert.Equal("gated", anon["outcome"].GetValue<string>());
        Assert.Equal("authentication", anon["selected"]["gates"]![0]!["type"]!.GetValue<string>());
        Assert.Equal("AUTH_REQUIRED", anon["selected"]["gates"]![0]!["reason"]!["code"]!.GetValue<string>());

        var now = DateTimeOffset.UtcNow;
        var (apptExp, _, _) = await emu.ExperienceWithAppointmentAsync(org.SecretKey, now.AddMinutes(-5), now.AddDays(1));
        var guestGate = (await RouteAsync(apptExp, org.PublishableKey, guest.AccessToken)).EnsureStatus(200);
        Assert.Equal("gated", guestGate["outcome"].GetValue<string>());
        Assert.Equal("AUTH_REQUIRED", guestGate["outcomeReasons"][0]!["code"]!.GetValue<string>());
        var (_, token) = await emu.VerifiedAsync(org.PublishableKey, "route-verified@example.test");
        var verified = (await RouteAsync(apptExp, org.PublishableKey, token)).EnsureStatus(200);
        Assert.Equal("routed", verified["outcome"].GetValue<string>());
        Assert.Equal("open", verified["selected"]["sequence"]!["availability"]!.GetValue<string>());

        var missing = await RouteAsync("0190a0a0-0000-7000-8000-00000000ffff", org.PublishableKey, guest.AccessToken);
        Assert.Equal(404, missing.Code);
        Assert.Equal("Experience not found", missing["error"].GetValue<string>());
        Assert.Equal(401, (await emu.Consumer.PostJsonAsync($"/experiences/{open}/route", new JsonObject())).Code);
    }

    [Fact]
    public async Task Details_enter_leave_archived_status_and_isolation()
    {
        await emu.ResetAsync();
        var orgs = await emu.OrganizationsAsync();
        var (org, acme) = (orgs[0], orgs[1]);
        var now = DateTimeOffset.UtcNow;
        var (id, seqId, apptId) = await emu.ExperienceWithAppointmentAsync(org.SecretKey, now.AddMinutes(-5), now.AddDays(1));

        var details = await emu.Consumer.GetJsonAsync($"/experiences/{id}", HttpClientExtensions.Pk(org.PublishableKey));
        Assert.Equal("USD", details["currencyCode"]!.GetValue<string>());
        Assert.Equal("UTC", details["timeZone"]!.GetValue<string>());
        var seq = details["sequences"]![0]!;
        Assert.Equal(seqId, seq["id"]!.GetValue<string>());
        var appt = seq["appointments"]![0]!;
        Assert.Equal(apptId, appt["id"]!.GetValue<string>());
        Assert.False(appt.AsObject().ContainsKey("organizationId"));
        Assert.False(appt.AsObject().ContainsKey("createdBy"));
        Assert.Equal(404, (await emu.Consumer.GetAsync($"/experiences/{id}", HttpClientExtensions.Pk(acme.PublishableKey))).Code);
        Assert.Equal(401, (await emu.Consumer.GetAsync($"/experiences/{id}", new Dictionary<string, string>())).Code);

        var guest = await emu.GuestAsync(org.PublishableKey);
        Assert.Equal(401, (await emu.Consumer.PostJsonAsync($"/experiences/{id}/enter", null, HttpClientExtensions.Pk(org.PublishableKey))).Code);
        var entered = (await emu.Consumer.PostJsonAsync($"/experiences/{id}/enter", null, HttpClientExtensions.Pk(org.PublishableKey, guest.AccessToken))).EnsureStatus(200);
        Assert.Equal(id, entered["experienceId"].GetValue<string>());
        Assert.Equal(id, entered["experience"]["id"]!.GetValue<string>());
        var again = (await emu.Consumer.PostJsonAsync($"/experiences/{id}/enter", null, HttpClientExtensions.Pk(org.PublishableKey, guest.AccessToken))).EnsureStatus(200);
        Assert.Equal(entered["enteredAt"].GetValue<string>(), again["enteredAt"].GetValue<string>());
        var left = (await emu.Consumer.SendJsonAsync(HttpMethod.Delete, $"/experiences/{id}/leave", null, HttpClientExtensions.Pk(org.PublishableKey, guest.AccessToken))).EnsureStatus(200);
        Assert.True(left["left"].GetValue<bool>());
        var left2 = (await emu.Consumer.SendJsonAsync(HttpMethod.Delete, $"/experiences/{id}/leave", null, HttpClientExtensions.Pk(org.PublishableKey, guest.AccessToken))).EnsureStatus(200);
        Assert.False(left2["left"].GetValue<bool>());

        var other = (await emu.CreateExperienceAsync(org.SecretKey, new JsonObject { ["name"] = "Doomed" }))["id"]!.GetValue<string>();
        (await emu.Admin.SendJsonAsync(HttpMethod.Delete, $"/experiences/{other}", null, HttpClientExtensions.Sk(org.SecretKey))).EnsureStatus(200);
        var acmeExp = (await emu.CreateExperienceAsync(acme.SecretKey, new JsonObject { ["name"] = "Acme" }))["id"]!.GetValue<string>();
        var status = (await emu.Consumer.PostJsonAsync("/experiences/archived-status",
            new JsonObject { ["experienceIds"] = new JsonArray(id, other, acmeExp) }, HttpClientExtensions.Pk(org.PublishableKey))).EnsureStatus(200);
        Assert.Equal([id], status["liveExperienceIds"].AsArray().Select(x => x!.GetValue<string>()));
        Assert.Equal(404, (await emu.Consumer.GetAsync($"/experiences/{other}", HttpClientExtensions.Pk(org.PublishableKey))).Code);
        var bad = await emu.Consumer.PostJsonAsync("/experiences/archived-status", new JsonObject { ["experienceIds"] = new JsonArray("x") }, HttpClientExtensions.Pk(org.PublishableKey));
        Assert.Equal(400, bad.Code);
    }
}
