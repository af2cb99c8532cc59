using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Fanfare.Emulator.Distributions.Grants;
using Fanfare.Emulator.Distributions.Appointments;
using Fanfare.Emulator.Organizations;
using Fanfare.Emulator.Tests.Distributions.Experiences;
using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Distributions.Waitlists;

/// <summary>Waitlists over HTTP: enter → WAITING → the sequence's distribution opens on the clock → NOTIFIED → CONVERTED.</summary>
public sealed class WaitlistJourneyTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.Parse("2030-02-01T12:00:00Z");

    private async Task<(string ExperienceId, string SequenceId, string AppointmentId, string WaitlistId)> UpcomingWithWaitlistAsync(
        OrgKeys org, int? capacity = null)
    {
        var (exp, seq, appt) = await emu.ExperienceWithAppointmentAsync(org.SecretKey, T0.AddMinutes(30), T0.AddHours(6), capacity: 5, name: "Upcoming");
        var body = new JsonObject { ["sequenceId"] = seq };
        if (capacity is not null) body["capacity"] = capacity;
        var w = (await emu.Admin.PostJsonAsync("/waitlists", body, HttpClientExtensions.Sk(org.SecretKey))).EnsureStatus(200);
        return (exp, seq, appt, w["id"].GetValue<string>());
    }

    [Fact]
    public async Task Waiting_then_notified_when_the_sequence_opens_then_converted_by_booking()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var pk = org.PublishableKey;
        await emu.FreezeClockAsync(T0);
        var (exp, seq, appt, wl) = await UpcomingWithWaitlistAsync(org);
        var (aliceId, alice) = await emu.VerifiedAsync(pk, "alice@waitlist.test");
        var guest = await emu.GuestAsync(pk);

        Assert.Equal(401, (await emu.Consumer.PostJsonAsync($"/waitlists/{wl}/enter", null, HttpClientExtensions.Pk(pk))).Code);
        var entry = (await emu.Consumer.PostJsonAsync($"/waitlists/{wl}/enter", null, XApi.As(pk, alice))).EnsureStatus(200);
        Assert.Equal(wl, entry["waitlistId"].GetValue<string>());
        Assert.Equal(seq, entry["sequenceId"].GetValue<string>());
        Assert.Equal(aliceId, entry["consumerId"].GetValue<string>());
        Assert.Equal(XApi.Iso(T0), entry["enteredAt"].GetValue<string>());
        var again = (await emu.Consumer.PostJsonAsync($"/waitlists/{wl}/enter", null, XApi.As(pk, alice))).EnsureStatus(200);
        Assert.Equal(entry["id"].GetValue<string>(), again["id"].GetValue<string>());
        (await emu.Consumer.PostJsonAsync($"/waitlists/{wl}/enter", null, XApi.As(pk, guest.AccessToken))).EnsureStatus(200);

        var status = await emu.Consumer.GetJsonAsync($"/waitlists/{wl}/status", XApi.As(pk, alice));
        Assert.True(status["isEntered"]!.GetValue<bool>());
        Assert.Equal("WAITING", status["status"]!.GetValue<string>());
        Assert.Equal(1, status["position"]!.GetValue<int>());
        Assert.Equal(2, (await emu.Consumer.GetJsonAsync($"/waitlists/{wl}/status", XApi.As(pk, guest.AccessToken)))["position"]!.GetValue<int>());

        var me = await emu.Consumer.GetJsonAsync("/consumers/me", XApi.As(pk, alice));
        var w = Assert.Single(me["waitlists"]!.AsArray())!;
        Assert.Equal(wl, w["waitlistId"]!.GetValue<string>());
        Assert.Equal(exp, w["experienceId"]!.GetValue<string>());
        Assert.Equal(1, w["position"]!.GetValue<int>());
        var journey = Assert.Single(me["active"]!["journeys"]!.AsArray())!;
        Assert.Equal("scheduled", journey["sequence"]!["phase"]!.GetValue<string>());
        Assert.Equal("scheduled", journey["sequence"]!["distribution"]!["lifecycle"]!.GetValue<string>());
        Assert.False(journey["sequence"]!.AsObject().ContainsKey("consumer"));

        var admin = await emu.Admin.GetJsonAsync($"/waitlists/{wl}/consumers", HttpClientExtensions.Sk(org.SecretKey));
        Assert.All(admin.AsArray(), e => Assert.Equal("waitlisted", e!["status"]!.GetValue<string>()));

        // The appointment opens at T0+30min: everyone waiting is notified, by email when we have one.
        await emu.AdvanceClockAsync(31 * 60);
        status = await emu.Consumer.GetJsonAsync($"/waitlists/{wl}/status", XApi.As(pk, alice));
        Assert.Equal("NOTIFIED", status["status"]!.GetValue<string>());
        Assert.Equal(XApi.Iso(T0.AddMinutes(30)), status["notifiedAt"]!.GetValue<string>());
        Assert.True(status["isEntered"]!.GetValue<bool>());
        var mail = await emu.Control.GetJsonAsync("/_emulator/inbox/latest?to=alice@waitlist.test");
        Assert.Equal("Main is open now", mail["subject"]!.GetValue<string>());
        admin = await emu.Admin.GetJsonAsync($"/waitlists/{wl}/consumers", HttpClientExtensions.Sk(org.SecretKey));
        Assert.All(admin.AsArray(), e => Assert.Equal("notified", e!["status"]!.GetValue<string>()));

        // Taking part in the sequence converts the entry.
        var slot = (await emu.Consumer.GetJsonAsync($"/appointments/{appt}/slots?startDate=2030-02-01&endDate=2030-02-01&timezone=UTC", HttpClientExtensions.Pk(pk)))["slots"]![0]!["id"]!.GetValue<string>();
        (await emu.Consumer.PostJsonAsync($"/appointments/{appt}/book", new JsonObject { ["slotId"] = slot }, XApi.As(pk, alice))).EnsureStatus(200);
        status = await emu.Consumer.GetJsonAsync($"/waitlists/{wl}/status", XApi.As(pk, alice));
        Assert.Equal("CONVERTED", status["status"]!.GetValue<string>());
        Assert.False(status["isEntered"]!.GetValue<bool>());
        admin = await emu.Admin.GetJsonAsync($"/sequences/{seq}/waitlist/consumers", HttpClientExtensions.Sk(org.SecretKey));
        var aliceRow = admin.AsArray().First(e => e!["consumerId"]!.GetValue<string>() == aliceId)!;
        Assert.Equal("converted", aliceRow["status"]!.GetValue<string>());
        Assert.Equal("alice@waitlist.test", aliceRow["consumer"]!["email"]!.GetValue<string>());
        Assert.True(aliceRow["consumer"]!["emailVerified"]!.GetValue<bool>());

        // Entering once a distribution is already open notifies at once.
        var (_, late) = await emu.VerifiedAsync(pk, "late@waitlist.test");
        (await emu.Consumer.PostJsonAsync($"/waitlists/{wl}/enter", null, XApi.As(pk, late))).EnsureStatus(200);
        Assert.Equal("NOTIFIED", (await emu.Consumer.GetJsonAsync($"/waitlists/{wl}/status", XApi.As(pk, late)))["status"]!.GetValue<string>());
    }

    [Trait("Category", "InProcess")]
    [Fact]
    public async Task Leave_capacity_and_order_limit_denial()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var pk = org.PublishableKey;
        var sk = HttpClientExtensions.Sk(org.SecretKey);
        await emu.FreezeClockAsync(T0);
        var (_, seq, appt, wl) = await UpcomingWithWaitlistAsync(org, capacity: 1);
        var a = await emu.GuestAsync(pk);
        var b = await emu.GuestAsync(pk);

        (await emu.Consumer.PostJsonAsync($"/waitlists/{wl}/enter", null, XApi.As(pk, a.AccessToken))).EnsureStatus(200);
        var full = await emu.Consumer.PostJsonAsync($"/waitlists/{wl}/enter", null, XApi.As(pk, b.AccessToken));
        Assert.Equal(409, full.Code);
        Assert.Equal("WAITLIST_FULL", full["code"].GetValue<string>());

        var left = (await emu.Consumer.SendJsonAsync(HttpMethod.Delete, $"/waitlists/{wl}/leave", null, XApi.As(pk, a.AccessToken))).EnsureStatus(200);
        Assert.True(left["left"].GetValue<bool>());
        Assert.False((await emu.Consumer.SendJsonAsync(HttpMethod.Delete, $"/waitlists/{wl}/leave", null, XApi.As(pk, a.AccessToken))).EnsureStatus(200)["left"].GetValue<bool>());
        var st = await emu.Consumer.GetJsonAsync($"/waitlists/{wl}/status", XApi.As(pk, a.AccessToken));
        Assert.False(st["isEntered"]!.GetValue<bool>());
        Assert.Equal("LEFT", st["status"]!.GetValue<string>());
        var never = await emu.Consumer.GetJsonAsync($"/waitlists/{wl}/status", XApi.As(pk, b.AccessToken));
        Assert.False(never["isEntered"]!.GetValue<bool>());
        Assert.False(never.AsObject().ContainsKey("enteredAt"));

        // b reached the sequence's per-person order limit (one completed admission in this sequence).
        (await emu.Admin.PostJsonAsync($"/sequences/{seq}/order-limits", new JsonObject
        {
            ["sequenceId"] = seq, ["productId"] = "0190a0a0-0000-7000-8000-000000000001", ["maxQuantity"] = 1,
        }, sk)).EnsureStatus(200);
        var grants = emu.Services.GetRequiredService<AdmissionGrants>();
        var orgDoc = emu.Services.GetRequiredService<OrganizationDirectory>().ById(org.Id)!;
        var dist = emu.Services.GetRequiredService<AppointmentEngine>().Get(org.Id, appt)!;
        grants.Issue(orgDoc, dist, b.ConsumerId, null);
        grants.Complete(orgDoc, appt, b.ConsumerId, null);
        var denied = await emu.Consumer.PostJsonAsync($"/waitlists/{wl}/enter", null, XApi.As(pk, b.AccessToken));
        Assert.Equal(409, denied.Code);
        Assert.Equal("DISTRIBUTION_ORDER_LIMIT", denied["code"].GetValue<string>());
        Assert.Matches("^[A-Z][A-Z0-9_]*$", denied["code"].GetValue<string>());
        Assert.Equal("reroute", denied["action"].GetValue<string>());
        Assert.False(denied.Json!.AsObject().ContainsKey("error"));
        Assert.Equal(1, denied["details"]["maxQuantity"]!.GetValue<int>());

        // a has no order: it may come back (the place b could not take is free again).
        (await emu.Consumer.PostJsonAsync($"/waitlists/{wl}/enter", null, XApi.As(pk, a.AccessToken))).EnsureStatus(200);
        Assert.Equal("WAITING", (await emu.Consumer.GetJsonAsync($"/waitlists/{wl}/status", XApi.As(pk, a.AccessToken)))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Admin_waitlist_crud_enter_by_email_export_and_metrics()
    {
        await emu.ResetAsync();
        var orgs = await emu.OrganizationsAsync();
        var (org, acme) = (orgs[0], orgs[1]);
        var sk = HttpClientExtensions.Sk(org.SecretKey);
        await emu.FreezeClockAsync(T0);
        var (exp, seq, _, wl) = await UpcomingWithWaitlistAsync(org);

        var dup = await emu.Admin.PostJsonAsync("/waitlists", new JsonObject { ["sequenceId"] = seq }, sk);
        Assert.Equal(400, dup.Code);
        Assert.Equal("unique", dup["issues"][0]!["type"]!.GetValue<string>());
        Assert.Equal(wl, (await emu.Admin.GetJsonAsync($"/sequences/{seq}/waitlist", sk))["id"]!.GetValue<string>());
        Assert.Equal(wl, (await emu.Admin.GetJsonAsync($"/sequences/{seq}", sk))["waitlist"]!["id"]!.GetValue<string>());
        var put = (await emu.Admin.SendJsonAsync(HttpMethod.Put, $"/waitlists/{wl}", new JsonObject { ["capacity"] = 50 }, sk)).EnsureStatus(200);
        Assert.Equal(50, put["capacity"].GetValue<int>());

        var entry = (await emu.Admin.PostJsonAsync($"/sequences/{seq}/waitlist/enter", new JsonObject { ["email"] = "New.Person@Waitlist.test" }, sk)).EnsureStatus(200);
        Assert.Equal("waitlisted", entry["status"].GetValue<string>());
        Assert.Equal(wl, entry["waitlistId"].GetValue<string>());
        Assert.Equal(400, (await emu.Admin.PostJsonAsync($"/sequences/{seq}/waitlist/enter", new JsonObject(), sk)).Code);
        Assert.Equal(404, (await emu.Admin.PostJsonAsync($"/sequences/{seq}/waitlist/enter", new JsonObject { ["consumerId"] = "0190a0a0-0000-7000-8000-000000000077" }, sk)).Code);
        var guest = await emu.GuestAsync(org.PublishableKey);
        (await emu.Admin.PostJsonAsync($"/sequences/{seq}/waitlist/enter", new JsonObject { ["consumerId"] = guest.ConsumerId }, sk)).EnsureStatus(200);

        Assert.Equal(2, (await emu.Admin.GetJsonAsync($"/sequences/{seq}/metrics", sk))["subscriberCount"]!.GetValue<int>());
        var metrics = await emu.Admin.GetJsonAsync($"/experiences/{exp}/metrics", sk);
        Assert.Equal(2, metrics["sequences"]![seq]!["waitlistSize"]!.GetValue<int>());
        Assert.Equal(2, metrics["sequences"]![seq]!["waitlistSize1d"]!.GetValue<int>());
        Assert.Equal(0, metrics["sequences"]![seq]!["waitlistSize5plus"]!.GetValue<int>());

        Assert.Equal(404, (await emu.Admin.GetAsync($"/waitlists/{wl}/export", sk)).Code);
        var export = (await emu.Admin.PostJsonAsync($"/waitlists/{wl}/export", null, sk)).EnsureStatus(200);
        Assert.Equal("COMPLETED", export["status"].GetValue<string>());
        Assert.Equal(2, export["consumerCount"].GetValue<int>());
        Assert.Equal(100, export["progress"].GetValue<double>());
        var fileId = export["lastFileId"].GetValue<int>();
        Assert.Equal(export["id"].GetValue<string>(), (await emu.Admin.GetJsonAsync($"/waitlists/{wl}/export", sk))["id"]!.GetValue<string>());
        var file = (await emu.Admin.GetAsync($"/waitlists/{wl}/export/{fileId}", sk)).EnsureStatus(200);
        var csv = file.Json!.GetValue<string>();
        Assert.StartsWith("consumerId,email", csv);
        Assert.Contains("new.person@waitlist.test", csv);
        Assert.Contains(guest.ConsumerId, csv);
        Assert.Equal(404, (await emu.Admin.GetAsync($"/waitlists/{wl}/export/99", sk)).Code);

        var events = await emu.Admin.GetJsonAsync("/scheduled-events?first=100", sk);
        Assert.Contains(events["data"]!.AsArray(), e => e!["topic"]!.GetValue<string>() == "exportWaitlist");

        var page = await emu.Admin.GetJsonAsync("/waitlists?first=1", sk);
        Assert.Single(page["data"]!.AsArray());
        Assert.Equal(404, (await emu.Admin.GetAsync($"/waitlists/{wl}", HttpClientExtensions.Sk(acme.SecretKey))).Code);
        var acmeGuest = await emu.GuestAsync(acme.PublishableKey);
        Assert.Equal(404, (await emu.Consumer.PostJsonAsync($"/waitlists/{wl}/enter", null, XApi.As(acme.PublishableKey, acmeGuest.AccessToken))).Code);

        var deleted = (await emu.Admin.SendJsonAsync(HttpMethod.Delete, $"/waitlists/{wl}", null, sk)).EnsureStatus(200);
        Assert.True(deleted["archived"].GetValue<bool>());
        var gone = await emu.Consumer.GetAsync($"/waitlists/{wl}/status", XApi.As(org.PublishableKey, guest.AccessToken));
        Assert.Equal(404, gone.Code);
        Assert.Equal("Waitlist not found", gone["error"].GetValue<string>());
    }
}
