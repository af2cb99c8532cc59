using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Distributions.Experiences;
using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Distributions.Appointments;

/// <summary>The appointment journey over HTTP with the clock frozen: slots → book → reschedule → cancel, capacity, past slots.</summary>
public sealed class AppointmentJourneyTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.Parse("2030-01-07T09:00:00Z");

    private async Task<JsonArray> SlotsAsync(string pk, string appointmentId, string day = "2030-01-07") =>
        (await emu.Consumer.GetJsonAsync($"/appointments/{appointmentId}/slots?startDate={day}&endDate={day}&timezone=UTC", HttpClientExtensions.Pk(pk)))["slots"]!.AsArray();

    private static JsonNode SlotById(JsonArray slots, string id) => slots.First(s => s!["id"]!.GetValue<string>() == id)!;

    [Fact]
    public async Task Slots_book_reschedule_cancel_and_capacity()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var pk = org.PublishableKey;
        await emu.FreezeClockAsync(T0);
        var (expId, seqId, appt) = await emu.ExperienceWithAppointmentAsync(org.SecretKey, T0, T0.AddHours(8), duration: 30, buffer: 10, capacity: 1);

        var meta = await emu.Consumer.GetJsonAsync($"/appointments/{appt}", HttpClientExtensions.Pk(pk));
        Assert.Equal(30, meta["slotDurationMinutes"]!.GetValue<int>());
        Assert.Equal("UTC", meta["timeZone"]!.GetValue<string>());

        // 09:00 starts now and is hidden; then every 40 minutes, 30 minutes long, ending by 17:00.
        var slots = await SlotsAsync(pk, appt);
        Assert.Equal(["slot_20300107T094000Z", "slot_20300107T102000Z", "slot_20300107T110000Z"], slots.Take(3).Select(s => s!["id"]!.GetValue<string>()));
        Assert.Equal("2030-01-07T09:40:00.000Z", slots[0]!["startTime"]!.GetValue<string>());
        Assert.Equal("2030-01-07T10:10:00.000Z", slots[0]!["endTime"]!.GetValue<string>());
        Assert.Equal(1, slots[0]!["capacity"]!.GetValue<int>());
        Assert.Equal(1, slots[0]!["available"]!.GetValue<int>());
        Assert.All(slots, s => Assert.True(DateTimeOffset.Parse(s!["endTime"]!.GetValue<string>()) <= T0.AddHours(8)));
        Assert.Equal(11, slots.Count); // 09:40 … 16:20

        var guest = await emu.GuestAsync(pk);
        var guestBook = await emu.Consumer.PostJsonAsync($"/appointments/{appt}/book", new JsonObject { ["slotId"] = "slot_20300107T094000Z" }, XApi.As(pk, guest.AccessToken));
        Assert.Equal(403, guestBook.Code);
        Assert.Equal(401, (await emu.Consumer.PostJsonAsync($"/appointments/{appt}/book", new JsonObject { ["slotId"] = "slot_20300107T094000Z" }, HttpClientExtensions.Pk(pk))).Code);

        var (aliceId, alice) = await emu.VerifiedAsync(pk, "alice@appointments.test");
        var (_, bob) = await emu.VerifiedAsync(pk, "bob@appointments.test");
        var booked = (await emu.Consumer.PostJsonAsync($"/appointments/{appt}/book", new JsonObject { ["slotId"] = "slot_20300107T094000Z" }, XApi.As(pk, alice))).EnsureStatus(200);
        Assert.Equal(aliceId, booked["consumerId"].GetValue<string>());
        Assert.Equal(appt, booked["appointmentId"].GetValue<string>());
        Assert.Equal("confirmed", booked["status"].GetValue<string>());
        Assert.Matches("^[0-9A-Z]{8}$", booked["confirmationCode"].GetValue<string>());
        Assert.Equal("2030-01-07T09:40:00.000Z", booked["startTime"].GetValue<string>());
        var bookingId = booked["bookingId"].GetValue<string>();
        var code = booked["confirmationCode"].GetValue<string>();
        Assert.Equal(0, SlotById(await SlotsAsync(pk, appt), "slot_20300107T094000Z")["available"]!.GetValue<int>());

        var full = await emu.Consumer.PostJsonAsync($"/appointments/{appt}/book", new JsonObject { ["slotId"] = "slot_20300107T094000Z" }, XApi.As(pk, bob));
        Assert.Equal(409, full.Code);
        Assert.Equal("Slot is full", full["error"].GetValue<string>());
        var same = (await emu.Consumer.PostJsonAsync($"/appointments/{appt}/book", new JsonObject { ["slotId"] = "slot_20300107T094000Z" }, XApi.As(pk, alice))).EnsureStatus(200);
        Assert.Equal(bookingId, same["bookingId"].GetValue<string>());
        var second = await emu.Consumer.PostJsonAsync($"/appointments/{appt}/book", new JsonObject { ["slotId"] = "slot_20300107T102000Z" }, XApi.As(pk, alice));
        Assert.Equal(409, second.Code);
        Assert.Equal("Appointment already booked", second["error"].GetValue<string>());
        Assert.Equal(404, (await emu.Consumer.PostJsonAsync($"/appointments/{appt}/book", new JsonObject { ["slotId"] = "slot_20300107T094500Z" }, XApi.As(pk, bob))).Code);
        Assert.Equal(400, (await emu.Consumer.PostJsonAsync($"/appointments/{appt}/book", new JsonObject(), XApi.As(pk, bob))).Code);

        var me = await emu.Consumer.GetJsonAsync($"/appointments/{appt}/me", XApi.As(pk, alice));
        Assert.Equal(bookingId, me["booking"]!["bookingId"]!.GetValue<string>());
        Assert.Equal("slot_20300107T094000Z", me["booking"]!["slotId"]!.GetValue<string>());
        var bobMe = await emu.Consumer.GetJsonAsync($"/appointments/{appt}/me", XApi.As(pk, bob));
        Assert.Null(bobMe["booking"]);

        var moved = (await emu.Consumer.PostJsonAsync($"/appointments/{appt}/reschedule", new JsonObject { ["newSlotId"] = "slot_20300107T102000Z" }, XApi.As(pk, alice))).EnsureStatus(200);
        Assert.Equal(bookingId, moved["bookingId"].GetValue<string>());
        Assert.Equal("slot_20300107T094000Z", moved["previousSlotId"].GetValue<string>());
        Assert.Equal("slot_20300107T102000Z", moved["newSlotId"].GetValue<string>());
        Assert.Equal(code, moved["confirmationCode"].GetValue<string>());
        slots = await SlotsAsync(pk, appt);
        Assert.Equal(1, SlotById(slots, "slot_20300107T094000Z")["available"]!.GetValue<int>());
        Assert.Equal(0, SlotById(slots, "slot_20300107T102000Z")["available"]!.GetValue<int>());
        (await emu.Consumer.PostJsonAsync($"/appointments/{appt}/book", new JsonObject { ["slotId"] = "slot_20300107T094000Z" }, XApi.As(pk, bob))).EnsureStatus(200);
        var blocked = await emu.Consumer.PostJsonAsync($"/appointments/{appt}/reschedule", new JsonObject { ["newSlotId"] = "slot_20300107T094000Z" }, XApi.As(pk, alice));
        Assert.Equal(409, blocked.Code);

        var wrongSlot = await emu.Consumer.PostJsonAsync($"/appointments/{appt}/cancel", new JsonObject { ["slotId"] = "slot_20300107T094000Z" }, XApi.As(pk, alice));
        Assert.Equal(404, wrongSlot.Code);
        Assert.Equal("Booking not found", wrongSlot["error"].GetValue<string>());
        var cancelled = (await emu.Consumer.PostJsonAsync($"/appointments/{appt}/cancel", new JsonObject { ["slotId"] = "slot_20300107T102000Z", ["reason"] = "sick" }, XApi.As(pk, alice))).EnsureStatus(200);
        Assert.Equal(bookingId, cancelled["bookingId"].GetValue<string>());
        Assert.False(string.IsNullOrEmpty(cancelled["message"].GetValue<string>()));
        Assert.Equal(1, SlotById(await SlotsAsync(pk, appt), "slot_20300107T102000Z")["available"]!.GetValue<int>());
        Assert.Null((await emu.Consumer.GetJsonAsync($"/appointments/{appt}/me", XApi.As(pk, alice)))["booking"]);

        // The confirmation email landed in the fake inbox with the code.
        var inbox = await emu.Control.GetJsonAsync("/_emulator/inbox?to=alice@appointments.test");
        Assert.Contains(inbox["messages"]!.AsArray(), m => m!["text"]!.GetValue<string>().Contains(code));
    }

    [Fact]
    public async Task Past_slots_are_hidden_as_the_clock_moves_and_upcoming_appointments_refuse_bookings()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var pk = org.PublishableKey;
        await emu.FreezeClockAsync(T0);
        var (_, _, appt) = await emu.ExperienceWithAppointmentAsync(org.SecretKey, T0, T0.AddHours(8), capacity: 2);
        var (_, later, upcoming) = await emu.ExperienceWithAppointmentAsync(org.SecretKey, T0.AddHours(2), T0.AddHours(4), name: "Later");
        var (_, token) = await emu.VerifiedAsync(pk, "carol@appointments.test");

        var early = await emu.Consumer.PostJsonAsync($"/appointments/{upcoming}/book", new JsonObject { ["slotId"] = "slot_20300107T110000Z" }, XApi.As(pk, token));
        Assert.Equal(423, early.Code);
        Assert.Equal("Appointment is not open yet", early["error"].GetValue<string>());
        Assert.Equal("2030-01-07T11:00:00.000Z", early.Headers.GetValues("Retry-After").Single());

        Assert.Contains(await SlotsAsync(pk, appt), s => s!["id"]!.GetValue<string>() == "slot_20300107T094000Z");
        await emu.AdvanceClockAsync(50 * 60); // 09:50
        var slots = await SlotsAsync(pk, appt);
        Assert.Equal("slot_20300107T102000Z", slots[0]!["id"]!.GetValue<string>());
        var past = await emu.Consumer.PostJsonAsync($"/appointments/{appt}/book", new JsonObject { ["slotId"] = "slot_20300107T094000Z" }, XApi.As(pk, token));
        Assert.Equal(404, past.Code);
        Assert.Equal("Slot not found", past["error"].GetValue<string>());

        await emu.AdvanceClockAsync(8 * 3600); // after closeAt: nothing bookable, nothing listed
        var (_, fresh) = await emu.VerifiedAsync(pk, "dave@appointments.test");
        Assert.Empty(await SlotsAsync(pk, appt));
        var closed = await emu.Consumer.PostJsonAsync($"/appointments/{appt}/book", new JsonObject { ["slotId"] = "slot_20300107T162000Z" }, XApi.As(pk, fresh));
        Assert.Equal(400, closed.Code);
        Assert.Equal("Appointment is closed", closed["error"].GetValue<string>());

        var bad = await emu.Consumer.GetAsync($"/appointments/{appt}/slots?startDate=soon&endDate=2030-01-07", HttpClientExtensions.Pk(pk));
        Assert.Equal(400, bad.Code);
        Assert.Equal("validation_error", bad["error"].GetValue<string>());
        Assert.Equal(400, (await emu.Consumer.GetAsync($"/appointments/{appt}/slots?startDate=2030-01-07", HttpClientExtensions.Pk(pk))).Code);
    }

    [Fact]
    public async Task Admin_crud_slots_attendees_and_isolation()
    {
        await emu.ResetAsync();
        var orgs = await emu.OrganizationsAsync();
        var (org, acme) = (orgs[0], orgs[1]);
        var sk = HttpClientExtensions.Sk(org.SecretKey);
        await emu.FreezeClockAsync(T0);
        var seq = (await emu.Admin.PostJsonAsync("/sequences", new JsonObject { ["name"] = "Standalone" }, sk)).EnsureStatus(200)["id"].GetValue<string>();

        var created = (await emu.Admin.PostJsonAsync("/appointments", new JsonObject
        {
            ["sequenceId"] = seq, ["name"] = "Fitting", ["openAt"] = XApi.Iso(T0), ["closeAt"] = XApi.Iso(T0.AddHours(2)),
            ["slotDurationMinutes"] = 60, ["maxCapacityPerSlot"] = 3, ["timeZone"] = "Europe/London",
        }, sk)).EnsureStatus(200);
        var id = created["id"].GetValue<string>();
        Assert.Equal(seq, created["sequenceId"].GetValue<string>());
        Assert.Null(created["bufferMinutes"]);
        Assert.Equal("Europe/London", created["timeZone"].GetValue<string>());
        Assert.Equal(400, (await emu.Admin.PostJsonAsync("/appointments", new JsonObject { ["name"] = "No sequence" }, sk)).Code);
        Assert.Equal(404, (await emu.Admin.PostJsonAsync("/appointments", new JsonObject { ["sequenceId"] = "0190a0a0-0000-7000-8000-000000000009", ["name"] = "x" }, sk)).Code);
        var badClose = await emu.Admin.PostJsonAsync("/appointments", new JsonObject
        {
            ["sequenceId"] = seq, ["name"] = "Backwards", ["openAt"] = XApi.Iso(T0), ["closeAt"] = XApi.Iso(T0.AddHours(-1)),
        }, sk);
        Assert.Equal(400, badClose.Code);

        var put = (await emu.Admin.SendJsonAsync(HttpMethod.Put, $"/appointments/{id}", new JsonObject { ["bufferMinutes"] = 0, ["name"] = "Fitting 2" }, sk)).EnsureStatus(200);
        Assert.Equal("Fitting 2", put["name"].GetValue<string>());
        Assert.Equal(0, put["bufferMinutes"].GetValue<int>());

        var (consumerId, token) = await emu.VerifiedAsync(org.PublishableKey, "erin@appointments.test");
        (await emu.Consumer.PostJsonAsync($"/appointments/{id}/book", new JsonObject { ["slotId"] = "slot_20300107T100000Z" }, XApi.As(org.PublishableKey, token))).EnsureStatus(200);

        var adminSlots = await emu.Admin.GetJsonAsync($"/appointments/{id}/slots?startDate=2030-01-07&endDate=2030-01-07&timezone=UTC", sk);
        Assert.Equal(id, adminSlots["appointmentId"]!.GetValue<string>());
        Assert.Equal("2030-01-07", adminSlots["date"]!.GetValue<string>());
        var arr = adminSlots["slots"]!.AsArray();
        Assert.Equal(2, arr.Count); // 09:00 (past, still listed for staff) and 10:00
        Assert.False(arr[0]!["available"]!.GetValue<bool>());
        var ten = arr[1]!;
        Assert.Equal(1, ten["bookedCount"]!.GetValue<int>());
        Assert.Equal(3, ten["maxCapacity"]!.GetValue<int>());
        Assert.Equal(33.33, ten["percentageFilled"]!.GetValue<double>());
        Assert.Equal(consumerId, ten["attendees"]![0]!["consumerId"]!.GetValue<string>());
        Assert.Equal("erin@appointments.test", ten["attendees"]![0]!["email"]!.GetValue<string>());

        var attendees = await emu.Admin.GetJsonAsync($"/appointments/{id}/slots/slot_20300107T100000Z/attendees?page=1&limit=10", sk);
        Assert.Equal(1, attendees["pagination"]!["total"]!.GetValue<int>());
        Assert.Equal(1, attendees["pagination"]!["totalPages"]!.GetValue<int>());
        Assert.Equal("confirmed", attendees["attendees"]![0]!["status"]!.GetValue<string>());
        Assert.Equal(400, (await emu.Admin.GetAsync($"/appointments/{id}/slots/slot_20300107T100000Z/attendees?limit=0", sk)).Code);

        var removed = (await emu.Admin.SendJsonAsync(HttpMethod.Delete, $"/appointments/{id}/slots/slot_20300107T100000Z/attendees/{consumerId}", null, sk)).EnsureStatus(200);
        Assert.True(removed["success"].GetValue<bool>());
        Assert.Equal(404, (await emu.Admin.SendJsonAsync(HttpMethod.Delete, $"/appointments/{id}/slots/slot_20300107T100000Z/attendees/{consumerId}", null, sk)).Code);
        Assert.Null((await emu.Consumer.GetJsonAsync($"/appointments/{id}/me", XApi.As(org.PublishableKey, token)))["booking"]);

        var list = await emu.Admin.GetJsonAsync("/appointments?first=1", sk);
        Assert.Single(list["data"]!.AsArray());
        Assert.Equal(404, (await emu.Admin.GetAsync($"/appointments/{id}", HttpClientExtensions.Sk(acme.SecretKey))).Code);
        Assert.Equal(404, (await emu.Consumer.GetAsync($"/appointments/{id}", HttpClientExtensions.Pk(acme.PublishableKey))).Code);
        Assert.Equal(401, (await emu.Admin.GetAsync($"/appointments/{id}", HttpClientExtensions.Pk(org.PublishableKey))).Code);

        await emu.AdvanceClockAsync(3 * 3600);
        var closedUpdate = await emu.Admin.SendJsonAsync(HttpMethod.Put, $"/appointments/{id}", new JsonObject { ["name"] = "Too late" }, sk);
        Assert.Equal(409, closedUpdate.Code);
        Assert.Equal("Cannot update closed distribution", closedUpdate["error"].GetValue<string>());
        var deleted = (await emu.Admin.SendJsonAsync(HttpMethod.Delete, $"/appointments/{id}", null, sk)).EnsureStatus(200);
        Assert.True(deleted["archived"].GetValue<bool>());
        Assert.Equal(404, (await emu.Admin.GetAsync($"/appointments/{id}", sk)).Code);
    }

    [Fact]
    public async Task Booking_shows_in_consumers_me_and_the_participants_helper()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await emu.FreezeClockAsync(T0);
        var (expId, seqId, appt) = await emu.ExperienceWithAppointmentAsync(org.SecretKey, T0, T0.AddHours(8), capacity: 2);
        var (consumerId, token) = await emu.VerifiedAsync(org.PublishableKey, "frank@appointments.test");
        (await emu.Consumer.PostJsonAsync($"/appointments/{appt}/book", new JsonObject { ["slotId"] = "slot_20300107T102000Z" }, XApi.As(org.PublishableKey, token))).EnsureStatus(200);

        var me = await emu.Consumer.GetJsonAsync("/consumers/me", XApi.As(org.PublishableKey, token));
        var journey = Assert.Single(me["active"]!["journeys"]!.AsArray())!;
        Assert.Equal(expId, journey["experienceId"]!.GetValue<string>());
        Assert.Equal("routed", journey["journeyStage"]!.GetValue<string>());
        Assert.Equal(seqId, journey["sequenceId"]!.GetValue<string>());
        var seq = journey["sequence"]!;
        Assert.Equal("participating", seq["phase"]!.GetValue<string>());
        Assert.Equal("appointment", seq["mechanism"]!.GetValue<string>());
        Assert.Equal("open", seq["distribution"]!["lifecycle"]!.GetValue<string>());
        Assert.Equal(appt, seq["distribution"]!["id"]!.GetValue<string>());
        Assert.Equal("booked", seq["consumer"]!["status"]!.GetValue<string>());
        Assert.Equal("slot_20300107T102000Z", seq["consumer"]!["slotId"]!.GetValue<string>());

        var participants = await emu.Control.GetJsonAsync($"/_emulator/distributions/{appt}/participants");
        Assert.Equal(consumerId, participants["participants"]![0]!["consumerId"]!.GetValue<string>());
        var sim = (await emu.Control.PostJsonAsync($"/_emulator/distributions/{appt}/simulate", new JsonObject { ["consumers"] = 3 })).EnsureStatus(200);
        Assert.Equal(3, sim["consumerIds"].AsArray().Count);
        var slots = (await emu.Consumer.GetJsonAsync($"/appointments/{appt}/slots?startDate=2030-01-07&endDate=2030-01-07&timezone=UTC", HttpClientExtensions.Pk(org.PublishableKey)))["slots"]!.AsArray();
        Assert.Equal(0, slots[0]!["available"]!.GetValue<int>()); // 09:40 filled by two simulated guests
        Assert.Equal(0, slots[1]!["available"]!.GetValue<int>()); // 10:20: frank + one simulated guest

        await emu.AdvanceClockAsync(9 * 3600 - 60);
        var (_, t2) = await emu.VerifiedAsync(org.PublishableKey, "frank@appointments.test");
        var ended = (await emu.Consumer.GetJsonAsync("/consumers/me", XApi.As(org.PublishableKey, t2)))["active"]!["journeys"]![0]!["sequence"]!;
        Assert.Equal("ended", ended["phase"]!.GetValue<string>());
        Assert.Equal("closed", ended["distribution"]!["lifecycle"]!.GetValue<string>());
        Assert.Equal("closed", ended["outcome"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task Parallel_bookings_never_exceed_slot_capacity()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await emu.FreezeClockAsync(T0);
        var (_, _, appt) = await emu.ExperienceWithAppointmentAsync(org.SecretKey, T0, T0.AddHours(8), capacity: 3);
        var tokens = new List<string>();
        for (int i = 0; i < 8; i++) tokens.Add((await emu.VerifiedAsync(org.PublishableKey, $"rush{i}@appointments.test")).Token);
        var results = await Task.WhenAll(tokens.Select(t => emu.Consumer.PostJsonAsync($"/appointments/{appt}/book",
            new JsonObject { ["slotId"] = "slot_20300107T094000Z" }, XApi.As(org.PublishableKey, t))));
        Assert.Equal(3, results.Count(r => r.Code == 200));
        Assert.Equal(5, results.Count(r => r.Code == 409));
        Assert.Equal(3, results.Where(r => r.Code == 200).Select(r => r["confirmationCode"].GetValue<string>()).Distinct().Count());
        var slot = (await SlotsAsync(org.PublishableKey, appt))[0]!;
        Assert.Equal(0, slot["available"]!.GetValue<int>());
    }
}
