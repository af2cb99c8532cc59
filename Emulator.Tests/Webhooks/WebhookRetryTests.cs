using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Infrastructure;
using static Fanfare.Emulator.Tests.Infrastructure.HttpClientExtensions;

namespace Fanfare.Emulator.Tests.Webhooks;

/// <summary>The retry policy of behavior.md §7.3, played out by moving the emulator clock.</summary>
public sealed class WebhookRetryTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    private static readonly DateTimeOffset T0 = new(2031, 6, 1, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_receiver_failing_then_recovering_sees_the_schedule_play_out_on_the_clock()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await emu.FreezeClockAsync(T0);
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = n => n < 3 ? 500 : 200;
        var ep = await emu.CreateEndpointAsync(org.SecretKey, receiver.Url, ["*"]);
        var sent = await emu.SendTestAsync(org.SecretKey, ep["id"].S(), "queue.consumer.admitted");

        await emu.RunDueAsync();
        Assert.Single(receiver.Received);
        var d = await emu.DeliveryAsync(sent["deliveryId"].S());
        Assert.Equal("pending", d["status"].S());
        Assert.Equal(T0.AddMinutes(1), DateTimeOffset.Parse(d["nextAttemptAt"].S()));
        Assert.Equal("HTTP 500", d["lastError"].S());

        await emu.AdvanceClockAsync(59);
        Assert.Single(receiver.Received); // not due yet
        await emu.AdvanceClockAsync(1);
        Assert.Equal(2, receiver.Received.Count);

        await emu.AdvanceClockAsync(2 * 3600); // due on the way: +6 min (500) and +36 min (200)
        var got = receiver.Received;
        Assert.Equal(4, got.Count);
        Assert.Equal([0L, 60, 360, 2160], got.Select(r => r.Timestamp - T0.ToUnixTimeSeconds()));
        Assert.Equal(["0", "1", "2", "3"], got.Select(r => r.Header("X-Fanfare-Retry-Count")));
        Assert.Single(got.Select(r => r.Header("X-Fanfare-Delivery-Id")).Distinct());
        Assert.Single(got.Select(r => r.Body).Distinct());
        foreach (var r in got)
        {
            Assert.Equal(ep["id"].S(), r.Header("X-Fanfare-Webhook-Id"));
            Assert.Equal(T0, DateTimeOffset.Parse(r.Header("X-Fanfare-Original-Time")));
            Assert.True(DocsSignature.VerifyV1(org.WebhookSecret, r)); // re-signed with each attempt's timestamp
        }

        d = await emu.DeliveryAsync(sent["deliveryId"].S());
        Assert.Equal("delivered", d["status"].S());
        Assert.Null(d["nextAttemptAt"]);
        Assert.Equal([500, 500, 500, 200], d["attempts"]!.AsArray().Select(a => a!["response"]!["status"]!.GetValue<int>()));
        Assert.Equal(["failed", "failed", "failed", "succeeded"], d["attempts"]!.AsArray().Select(a => a!["outcome"].S()));
        Assert.Equal(0, (await emu.Admin.GetJsonAsync($"/webhooks/{ep["id"].S()}", Sk(org.SecretKey)))["consecutiveFailures"]!.GetValue<int>());
    }

    [Fact]
    public async Task Eight_failures_fail_the_delivery_and_emit_webhook_delivery_failed()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await emu.FreezeClockAsync(T0);
        await using var down = await WebhookReceiver.StartAsync();
        down.Respond = _ => 500;
        await using var ops = await WebhookReceiver.StartAsync();
        var failing = await emu.CreateEndpointAsync(org.SecretKey, down.Url, ["order.created"]);
        await emu.CreateEndpointAsync(org.SecretKey, ops.Url, ["webhook.delivery.failed"]);
        var sent = await emu.SendTestAsync(org.SecretKey, failing["id"].S(), "order.created");

        await emu.RunDueAsync();
        await emu.AdvanceClockAsync(2 * 3600);
        Assert.Equal(4, down.Received.Count); // exactly the attempts that fell due: 0, +1 min, +6 min, +36 min
        await emu.AdvanceClockAsync(2 * 3600);
        Assert.Equal(5, down.Received.Count); // +2 h 36 min
        await emu.AdvanceClockAsync(48 * 3600);

        var got = down.Received;
        Assert.Equal(8, got.Count);
        var gaps = got.Zip(got.Skip(1), (a, b) => b.Timestamp - a.Timestamp);
        Assert.Equal([60L, 300, 1800, 7200, 21600, 43200, 86400], gaps);
        Assert.Equal(Enumerable.Range(0, 8).Select(i => i.ToString()), got.Select(r => r.Header("X-Fanfare-Retry-Count")));

        var d = await emu.DeliveryAsync(sent["deliveryId"].S());
        Assert.Equal("failed", d["status"].S());
        Assert.Equal(8, d["attemptCount"]!.GetValue<int>());
        Assert.Null(d["nextAttemptAt"]);

        var notice = Assert.Single(ops.Received);
        Assert.Equal("webhook.delivery.failed", notice.Json["type"].S());
        Assert.True(DocsSignature.VerifyV1(org.WebhookSecret, notice));
        var data = notice.Json["data"]!;
        Assert.Equal(failing["id"].S(), data["endpointId"].S());
        Assert.Equal(down.Url, data["endpointUrl"].S());
        Assert.Equal(got[0].Json["id"].S(), data["eventId"].S());
        Assert.Equal("order.created", data["eventType"].S());
        Assert.Equal(8, data["retryCount"]!.GetValue<int>());
        Assert.Equal("HTTP 500", data["lastError"].S());
        Assert.False(data["willRetry"]!.GetValue<bool>());

        await emu.AdvanceClockAsync(7 * 24 * 3600);
        Assert.Equal(8, down.Received.Count); // nothing more
    }

    [Fact]
    public async Task Http_410_stops_retries_and_disables_the_endpoint()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await emu.FreezeClockAsync(T0);
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = _ => 410;
        var ep = await emu.CreateEndpointAsync(org.SecretKey, receiver.Url, ["*"]);
        var sent = await emu.SendTestAsync(org.SecretKey, ep["id"].S(), "draw.completed");
        await emu.RunDueAsync();
        await emu.AdvanceClockAsync(3 * 24 * 3600);

        Assert.Single(receiver.Received);
        var d = await emu.DeliveryAsync(sent["deliveryId"].S());
        Assert.Equal("failed", d["status"].S());
        Assert.Equal("gone", Assert.Single(d["attempts"]!.AsArray())!["outcome"].S());
        var endpoint = await emu.Admin.GetJsonAsync($"/webhooks/{ep["id"].S()}", Sk(org.SecretKey));
        Assert.False(endpoint["enabled"]!.GetValue<bool>());
        Assert.Equal("gone", endpoint["disabledReason"].S());

        var refused = await emu.Admin.PostJsonAsync("/webhooks/test", new JsonObject { ["endpointId"] = ep["id"].S(), ["eventType"] = "draw.completed" }, Sk(org.SecretKey));
        Assert.Equal(409, refused.Code);
        Assert.Equal("Webhook endpoint is disabled", refused["error"].S());
        await emu.GuestAsync(org.PublishableKey); // a real event: not delivered to a disabled endpoint
        await emu.RunDueAsync();
        Assert.Single(receiver.Received);

        (await emu.Admin.SendJsonAsync(HttpMethod.Patch, $"/webhooks/{ep["id"].S()}", new JsonObject { ["enabled"] = true }, Sk(org.SecretKey))).EnsureStatus(200);
        receiver.Respond = _ => 204;
        await emu.SendTestAsync(org.SecretKey, ep["id"].S(), "draw.completed");
        await emu.RunDueAsync();
        Assert.Equal(2, receiver.Received.Count);
    }

    [Fact]
    public async Task A_receiver_that_is_down_is_a_connection_error_and_retried()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await emu.FreezeClockAsync(T0);
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop(); // nothing listens there any more
        var ep = await emu.CreateEndpointAsync(org.SecretKey, $"http://127.0.0.1:{port}/hooks", ["*"]);
        var sent = await emu.SendTestAsync(org.SecretKey, ep["id"].S(), "consumer.updated");
        await emu.RunDueAsync();

        var d = await emu.DeliveryAsync(sent["deliveryId"].S());
        Assert.Equal("pending", d["status"].S());
        Assert.Equal("Connection refused", d["lastError"].S());
        var attempt = Assert.Single(d["attempts"]!.AsArray())!;
        Assert.Null(attempt["response"]);
        Assert.Equal(T0.AddMinutes(1), DateTimeOffset.Parse(d["nextAttemptAt"].S()));
    }

    [Fact]
    public async Task One_hundred_consecutive_failures_within_seven_days_disable_the_endpoint()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await emu.FreezeClockAsync(T0);
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = _ => 503;
        var ep = await emu.CreateEndpointAsync(org.SecretKey, receiver.Url, ["*"]);
        var id = ep["id"].S();

        for (int i = 0; i < 99; i++) await emu.SendTestAsync(org.SecretKey, id, "order.completed");
        await emu.RunDueAsync();
        var endpoint = await emu.Admin.GetJsonAsync($"/webhooks/{id}", Sk(org.SecretKey));
        Assert.True(endpoint["enabled"]!.GetValue<bool>());
        Assert.Equal(99, endpoint["consecutiveFailures"]!.GetValue<int>());

        await emu.SendTestAsync(org.SecretKey, id, "order.completed");
        await emu.RunDueAsync();
        endpoint = await emu.Admin.GetJsonAsync($"/webhooks/{id}", Sk(org.SecretKey));
        Assert.False(endpoint["enabled"]!.GetValue<bool>());
        Assert.Equal("consecutive_failures", endpoint["disabledReason"].S());
        Assert.Equal(100, receiver.Received.Count);

        // the retries that were pending stop with the endpoint
        Assert.Empty(await emu.DeliveriesAsync($"endpointId={id}&status=pending"));
        await emu.AdvanceClockAsync(3600);
        Assert.Equal(100, receiver.Received.Count);
    }
}
