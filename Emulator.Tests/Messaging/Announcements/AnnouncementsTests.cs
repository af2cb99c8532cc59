using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Auth;
using Fanfare.Emulator.Tests.Distributions.Experiences;
using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Messaging.Announcements;

/// <summary>
/// Announcements (admin-part1.md): CRUD with the contract shape, and delivery on the emulator clock to the waitlist —
/// EMAIL into <c>/_emulator/inbox</c>, SMS into <c>/_emulator/sms</c>, social types recorded on <c>/_emulator/announcements</c>;
/// editing reschedules, deleting cancels.
/// </summary>
public sealed class AnnouncementsTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.Parse("2030-03-01T12:00:00Z");

    private static readonly string[] Required =
        ["id", "organizationId", "createdAt", "createdBy", "archived", "type", "content", "title", "includeAudience", "includeWaitlist", "experienceId", "timeZone", "isDefault"];

    private sealed record Drop(OrgKeys Org, string ExperienceId, string SequenceId, string AppointmentId, string WaitlistId);

    /// <summary>An experience whose appointment opens at T0+1d and closes at T0+2d, with a waitlist holding alice (email)
    /// and bob (email and phone).</summary>
    private async Task<Drop> DropWithWaitlistAsync()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await emu.FreezeClockAsync(T0);
        var (exp, seq, appt) = await emu.ExperienceWithAppointmentAsync(org.SecretKey, T0.AddDays(1), T0.AddDays(2), capacity: 5, name: "Spring Drop");
        var wl = (await emu.Admin.PostJsonAsync("/waitlists", new JsonObject { ["sequenceId"] = seq }, HttpClientExtensions.Sk(org.SecretKey))).EnsureStatus(200)["id"].GetValue<string>();
        var (_, alice) = await emu.VerifiedAsync(org.PublishableKey, "alice@announce.test");
        var (bobId, bob) = await emu.VerifiedAsync(org.PublishableKey, "bob@announce.test");
        (await emu.Admin.SendJsonAsync(HttpMethod.Put, $"/consumers/{bobId}", new JsonObject { ["phone"] = "+15555550123" },
            HttpClientExtensions.Sk(org.SecretKey))).EnsureStatus(200);
        (await emu.Consumer.PostJsonAsync($"/waitlists/{wl}/enter", null, XApi.As(org.PublishableKey, alice))).EnsureStatus(200);
        (await emu.Consumer.PostJsonAsync($"/waitlists/{wl}/enter", null, XApi.As(org.PublishableKey, bob))).EnsureStatus(200);
        return new Drop(org, exp, seq, appt, wl);
    }

    private static JsonObject PointInTime(Drop d, string type, DateTimeOffset at, string title = "Drop reminder") => new()
    {
        ["timingStrategy"] = "POINT_IN_TIME", ["scheduledAt"] = XApi.Iso(at), ["type"] = type,
        ["content"] = "Hi {{firstName}}, {{experienceName}} opens soon.", ["title"] = title,
        ["includeAudience"] = false, ["includeWaitlist"] = true, ["experienceId"] = d.ExperienceId, ["timeZone"] = "UTC",
        ["link"] = "https://shop.example/drop",
    };

    private async Task<JsonNode> CreateAsync(Drop d, JsonObject body) =>
        (await emu.Admin.PostJsonAsync("/announcements", body, HttpClientExtensions.Sk(d.Org.SecretKey))).EnsureStatus(200).Json!;

    private async Task<List<string>> InboxSubjectsAsync(string to) =>
        (await emu.Control.GetJsonAsync("/_emulator/inbox?to=" + Uri.EscapeDataString(to)))["messages"]!.AsArray()
            .Select(m => m!["subject"]!.GetValue<string>()).ToList();

    private async Task<JsonObject> DeliveryAsync(string id) =>
        (await emu.Control.GetJsonAsync("/_emulator/announcements"))["data"]!.AsArray().Single(a => a!["announcementId"]!.GetValue<string>() == id)!.AsObject();

    [Fact]
    public async Task Crud_returns_the_announcement_shape()
    {
        var d = await DropWithWaitlistAsync();
        var sk = HttpClientExtensions.Sk(d.Org.SecretKey);
        var body = PointInTime(d, "EMAIL", T0.AddHours(1));
        body["creativeDocument"] = new JsonObject
        {
            ["schemaVersion"] = 1, ["kind"] = "announcement-email", ["editor"] = "email-components-v1",
            ["body"] = new JsonObject { ["subjectTemplate"] = "{{experienceName}} is coming", ["nodes"] = new JsonArray() },
        };
        body["metadata"] = new JsonObject { ["email"] = new JsonObject { ["fromEmail"] = "drops@shop.example", ["replyToEmail"] = "help@shop.example", ["fromName"] = "Shop" } };
        var a = await CreateAsync(d, body);
        foreach (var f in Required) Assert.True(a[f] is not null, $"{f} missing: {a.ToJsonString()}");
        var id = a["id"]!.GetValue<string>();
        Assert.Matches("^[0-9a-f-]{36}$", id);
        Assert.Equal(d.Org.Id, a["organizationId"]!.GetValue<string>());
        Assert.Equal("POINT_IN_TIME", a["timingStrategy"]!.GetValue<string>());
        Assert.Equal(XApi.Iso(T0.AddHours(1)), a["scheduledAt"]!.GetValue<string>());
        Assert.False(a["archived"]!.GetValue<bool>());
        Assert.False(a["isDefault"]!.GetValue<bool>());
        Assert.Equal("email-components-v1", a["creativeDocument"]!["editor"]!.GetValue<string>());
        Assert.Null(a["anchorEntity"]);

        var got = (await emu.Admin.GetAsync($"/announcements/{id}", sk)).EnsureStatus(200);
        Assert.True(JsonNode.DeepEquals(a, got.Json));
        var list = (await emu.Admin.GetAsync("/announcements", sk)).EnsureStatus(200);
        Assert.Contains(list["data"].AsArray(), x => x!["id"]!.GetValue<string>() == id);
        Assert.True(list["pageInfo"].AsObject().ContainsKey("endCursor"));

        var put = (await emu.Admin.SendJsonAsync(HttpMethod.Put, $"/announcements/{id}", new JsonObject { ["title"] = "Renamed" }, sk)).EnsureStatus(200);
        Assert.Equal("Renamed", put["title"].GetValue<string>());
        Assert.Equal("api_key", put["updatedBy"].GetValue<string>());

        var deleted = (await emu.Admin.SendAsync(HttpMethod.Delete, $"/announcements/{id}", null, sk)).EnsureStatus(200);
        Assert.True(deleted["archived"].GetValue<bool>());
        (await emu.Admin.GetAsync($"/announcements/{id}", sk)).AssertError(404, "Announcement not found");
        Assert.DoesNotContain((await emu.Admin.GetAsync("/announcements", sk))["data"].AsArray(), x => x!["id"]!.GetValue<string>() == id);
    }

    [Fact]
    public async Task Bad_input_is_the_standard_400_and_changes_nothing()
    {
        var d = await DropWithWaitlistAsync();
        var sk = HttpClientExtensions.Sk(d.Org.SecretKey);
        var issues = (await emu.Admin.PostJsonAsync("/announcements", new JsonObject { ["timingStrategy"] = "POINT_IN_TIME" }, sk)).AssertValidationError();
        foreach (var key in new[] { "scheduledAt", "type", "content", "title", "includeAudience", "includeWaitlist", "experienceId", "timeZone" })
            issues.IssueAt(key);

        var relative = PointInTime(d, "SMS", T0);
        relative.Remove("scheduledAt");
        relative["timingStrategy"] = "RELATIVE";
        relative["anchorEntity"] = "DISTRIBUTION";
        relative["anchorMoment"] = "SETTLE";
        issues = (await emu.Admin.PostJsonAsync("/announcements", relative, sk)).AssertValidationError();
        issues.IssueAt("offsetSeconds"); issues.IssueAt("distributionId"); issues.IssueAt("distributionType");

        var badDoc = PointInTime(d, "EMAIL", T0.AddHours(1));
        badDoc["creativeDocument"] = new JsonObject { ["schemaVersion"] = 1, ["kind"] = "poster", ["editor"] = "x", ["body"] = new JsonObject() };
        (await emu.Admin.PostJsonAsync("/announcements", badDoc, sk)).AssertValidationError();

        var unknown = PointInTime(d, "EMAIL", T0.AddHours(1));
        unknown["experienceId"] = "00000000-0000-4000-8000-000000000999";
        (await emu.Admin.PostJsonAsync("/announcements", unknown, sk)).AssertError(404, "Experience not found");
        Assert.Empty((await emu.Admin.GetAsync("/announcements", sk))["data"].AsArray());
    }

    [Fact]
    public async Task Email_and_sms_go_out_to_the_waitlist_when_due_on_the_clock()
    {
        var d = await DropWithWaitlistAsync();
        var email = await CreateAsync(d, PointInTime(d, "EMAIL", T0.AddHours(1), "Spring is near"));
        var sms = await CreateAsync(d, PointInTime(d, "SMS", T0.AddHours(2)));
        Assert.Equal("scheduled", (await DeliveryAsync(email["id"]!.GetValue<string>()))["status"]!.GetValue<string>());

        await emu.AdvanceClockAsync(59 * 60);
        Assert.DoesNotContain("Spring is near", await InboxSubjectsAsync("alice@announce.test"));

        await emu.AdvanceClockAsync(60);
        Assert.Contains("Spring is near", await InboxSubjectsAsync("alice@announce.test"));
        Assert.Contains("Spring is near", await InboxSubjectsAsync("bob@announce.test"));
        var mail = (await emu.Control.GetJsonAsync("/_emulator/inbox?to=alice%40announce.test"))["messages"]![0]!;
        Assert.Contains("Spring Drop opens soon.", mail["text"]!.GetValue<string>());
        Assert.Contains("https://shop.example/drop", mail["text"]!.GetValue<string>());
        Assert.Equal(XApi.Iso(T0.AddHours(1)), mail["sentAt"]!.GetValue<string>());
        var delivery = await DeliveryAsync(email["id"]!.GetValue<string>());
        Assert.Equal("sent", delivery["status"]!.GetValue<string>());
        Assert.Equal(XApi.Iso(T0.AddHours(1)), delivery["sentAt"]!.GetValue<string>());
        Assert.Equal(2, delivery["recipients"]!.AsArray().Count(r => r!["status"]!.GetValue<string>() == "sent"));
        Assert.Empty((await emu.Control.GetJsonAsync("/_emulator/sms?to=%2B15555550123"))["messages"]!.AsArray());

        await emu.AdvanceClockAsync(3600);
        var texts = (await emu.Control.GetJsonAsync("/_emulator/sms?to=%2B15555550123"))["messages"]!.AsArray();
        var text = Assert.Single(texts)!;
        Assert.Contains("Spring Drop opens soon.", text["body"]!.GetValue<string>());
        var smsDelivery = await DeliveryAsync(sms["id"]!.GetValue<string>());
        Assert.Contains(smsDelivery["recipients"]!.AsArray(), r => r!["status"]!.GetValue<string>() == "skipped" && r["reason"]!.GetValue<string>() == "no_phone");

        // Each message left a messageSent beacon event for analytics.
        var q = new JsonObject
        {
            ["interval"] = "1h", ["timeRange"] = $"{XApi.Iso(T0)}/{XApi.Iso(T0.AddHours(3))}",
            ["measures"] = new JsonArray(new JsonObject { ["name"] = "sent", ["unit"] = "count", ["op"] = "count", ["event"] = "messageSent" }),
        };
        var analytics = await emu.Admin.PostJsonAsync("/analytics/query", q, HttpClientExtensions.Sk(d.Org.SecretKey));
        if (analytics.Code == 200)
            Assert.Equal(3, analytics["data"].AsArray().Sum(b => b!["series"]!["sent"]!.GetValue<double>()));
    }

    [Fact]
    public async Task Email_goes_to_the_members_of_the_audience_the_experience_is_limited_to()
    {
        var d = await DropWithWaitlistAsync();
        var sk = HttpClientExtensions.Sk(d.Org.SecretKey);
        var (aliceId, _) = await emu.VerifiedAsync(d.Org.PublishableKey, "alice@announce.test");
        var audience = (await emu.Admin.PostJsonAsync("/audiences", new JsonObject { ["name"] = "Insiders", ["type"] = "STATIC_LIST" }, sk)).EnsureStatus(200)["id"].GetValue<string>();
        (await emu.Admin.PostJsonAsync($"/audiences/{audience}/members", new JsonObject { ["consumerIds"] = new JsonArray(aliceId) }, sk)).EnsureStatus(200);
        (await emu.Admin.SendJsonAsync(HttpMethod.Put, $"/sequences/{d.SequenceId}", new JsonObject { ["audienceId"] = audience }, sk)).EnsureStatus(200);

        var body = PointInTime(d, "EMAIL", T0.AddHours(1), "Insiders first");
        body["includeAudience"] = true;
        body["includeWaitlist"] = false;
        await CreateAsync(d, body);
        await emu.AdvanceClockAsync(3600);
        Assert.Contains("Insiders first", await InboxSubjectsAsync("alice@announce.test"));
        Assert.DoesNotContain("Insiders first", await InboxSubjectsAsync("bob@announce.test"));
    }

    [Fact]
    public async Task Relative_to_a_distribution_follows_edits_and_deleting_cancels()
    {
        var d = await DropWithWaitlistAsync();
        var sk = HttpClientExtensions.Sk(d.Org.SecretKey);
        JsonObject Relative(string title, string entity, string moment, double offset)
        {
            var b = PointInTime(d, "EMAIL", T0, title);
            b.Remove("scheduledAt");
            b["timingStrategy"] = "RELATIVE"; b["anchorEntity"] = entity; b["anchorMoment"] = moment; b["offsetSeconds"] = offset;
            if (entity == "DISTRIBUTION") { b["distributionId"] = d.AppointmentId; b["distributionType"] = "APPOINTMENT"; }
            return b;
        }
        var beforeOpen = await CreateAsync(d, Relative("Ten minutes to go", "DISTRIBUTION", "OPEN", -600));
        Assert.Equal(XApi.Iso(T0.AddDays(1).AddMinutes(-10)), (await DeliveryAsync(beforeOpen["id"]!.GetValue<string>()))["dueAt"]!.GetValue<string>());
        var cancelled = await CreateAsync(d, Relative("Never sent", "EXPERIENCE", "OPEN", 0));
        var atClose = await CreateAsync(d, Relative("Last call", "EXPERIENCE", "CLOSE", -3600));

        // A wrong distribution type is refused.
        var wrong = Relative("x", "DISTRIBUTION", "OPEN", 0);
        wrong["distributionType"] = "QUEUE";
        (await emu.Admin.PostJsonAsync("/announcements", wrong, sk)).AssertValidationError().IssueAt("distributionType");

        // Edit before due: one hour before opening instead of ten minutes.
        (await emu.Admin.SendJsonAsync(HttpMethod.Put, $"/announcements/{beforeOpen["id"]!.GetValue<string>()}", new JsonObject { ["offsetSeconds"] = -3600 }, sk)).EnsureStatus(200);
        // Delete before due: cancelled.
        (await emu.Admin.SendAsync(HttpMethod.Delete, $"/announcements/{cancelled["id"]!.GetValue<string>()}", null, sk)).EnsureStatus(200);

        await emu.AdvanceClockAsync(TimeSpan.FromDays(1).TotalSeconds - 3600 + 1);
        Assert.Contains("Ten minutes to go", await InboxSubjectsAsync("alice@announce.test"));
        var mail = (await emu.Control.GetJsonAsync("/_emulator/inbox?to=alice%40announce.test"))["messages"]!.AsArray()
            .First(m => m!["subject"]!.GetValue<string>() == "Ten minutes to go")!;
        Assert.Equal(XApi.Iso(T0.AddDays(1).AddHours(-1)), mail["sentAt"]!.GetValue<string>());

        await emu.AdvanceClockAsync(TimeSpan.FromDays(1).TotalSeconds);
        Assert.DoesNotContain("Never sent", await InboxSubjectsAsync("alice@announce.test"));
        Assert.Equal("cancelled", (await DeliveryAsync(cancelled["id"]!.GetValue<string>()))["status"]!.GetValue<string>());
        // Relative to the experience's close (T0+2d) minus an hour.
        var last = await DeliveryAsync(atClose["id"]!.GetValue<string>());
        Assert.Equal("sent", last["status"]!.GetValue<string>());
        Assert.Equal(XApi.Iso(T0.AddDays(2).AddHours(-1)), last["sentAt"]!.GetValue<string>());
    }

    [Fact]
    public async Task Moving_the_distribution_earlier_moves_a_relative_announcement_with_it()
    {
        var d = await DropWithWaitlistAsync();
        var sk = HttpClientExtensions.Sk(d.Org.SecretKey);
        var b = PointInTime(d, "EMAIL", T0, "Opening soon");
        b.Remove("scheduledAt");
        b["timingStrategy"] = "RELATIVE"; b["anchorEntity"] = "DISTRIBUTION"; b["anchorMoment"] = "OPEN"; b["offsetSeconds"] = -600;
        b["distributionId"] = d.AppointmentId; b["distributionType"] = "APPOINTMENT";
        var a = await CreateAsync(d, b);
        Assert.Equal(XApi.Iso(T0.AddDays(1).AddMinutes(-10)), (await DeliveryAsync(a["id"]!.GetValue<string>()))["dueAt"]!.GetValue<string>());

        (await emu.Admin.SendJsonAsync(HttpMethod.Put, $"/appointments/{d.AppointmentId}", new JsonObject { ["openAt"] = XApi.Iso(T0.AddHours(2)) }, sk)).EnsureStatus(200);
        Assert.Equal(XApi.Iso(T0.AddHours(2).AddMinutes(-10)), (await DeliveryAsync(a["id"]!.GetValue<string>()))["dueAt"]!.GetValue<string>());
        await emu.AdvanceClockAsync(2 * 3600);
        var mail = (await emu.Control.GetJsonAsync("/_emulator/inbox?to=alice%40announce.test"))["messages"]!.AsArray()
            .Single(m => m!["subject"]!.GetValue<string>() == "Opening soon")!;
        Assert.Equal(XApi.Iso(T0.AddHours(2).AddMinutes(-10)), mail["sentAt"]!.GetValue<string>());
    }

    [Fact]
    public async Task Social_types_are_recorded_as_sent_and_delivered_nowhere()
    {
        var d = await DropWithWaitlistAsync();
        var before = (await emu.Control.GetJsonAsync("/_emulator/inbox"))["messages"]!.AsArray().Count;
        var post = await CreateAsync(d, PointInTime(d, "INSTAGRAM", T0.AddMinutes(5), "Insta teaser"));
        await emu.AdvanceClockAsync(600);
        var delivery = await DeliveryAsync(post["id"]!.GetValue<string>());
        Assert.Equal("sent", delivery["status"]!.GetValue<string>());
        Assert.False(delivery["delivered"]!.GetValue<bool>());
        Assert.All(delivery["recipients"]!.AsArray(), r => Assert.Equal("recorded", r!["status"]!.GetValue<string>()));
        Assert.Equal(before, (await emu.Control.GetJsonAsync("/_emulator/inbox"))["messages"]!.AsArray().Count);

        // An announcement already due when it is created goes out at once; the control plane can also send one now.
        var late = await CreateAsync(d, PointInTime(d, "EMAIL", T0, "Already due"));
        Assert.Equal("sent", (await DeliveryAsync(late["id"]!.GetValue<string>()))["status"]!.GetValue<string>());
        var later = await CreateAsync(d, PointInTime(d, "EMAIL", T0.AddDays(30), "Sent by hand"));
        (await emu.Control.PostJsonAsync($"/_emulator/announcements/{later["id"]!.GetValue<string>()}/send")).EnsureStatus(200);
        Assert.Contains("Sent by hand", await InboxSubjectsAsync("bob@announce.test"));
        (await emu.Control.PostJsonAsync($"/_emulator/announcements/{later["id"]!.GetValue<string>()}/send")).AssertError(409, "Announcement already sent");
    }
}
