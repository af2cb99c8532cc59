using System.Text.Json;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Infrastructure;
using static Fanfare.Emulator.Tests.Infrastructure.HttpClientExtensions;

namespace Fanfare.Emulator.Tests.Webhooks;

/// <summary>Deliveries to a real HTTP receiver on loopback: envelope, headers, signatures, every event type (behavior.md §7).</summary>
public sealed class WebhookDeliveryTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    /// <summary>behavior.md §7.4, copied by hand: each type's <c>data</c> fields; money fields must be decimal strings.</summary>
    private static readonly Dictionary<string, string[]> Catalogue = new()
    {
        ["queue.consumer.entered"] = ["queueId", "sequenceId", "experienceId", "consumerId", "position", "enteredAt"],
        ["queue.consumer.admitted"] = ["queueId", "sequenceId", "experienceId", "consumerId", "enteredAt", "admittedAt", "admissionToken", "waitTimeSeconds"],
        ["queue.consumer.completed"] = ["queueId", "sequenceId", "experienceId", "consumerId", "completedAt", "orderId"],
        ["queue.consumer.left"] = ["queueId", "sequenceId", "experienceId", "consumerId", "leftAt", "positionWhenLeft"],
        ["queue.consumer.denied"] = ["queueId", "sequenceId", "experienceId", "consumerId", "deniedAt", "reason"],
        ["draw.consumer.entered"] = ["drawId", "sequenceId", "experienceId", "consumerId", "enteredAt", "entrantNumber"],
        ["draw.consumer.won"] = ["drawId", "sequenceId", "experienceId", "consumerId", "wonAt", "admissionToken", "winnerPosition"],
        ["draw.consumer.lost"] = ["drawId", "sequenceId", "experienceId", "consumerId", "lostAt"],
        ["draw.completed"] = ["drawId", "sequenceId", "experienceId", "completedAt", "totalEntrants", "winnersSelected"],
        ["auction.bid.placed"] = ["auctionId", "sequenceId", "experienceId", "consumerId", "bidId", "bidAmount", "currencyCode", "bidTime", "isHighestBid"],
        ["auction.bid.outbid"] = ["auctionId", "sequenceId", "experienceId", "consumerId", "outbidAt", "previousBidAmount", "newHighBidAmount"],
        ["auction.consumer.won"] = ["auctionId", "sequenceId", "experienceId", "consumerId", "wonAt", "winningBidAmount", "currencyCode", "paymentToken"],
        ["auction.settled"] = ["auctionId", "sequenceId", "experienceId", "settledAt", "totalBids", "uniqueBidders", "winningBidAmount", "winnerId"],
        ["order.created"] = ["orderId", "consumerId", "experienceId", "sequenceId", "createdAt", "amount", "currencyCode", "items"],
        ["order.completed"] = ["orderId", "consumerId", "completedAt", "amount", "currencyCode"],
        ["order.cancelled"] = ["orderId", "consumerId", "cancelledAt", "reason"],
        ["consumer.created"] = ["consumerId", "email", "phone", "fullName", "createdAt", "source"],
        ["consumer.updated"] = ["consumerId", "updatedAt", "changedFields"],
        ["distribution.updated"] = ["distributionId", "distributionType", "sequenceId", "experienceId", "updatedAt", "changedFields"],
        ["distribution.opened"] = ["distributionId", "distributionType", "sequenceId", "experienceId", "openedAt"],
        ["distribution.closed"] = ["distributionId", "distributionType", "sequenceId", "experienceId", "closedAt", "totalParticipants"],
        ["webhook.delivery.failed"] = ["endpointId", "endpointUrl", "eventId", "eventType", "retryCount", "lastError", "willRetry"],
    };
    private static readonly string[] Money = ["bidAmount", "previousBidAmount", "newHighBidAmount", "winningBidAmount", "amount"];

    [Fact]
    public async Task Every_event_type_reaches_the_receiver_signed_with_the_documented_headers()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var t0 = await emu.FreezeClockAsync(new DateTimeOffset(2031, 11, 21, 9, 0, 0, TimeSpan.Zero));
        await using var receiver = await WebhookReceiver.StartAsync();
        var ep = await emu.CreateEndpointAsync(org.SecretKey, receiver.Url, ["*"]);

        foreach (var type in Catalogue.Keys) await emu.SendTestAsync(org.SecretKey, ep["id"].S(), type);
        // The API call only schedules; the first attempts are due now, so they run although the clock is frozen (the
        // background pump or this call, whichever comes first).
        await emu.RunDueAsync();

        var got = receiver.Received;
        Assert.Equal(Catalogue.Keys, got.Select(r => r.Json["type"].S()));
        foreach (var r in got)
        {
            var type = r.Json["type"].S();
            Assert.Equal("/hooks/fanfare", r.Path);
            Assert.Equal("application/json", r.Header("Content-Type"));
            Assert.Equal("Fanfare-Webhooks/1.0", r.Header("User-Agent"));
            Assert.Equal(type, r.Header("X-Fanfare-Event-Type"));
            Assert.StartsWith("whd_", r.Header("X-Fanfare-Delivery-Id"));
            Assert.Equal(t0.ToUnixTimeSeconds(), r.Timestamp); // the emulator clock, not the machine's
            Assert.Equal("0", r.Header("X-Fanfare-Retry-Count"));
            Assert.Equal(ep["id"].S(), r.Header("X-Fanfare-Webhook-Id"));
            Assert.True(DocsSignature.VerifyV1(org.WebhookSecret, r), $"bad v1 signature for {type}");

            var env = r.Json.AsObject();
            Assert.Equal(["id", "type", "timestamp", "organizationId", "data"], env.Select(p => p.Key));
            Assert.StartsWith("whk_", env["id"].S());
            Assert.Equal(org.Id, env["organizationId"].S());
            Assert.Equal(t0, DateTimeOffset.Parse(env["timestamp"].S()));
            var data = env["data"]!.AsObject();
            Assert.Equal(Catalogue[type].Order(), data.Select(p => p.Key).Order());
            foreach (var m in Money.Where(data.ContainsKey))
                Assert.Matches(@"^\d{1,12}(\.\d{1,8})?$", data[m]!.GetValue<string>());
        }
        Assert.Equal(Catalogue.Count, got.Select(r => r.Json["id"].S()).Distinct().Count());

        var log = await emu.DeliveriesAsync($"endpointId={ep["id"].S()}&status=delivered");
        Assert.Equal(Catalogue.Count, log.Count);
        var one = log.Single(d => d!["eventType"].S() == "order.created")!;
        Assert.Equal("test", one["source"].S());
        var attempt = one["attempts"]![0]!;
        Assert.Equal(200, attempt["response"]!["status"]!.GetValue<int>());
        Assert.Equal("OK", attempt["response"]!["body"].S());
        var sent = got.Single(r => r.Json["type"].S() == "order.created");
        Assert.Equal(sent.Body, attempt["request"]!["body"].S());
        Assert.Equal(sent.Header("X-Fanfare-Signature"), attempt["request"]!["headers"]!["X-Fanfare-Signature"].S());
        Assert.True(attempt["durationMs"]!.GetValue<double>() >= 0);
    }

    [Fact]
    public async Task Both_signature_schemes_verify_with_independent_code()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await emu.FreezeClockAsync();
        await using var v1 = await WebhookReceiver.StartAsync();
        await using var bodyHex = await WebhookReceiver.StartAsync();
        await using var vector = await WebhookReceiver.StartAsync();
        var a = await emu.CreateEndpointAsync(org.SecretKey, v1.Url, ["*"], new JsonObject { ["secret"] = "whsec_alpha" });
        var b = await emu.CreateEndpointAsync(org.SecretKey, bodyHex.Url, ["*"], new JsonObject { ["secret"] = "whsec_beta", ["signatureScheme"] = "body-hex" });
        var c = await emu.CreateEndpointAsync(org.SecretKey, vector.Url, ["*"], new JsonObject { ["secret"] = "whsec_test" });
        foreach (var ep in new[] { a, b, c }) await emu.SendTestAsync(org.SecretKey, ep["id"].S(), "queue.consumer.admitted");
        await emu.RunDueAsync();

        var ra = Assert.Single(v1.Received);
        Assert.Matches("^sha256=[0-9a-f]{64}$", ra.Header("X-Fanfare-Signature"));
        Assert.True(DocsSignature.VerifyV1("whsec_alpha", ra));
        Assert.False(DocsSignature.VerifyV1("whsec_other", ra));

        var rb = Assert.Single(bodyHex.Received);
        Assert.Matches("^[0-9a-f]{64}$", rb.Header("X-Fanfare-Signature"));
        Assert.True(DocsSignature.VerifyBodyHex("whsec_beta", rb));
        Assert.False(DocsSignature.VerifyV1("whsec_beta", rb));

        // the docs' recipe: secret whsec_test, signature = "sha256=" + hex(HMAC_SHA256("whsec_test", ts + "." + body))
        var rc = Assert.Single(vector.Received);
        Assert.Equal("sha256=" + DocsSignature.HmacHex("whsec_test", rc.Header("X-Fanfare-Timestamp") + "." + rc.Body), rc.Header("X-Fanfare-Signature"));
    }

    [Fact]
    public void The_signer_matches_the_docs_test_vector()
    {
        // Computed outside .NET: printf '%s' '1700000000.{"type":"test","data":{}}' | openssl dgst -sha256 -hmac whsec_test
        const string body = "{\"type\":\"test\",\"data\":{}}";
        Assert.Equal("sha256=bd00b263166a858ce4102bec733923a937ec4e8efbc40282faa308d004aa4e12",
            Fanfare.Emulator.Webhooks.WebhookSignature.Sign("v1", "whsec_test", 1700000000, body));
        Assert.Equal("4cf1f9161d218d4ad9e4c6a6a1277598737dea8a8670b14350df610511847423",
            Fanfare.Emulator.Webhooks.WebhookSignature.Sign("body-hex", "whsec_test", 1700000000, body));
    }

    [Fact]
    public async Task Events_recorded_by_other_engines_are_delivered_without_blocking_the_call()
    {
        // A private emulator whose background pump never ticks during the test: with the clock frozen the pump still
        // runs what is due at the frozen instant (a first attempt), so on the shared one it could deliver between the
        // guest's creation and the listing below (seen once in CI). Here only RunDueAsync delivers.
        await using var emu = await EmulatorServer.StartAsync(o => o.SchedulerIntervalMs = 3_600_000);
        var org = await emu.DemoOrgAsync();
        await emu.FreezeClockAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var ep = await emu.CreateEndpointAsync(org.SecretKey, receiver.Url, ["consumer.created"]);
        await using var other = await WebhookReceiver.StartAsync();
        await emu.CreateEndpointAsync(org.SecretKey, other.Url, ["order.created"]); // not subscribed: gets nothing

        var (consumerId, _, _) = await emu.GuestAsync(org.PublishableKey);
        Assert.Empty(receiver.Received);
        var pending = Assert.Single(await emu.DeliveriesAsync($"endpointId={ep["id"].S()}"))!;
        Assert.Equal("pending", pending["status"].S());
        Assert.Equal(0, pending["attemptCount"]!.GetValue<int>());

        await emu.RunDueAsync();
        var r = Assert.Single(receiver.Received);
        Assert.Equal("consumer.created", r.Json["type"].S());
        Assert.Equal(consumerId, r.Json["data"]!["consumerId"].S());
        Assert.Equal("guest", r.Json["data"]!["source"].S());
        Assert.True(DocsSignature.VerifyV1(org.WebhookSecret, r));
        Assert.Empty(other.Received);

        // the same event is listed by GET /webhooks/events with the envelope that was sent
        var events = (await emu.Admin.GetJsonAsync("/api/v1/webhooks/events?type=consumer.created", Sk(org.SecretKey)))["data"]!.AsArray();
        Assert.Equal(r.Json.ToJsonString(), events[^1]!.ToJsonString());
    }

    [Fact]
    public async Task The_background_pump_delivers_when_the_clock_runs()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var ep = await emu.CreateEndpointAsync(org.SecretKey, receiver.Url, ["*"]);
        var sent = await emu.SendTestAsync(org.SecretKey, ep["id"].S(), "draw.consumer.won");

        var waited = System.Diagnostics.Stopwatch.StartNew();
        JsonNode? delivery;
        do
        {
            delivery = await emu.DeliveryAsync(sent["deliveryId"].S());
            if (delivery["status"].S() != "pending") break;
            await Task.Delay(50);
        } while (waited.Elapsed < TimeSpan.FromSeconds(15));
        Assert.Equal("delivered", delivery["status"].S());
        Assert.Equal("draw.consumer.won", Assert.Single(receiver.Received).Json["type"].S());
    }

    [Fact]
    public async Task Replay_and_event_listing_resend_recorded_events_with_the_same_envelope()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var t0 = await emu.FreezeClockAsync(new DateTimeOffset(2031, 3, 1, 12, 0, 0, TimeSpan.Zero));
        await using var receiver = await WebhookReceiver.StartAsync();
        var ep = await emu.CreateEndpointAsync(org.SecretKey, receiver.Url, ["consumer.created"]);
        await emu.GuestAsync(org.PublishableKey);
        await emu.AdvanceClockAsync(600);
        await emu.GuestAsync(org.PublishableKey);
        await emu.RunDueAsync();
        Assert.Equal(2, receiver.Received.Count);
        var first = receiver.Received[0];

        var page1 = await emu.Admin.GetJsonAsync($"/webhooks/events?startTime={Uri.EscapeDataString(t0.AddSeconds(-1).ToString("O"))}&limit=1", Sk(org.SecretKey));
        Assert.Equal(first.Json["id"].S(), Assert.Single(page1["data"]!.AsArray())!["id"].S());
        var cursor = page1["pageInfo"]!["endCursor"].S();
        var page2 = await emu.Admin.GetJsonAsync($"/webhooks/events?startTime={Uri.EscapeDataString(t0.AddSeconds(-1).ToString("O"))}&limit=1&after={Uri.EscapeDataString(cursor)}", Sk(org.SecretKey));
        Assert.Equal(receiver.Received[1].Json["id"].S(), Assert.Single(page2["data"]!.AsArray())!["id"].S());
        Assert.Null(page2["pageInfo"]!["endCursor"]);

        receiver.Clear();
        var replay = (await emu.Admin.PostJsonAsync($"/api/v1/webhooks/{ep["id"].S()}/replay", new JsonObject
        {
            ["startTime"] = t0.AddSeconds(-1).ToString("O"), ["endTime"] = t0.AddSeconds(1).ToString("O"), ["eventTypes"] = new JsonArray("consumer.created"),
        }, Sk(org.SecretKey))).EnsureStatus(202);
        Assert.Equal(1, replay["eventCount"].GetValue<int>());
        await emu.RunDueAsync();
        var again = Assert.Single(receiver.Received);
        Assert.Equal(first.Body, again.Body); // same envelope, same dedupe id
        Assert.NotEqual(first.Header("X-Fanfare-Delivery-Id"), again.Header("X-Fanfare-Delivery-Id"));
        Assert.Equal("replay", (await emu.DeliveryAsync(again.Header("X-Fanfare-Delivery-Id")))["source"].S());

        var none = (await emu.Admin.PostJsonAsync($"/webhooks/{ep["id"].S()}/replay", new JsonObject
        {
            ["startTime"] = t0.AddSeconds(-1).ToString("O"), ["endTime"] = t0.AddSeconds(1).ToString("O"), ["eventTypes"] = new JsonArray("order.created"),
        }, Sk(org.SecretKey))).EnsureStatus(202);
        Assert.Equal(0, none["eventCount"].GetValue<int>());
    }

    [Fact]
    public async Task Control_plane_redelivers_filters_and_clears_the_log()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await emu.FreezeClockAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var ep = await emu.CreateEndpointAsync(org.SecretKey, receiver.Url, ["*"]);
        var d1 = await emu.SendTestAsync(org.SecretKey, ep["id"].S(), "order.created");
        await emu.SendTestAsync(org.SecretKey, ep["id"].S(), "order.cancelled");
        await emu.RunDueAsync();

        Assert.Equal(2, (await emu.DeliveriesAsync($"endpointId={ep["id"].S()}")).Count);
        Assert.Equal("order.cancelled", Assert.Single(await emu.DeliveriesAsync("type=order.cancelled"))!["eventType"].S());
        Assert.Empty(await emu.DeliveriesAsync("status=failed"));
        Assert.Equal(400, (await emu.Control.GetAsync("/_emulator/webhooks/deliveries?status=bogus", null)).Code);

        var re = (await emu.Control.PostJsonAsync($"/_emulator/webhooks/deliveries/{d1["deliveryId"].S()}/redeliver")).EnsureStatus(202);
        Assert.Equal(d1["deliveryId"].S(), re["redeliveryOf"].S());
        Assert.Equal("pending", re["status"].S());
        await emu.RunDueAsync();
        Assert.Equal(3, receiver.Received.Count);
        Assert.Equal(receiver.Received[0].Body, receiver.Received[2].Body);
        Assert.Equal(re["id"].S(), receiver.Received[2].Header("X-Fanfare-Delivery-Id"));
        Assert.Equal(404, (await emu.Control.PostJsonAsync("/_emulator/webhooks/deliveries/whd_nope/redeliver")).Code);

        (await emu.Control.SendJsonAsync(HttpMethod.Delete, "/_emulator/webhooks/deliveries", null)).EnsureStatus(204);
        Assert.Empty(await emu.DeliveriesAsync());
    }
}
