using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Infrastructure;
using static Fanfare.Emulator.Tests.Infrastructure.HttpClientExtensions;

namespace Fanfare.Emulator.Tests.Distributions.Queues;

/// <summary>Queue journeys over HTTP with the clock frozen and moved: enter → wait → admitted → validate → complete,
/// and the expiry, denial, leave, not-open, full and closed branches.</summary>
public sealed class QueueJourneyTests(BareEmulatorServer emu) : IClassFixture<BareEmulatorServer>
{
    private async Task<(OrgKeys Org, string SequenceId, string QueueId, DateTimeOffset Now)> SetupAsync(JsonObject? extra = null)
    {
        await emu.ResetAsync();
        var now = await emu.FreezeClockAsync(new DateTimeOffset(2030, 1, 1, 9, 0, 0, TimeSpan.Zero));
        var org = await emu.DemoOrgAsync();
        var sequenceId = emu.CreateSequence(org);
        var body = new JsonObject { ["sequenceId"] = sequenceId, ["name"] = "Launch queue", ["admitRate"] = 60, ["admissionExpirationSeconds"] = 300 };
        foreach (var (k, v) in extra ?? []) body[k] = v?.DeepClone();
        var q = (await emu.Admin.PostJsonAsync("/queues", body, Sk(org.SecretKey))).EnsureStatus(200);
        return (org, sequenceId, q["id"].GetValue<string>(), now);
    }

    private Task<ApiResponse> Enter(string queueId, Guest g, Dictionary<string, string>? headers = null) =>
        emu.Consumer.PostJsonAsync($"/queues/{queueId}/enter", null, headers ?? g.Headers);

    private async Task<JsonNode> Status(string queueId, Guest g) =>
        (await emu.Consumer.GetAsync($"/queues/{queueId}/status", g.Headers)).EnsureStatus(200).Json!;

    [Fact]
    public async Task Guests_queue_in_order_get_admitted_on_the_clock_validate_and_complete_once()
    {
        var (org, sequenceId, queueId, now) = await SetupAsync();
        var guests = new List<Guest>();
        for (int i = 0; i < 3; i++) guests.Add(await emu.GuestOfAsync(org));

        for (int i = 0; i < 3; i++)
        {
            var r = (await Enter(queueId, guests[i])).EnsureStatus(200);
            Assert.Equal("QUEUED", r["status"].GetValue<string>());
            Assert.Equal(i + 1, r["position"].GetValue<int>());
        }
        // re-entry returns the same participation
        Assert.Equal(2, (await Enter(queueId, guests[1])).EnsureStatus(200)["position"].GetValue<int>());

        var s3 = await Status(queueId, guests[2]);
        Assert.Equal("QUEUED", s3["status"]!.GetValue<string>());
        Assert.Equal(3, s3["position"]!.GetValue<int>());
        Assert.Equal(3, s3["estimatedWaitTimeInSeconds"]!.GetValue<int>()); // ceil(3 / 60 * 60)
        Assert.Equal("precise", s3["positionDisplayMode"]!.GetValue<string>());

        await emu.AdvanceClockAsync(1);
        var s1 = await Status(queueId, guests[0]);
        Assert.Equal("GRANTED", s1["status"]!.GetValue<string>());
        var token = s1["admissionGrant"]!.GetValue<string>();
        Assert.Equal(token, s1["admissionToken"]!.GetValue<string>());
        Assert.Equal(now.AddSeconds(301), DateTimeOffset.Parse(s1["expiresAt"]!.GetValue<string>()));
        var claims = DistributionTestKit.Claims(token);
        Assert.Equal(guests[0].Id, claims["consumerId"]!.GetValue<string>());
        Assert.Equal(queueId, claims["distributionId"]!.GetValue<string>());
        Assert.Equal("queue", claims["distributionType"]!.GetValue<string>());
        Assert.Equal(1, claims["position"]!.GetValue<int>());
        Assert.Equal(emu.ExperienceOf(sequenceId), claims["experienceId"]!.GetValue<string>());
        Assert.Equal(now.AddSeconds(1), DateTimeOffset.Parse(claims["admittedAt"]!.GetValue<string>()));
        Assert.NotNull(claims["expiresAt"]);

        // the others moved up
        Assert.Equal(1, (await Status(queueId, guests[1]))["position"]!.GetValue<int>());
        Assert.Equal(2, (await Status(queueId, guests[2]))["position"]!.GetValue<int>());

        var validate = new JsonObject { ["consumerId"] = guests[0].Id, ["token"] = token };
        Assert.True((await emu.Consumer.PostJsonAsync($"/queues/{queueId}/validate", validate, Sk(org.SecretKey))).EnsureStatus(200).Json!.GetValue<bool>());

        var complete = new JsonObject { ["consumerId"] = guests[0].Id, ["metadata"] = new JsonObject { ["orderId"] = "order_123" } };
        var done = (await emu.Consumer.PostJsonAsync($"/queues/{queueId}/complete", complete, Sk(org.SecretKey))).EnsureStatus(200);
        Assert.Equal("COMPLETED", done["status"].GetValue<string>());

        Assert.False((await emu.Consumer.PostJsonAsync($"/queues/{queueId}/validate", validate, Sk(org.SecretKey))).EnsureStatus(200).Json!.GetValue<bool>());
        var again = await emu.Consumer.PostJsonAsync($"/queues/{queueId}/complete", complete, Sk(org.SecretKey));
        Assert.Equal(409, again.Code);

        var after = await Status(queueId, guests[0]);
        Assert.Equal("COMPLETED", after["status"]!.GetValue<string>());
        Assert.NotNull(after["completedAt"]);
        // re-entry after completion returns the completed participation
        Assert.Equal("COMPLETED", (await Enter(queueId, guests[0])).EnsureStatus(200)["status"].GetValue<string>());

        Assert.Equal(3, emu.Events("queue.consumer.entered").Count);
        var admitted = Assert.Single(emu.Events("queue.consumer.admitted"));
        Assert.Equal(token, admitted.Data["admissionToken"]!.GetValue<string>());
        Assert.Equal(1L, admitted.Data["waitTimeSeconds"]!.GetValue<long>());
        var completed = Assert.Single(emu.Events("queue.consumer.completed"));
        Assert.Equal("order_123", completed.Data["orderId"]!.GetValue<string>());
        Assert.Equal(sequenceId, completed.Data["sequenceId"]!.GetValue<string>());

        // the rest are admitted one a second
        await emu.AdvanceClockAsync(2);
        Assert.Equal("GRANTED", (await Status(queueId, guests[1]))["status"]!.GetValue<string>());
        Assert.Equal("GRANTED", (await Status(queueId, guests[2]))["status"]!.GetValue<string>());
        Assert.Equal(3, emu.Events("queue.consumer.admitted").Count);
    }

    [Fact]
    public async Task An_expired_grant_validates_false_and_the_consumer_can_re_enter_at_the_back()
    {
        var (org, _, queueId, _) = await SetupAsync(new JsonObject { ["admitRate"] = 1, ["admissionExpirationSeconds"] = 30 });
        var g1 = await emu.GuestOfAsync(org);
        (await Enter(queueId, g1)).EnsureStatus(200);
        await emu.AdvanceClockAsync(60);
        var granted = await Status(queueId, g1);
        Assert.Equal("GRANTED", granted["status"]!.GetValue<string>());
        var token = granted["admissionGrant"]!.GetValue<string>();

        var g2 = await emu.GuestOfAsync(org);
        var g3 = await emu.GuestOfAsync(org);
        Assert.Equal(1, (await Enter(queueId, g2)).EnsureStatus(200)["position"].GetValue<int>());
        Assert.Equal(2, (await Enter(queueId, g3)).EnsureStatus(200)["position"].GetValue<int>());

        await emu.AdvanceClockAsync(31);
        var validate = new JsonObject { ["consumerId"] = g1.Id, ["token"] = token };
        Assert.False((await emu.Consumer.PostJsonAsync($"/queues/{queueId}/validate", validate, Sk(org.SecretKey))).EnsureStatus(200).Json!.GetValue<bool>());
        var expired = await Status(queueId, g1);
        Assert.Equal("NOT_QUEUED", expired["status"]!.GetValue<string>());
        Assert.NotNull(expired["dequeuedAt"]);
        Assert.Null(expired["admissionGrant"]);

        var back = (await Enter(queueId, g1)).EnsureStatus(200);
        Assert.Equal("QUEUED", back["status"].GetValue<string>());
        Assert.Equal(3, back["position"].GetValue<int>());
        Assert.Equal(410, (await emu.Consumer.PostJsonAsync($"/queues/{queueId}/complete", new JsonObject { ["consumerId"] = g1.Id }, Sk(org.SecretKey))).Code);
    }

    [Fact]
    public async Task Denying_a_consumer_records_the_reason_and_the_event()
    {
        var (org, _, queueId, _) = await SetupAsync();
        var g1 = await emu.GuestOfAsync(org);
        var g2 = await emu.GuestOfAsync(org);
        (await Enter(queueId, g1)).EnsureStatus(200);
        (await Enter(queueId, g2)).EnsureStatus(200);

        var bad = await emu.Consumer.PostJsonAsync($"/queues/{queueId}/deny", new JsonObject { ["consumerId"] = g1.Id, ["reason"] = "NOPE" }, Sk(org.SecretKey));
        Assert.Equal(400, bad.Code);
        Assert.Equal("validation_error", bad["error"].GetValue<string>());
        var pk = await emu.Consumer.PostJsonAsync($"/queues/{queueId}/deny", new JsonObject { ["consumerId"] = g1.Id, ["reason"] = "BOT_DETECTED" }, Pk(org.PublishableKey));
        Assert.Equal(401, pk.Code);

        var denied = (await emu.Consumer.PostJsonAsync($"/queues/{queueId}/deny",
            new JsonObject { ["consumerId"] = g1.Id, ["reason"] = "BOT_DETECTED" }, Sk(org.SecretKey))).EnsureStatus(200);
        Assert.Equal("DENIED", denied["status"].GetValue<string>());
        Assert.Equal("BOT_DETECTED", denied["reason"].GetValue<string>());

        var status = await Status(queueId, g1);
        Assert.Equal("DENIED", status["status"]!.GetValue<string>());
        Assert.Equal("BOT_DETECTED", status["reason"]!.GetValue<string>());
        Assert.Equal(1, (await Status(queueId, g2))["position"]!.GetValue<int>());
        Assert.Equal("DENIED", (await Enter(queueId, g1)).EnsureStatus(200)["status"].GetValue<string>());

        var evt = Assert.Single(emu.Events("queue.consumer.denied"));
        Assert.Equal(g1.Id, evt.Data["consumerId"]!.GetValue<string>());
        Assert.Equal("BOT_DETECTED", evt.Data["reason"]!.GetValue<string>());
        Assert.Equal(queueId, evt.Data["queueId"]!.GetValue<string>());
        Assert.NotNull(evt.Data["deniedAt"]);

        // a granted consumer denied loses the grant
        await emu.AdvanceClockAsync(1);
        var token = (await Status(queueId, g2))["admissionGrant"]!.GetValue<string>();
        (await emu.Consumer.PostJsonAsync($"/queues/{queueId}/deny", new JsonObject { ["consumerId"] = g2.Id, ["reason"] = "ORDER_LIMIT_EXCEEDED" }, Sk(org.SecretKey))).EnsureStatus(200);
        Assert.False((await emu.Consumer.PostJsonAsync($"/queues/{queueId}/validate", new JsonObject { ["consumerId"] = g2.Id, ["token"] = token }, Sk(org.SecretKey))).Json!.GetValue<bool>());
    }

    [Fact]
    public async Task Before_openAt_entry_is_423_with_an_ISO_Retry_After()
    {
        var (org, _, queueId, now) = await SetupAsync(new JsonObject { ["openAt"] = "2030-01-01T09:10:00Z" });
        var g = await emu.GuestOfAsync(org);
        var r = await Enter(queueId, g);
        Assert.Equal(423, r.Code);
        Assert.Equal("Queue is not open yet", r["error"].GetValue<string>());
        Assert.Equal("2030-01-01T09:10:00Z", r.Headers.GetValues("Retry-After").Single());
        Assert.Equal("NOT_QUEUED", (await Status(queueId, g))["status"]!.GetValue<string>());

        await emu.AdvanceClockAsync(600);
        Assert.Equal(1, (await Enter(queueId, g)).EnsureStatus(200)["position"].GetValue<int>());
        Assert.Single(emu.Events("distribution.opened"));
    }

    [Fact]
    public async Task A_full_queue_answers_429_with_Retry_After_30()
    {
        var (org, _, queueId, _) = await SetupAsync(new JsonObject { ["capacity"] = 2 });
        (await Enter(queueId, await emu.GuestOfAsync(org))).EnsureStatus(200);
        (await Enter(queueId, await emu.GuestOfAsync(org))).EnsureStatus(200);
        var third = await emu.GuestOfAsync(org);
        var r = await Enter(queueId, third);
        Assert.Equal(429, r.Code);
        Assert.Equal("Queue is full", r["error"].GetValue<string>());
        Assert.Equal("30", r.Headers.GetValues("Retry-After").Single());
        // one admitted → room again
        await emu.AdvanceClockAsync(1);
        Assert.Equal(2, (await Enter(queueId, third)).EnsureStatus(200)["position"].GetValue<int>());
    }

    [Fact]
    public async Task Leaving_frees_the_position_and_a_second_leave_is_404()
    {
        var (org, _, queueId, _) = await SetupAsync();
        var g1 = await emu.GuestOfAsync(org);
        var g2 = await emu.GuestOfAsync(org);
        (await Enter(queueId, g1)).EnsureStatus(200);
        (await Enter(queueId, g2)).EnsureStatus(200);

        var left = (await emu.Consumer.PostJsonAsync($"/queues/{queueId}/leave", null, g1.Headers)).EnsureStatus(200);
        Assert.Equal("LEFT", left["status"].GetValue<string>());
        Assert.NotNull(left["dequeuedAt"]);
        Assert.Equal(1, (await Status(queueId, g2))["position"]!.GetValue<int>());
        var evt = Assert.Single(emu.Events("queue.consumer.left"));
        Assert.Equal(1, evt.Data["positionWhenLeft"]!.GetValue<int>());

        var again = await emu.Consumer.PostJsonAsync($"/queues/{queueId}/leave", null, g1.Headers);
        Assert.Equal(404, again.Code);
        Assert.Equal("Consumer not in queue", again["error"].GetValue<string>());
        Assert.Equal("LEFT", (await Status(queueId, g1))["status"]!.GetValue<string>());
        Assert.Equal(2, (await Enter(queueId, g1)).EnsureStatus(200)["position"].GetValue<int>());
    }

    [Fact]
    public async Task Validating_from_another_device_is_403_FP002()
    {
        var (org, _, queueId, _) = await SetupAsync();
        var g = await emu.GuestOfAsync(org);
        (await Enter(queueId, g, g.Headers.With("X-Fingerprint", "fp_device_a"))).EnsureStatus(200);
        var admitted = (await emu.Consumer.PostJsonAsync($"/queues/{queueId}/admit", new JsonObject { ["consumerId"] = g.Id }, Sk(org.SecretKey))).EnsureStatus(200);
        Assert.Equal("GRANTED", admitted["status"].GetValue<string>());
        var token = admitted["admissionGrant"].GetValue<string>();

        var body = new JsonObject { ["consumerId"] = g.Id, ["token"] = token };
        var mismatch = await emu.Consumer.PostJsonAsync($"/queues/{queueId}/validate", body, Sk(org.SecretKey).With("X-Fingerprint", "fp_device_b"));
        Assert.Equal(403, mismatch.Code);
        Assert.Equal("FP002", mismatch["code"].GetValue<string>());
        Assert.Equal("DEVICE_MISMATCH", mismatch["error"].GetValue<string>());
        Assert.Equal("true", mismatch.Headers.GetValues("X-Fingerprint-Mismatch").Single());
        var same = await emu.Consumer.PostJsonAsync($"/queues/{queueId}/validate", body, Sk(org.SecretKey).With("X-Fingerprint", "fp_device_a"));
        Assert.True(same.EnsureStatus(200).Json!.GetValue<bool>());
    }

    [Fact]
    public async Task Api_prefixes_authentication_and_organization_isolation()
    {
        var (org, _, queueId, _) = await SetupAsync();
        var other = (await emu.OrganizationsAsync())[1];
        var g = await emu.GuestOfAsync(org);

        Assert.Equal("QUEUED", (await emu.Consumer.PostJsonAsync($"/api/v1/queues/{queueId}/enter", null, g.Headers)).EnsureStatus(200)["status"].GetValue<string>());
        Assert.Equal(1, (await emu.Consumer.GetAsync($"/api/queues/{queueId}/status", g.Headers)).EnsureStatus(200)["position"].GetValue<int>());
        var details = (await emu.Consumer.GetAsync($"/api/v1/queues/{queueId}", Pk(org.PublishableKey))).EnsureStatus(200);
        Assert.Equal("Launch queue", details["name"].GetValue<string>());
        Assert.Equal(60, details["admitRate"].GetValue<int>());
        Assert.True(details["supportsGuest"].GetValue<bool>());

        var anonymous = await emu.Consumer.PostJsonAsync($"/queues/{queueId}/enter", null, Pk(org.PublishableKey));
        Assert.Equal(401, anonymous.Code);
        Assert.Equal("Authentication required", anonymous["error"].GetValue<string>());
        Assert.Equal(401, (await emu.Consumer.GetAsync($"/queues/{queueId}", null)).Code);

        var foreign = await emu.Admin.GetAsync($"/queues/{queueId}", Sk(other.SecretKey));
        Assert.Equal(404, foreign.Code);
        Assert.Equal("Queue not found", foreign["error"].GetValue<string>());
        Assert.Equal(404, (await emu.Consumer.GetAsync($"/queues/{queueId}", Pk(other.PublishableKey))).Code);
        var otherGuest = await emu.GuestOfAsync(other);
        Assert.Equal(404, (await Enter(queueId, otherGuest)).Code);
        Assert.Empty((await emu.Admin.GetJsonAsync("/queues", Sk(other.SecretKey)))["data"]!.AsArray());
        Assert.Equal(404, (await emu.Consumer.PostJsonAsync($"/queues/{queueId}/validate", new JsonObject { ["consumerId"] = g.Id, ["token"] = "x" }, Sk(other.SecretKey))).Code);
    }

    [Fact]
    public async Task Two_hundred_parallel_entries_get_positions_1_to_200()
    {
        var (org, _, queueId, _) = await SetupAsync();
        var guests = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => emu.GuestOfAsync(org)));
        var results = await Task.WhenAll(guests.Select(g => Enter(queueId, g)));
        var positions = results.Select(r => r.EnsureStatus(200)["position"].GetValue<int>()).OrderBy(p => p).ToList();
        Assert.Equal(Enumerable.Range(1, 200), positions);
        var statuses = await Task.WhenAll(guests.Select(g => Status(queueId, g)));
        Assert.Equal(Enumerable.Range(1, 200), statuses.Select(s => s["position"]!.GetValue<int>()).OrderBy(p => p));
        Assert.Equal(200, emu.Events("queue.consumer.entered").Count);
    }

    [Fact]
    public async Task At_closeAt_waiting_consumers_are_denied_and_late_entries_are_denied_QUEUE_CLOSED()
    {
        var (org, _, queueId, _) = await SetupAsync(new JsonObject { ["admitRate"] = 1, ["closeAt"] = "2030-01-01T09:01:30Z" });
        var g1 = await emu.GuestOfAsync(org);
        var g2 = await emu.GuestOfAsync(org);
        (await Enter(queueId, g1)).EnsureStatus(200);
        (await Enter(queueId, g2)).EnsureStatus(200);
        await emu.AdvanceClockAsync(60);
        Assert.Equal("GRANTED", (await Status(queueId, g1))["status"]!.GetValue<string>());
        await emu.AdvanceClockAsync(60);
        var s2 = await Status(queueId, g2);
        Assert.Equal("DENIED", s2["status"]!.GetValue<string>());
        Assert.Equal("QUEUE_CLOSED", s2["reason"]!.GetValue<string>());
        Assert.Equal("GRANTED", (await Status(queueId, g1))["status"]!.GetValue<string>()); // may still finish
        var late = (await Enter(queueId, await emu.GuestOfAsync(org))).EnsureStatus(200);
        Assert.Equal("DENIED", late["status"].GetValue<string>());
        Assert.Equal("QUEUE_CLOSED", late["reason"].GetValue<string>());
        Assert.Single(emu.Events("distribution.closed"));

        var put = await emu.Admin.SendJsonAsync(HttpMethod.Put, $"/queues/{queueId}", new JsonObject { ["name"] = "x" }, Sk(org.SecretKey));
        Assert.Equal(409, put.Code);
        Assert.Equal("Cannot update closed distribution", put["error"].GetValue<string>());
    }

    [Fact]
    public async Task A_queue_without_guest_support_refuses_guests_but_admits_signed_in_consumers()
    {
        var (org, _, queueId, _) = await SetupAsync(new JsonObject { ["supportsGuest"] = false });
        var g = await emu.GuestOfAsync(org);
        var r = await Enter(queueId, g);
        Assert.Equal(403, r.Code);
        Assert.Equal("Guest access not allowed", r["error"].GetValue<string>());
        var session = await emu.SignInByEmailAsync(org.PublishableKey, "demo@fanfare.test");
        var headers = Pk(org.PublishableKey, session["accessToken"]!.GetValue<string>());
        Assert.Equal("QUEUED", (await emu.Consumer.PostJsonAsync($"/queues/{queueId}/enter", null, headers)).EnsureStatus(200)["status"].GetValue<string>());
    }

    [Fact]
    public async Task Loyalty_bias_shows_qualitative_positions()
    {
        var (org, _, queueId, _) = await SetupAsync(new JsonObject { ["loyaltyBiasEnabled"] = true, ["admitRate"] = 2 });
        var g = await emu.GuestOfAsync(org);
        var r = (await Enter(queueId, g)).EnsureStatus(200);
        Assert.Equal("qualitative", r["positionDisplayMode"].GetValue<string>());
        Assert.Equal(30, r["estimatedWaitTimeInSeconds"].GetValue<int>());
    }
}
