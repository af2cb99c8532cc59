using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Auth;
using Fanfare.Emulator.Tests.Distributions;
using Fanfare.Emulator.Tests.Infrastructure;
using Fanfare.Emulator.Tests.Webhooks;
using static Fanfare.Emulator.Tests.Infrastructure.HttpClientExtensions;

namespace Fanfare.Emulator.Tests.Clock;

/// <summary>
/// Issue 10 §1: frozen stops time, not work; every instant is whole milliseconds (a printed <c>expiresAt</c> is one the
/// clock can be set to); no <c>-0</c> offset; seeded ids do not depend on the clock; a draw without <c>closeAt</c>
/// closes at <c>drawAt</c>.
/// </summary>
public sealed class FrozenClockTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    private async Task<string> SeededQueueAsync(OrgKeys org) =>
        (await emu.Admin.GetJsonAsync("/queues", Sk(org.SecretKey)))["data"]!.AsArray()
            .First(q => q!["name"]!.GetValue<string>() == "Sneaker Drop queue")!["id"]!.GetValue<string>();

    [Fact]
    public async Task Frozen_clock_still_sends_the_immediate_first_webhook_attempt()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var frozen = await emu.FreezeClockAsync();
        var ep = await emu.CreateEndpointAsync(org.SecretKey, receiver.Url, ["queue.consumer.entered"]);
        var queueId = await SeededQueueAsync(org);
        var guest = await emu.GuestOfAsync(org);
        (await emu.Consumer.PostJsonAsync($"/queues/{queueId}/enter", null, guest.Headers)).EnsureStatus(200);

        // No clock move: the delivery was due at the frozen instant, so it is sent while frozen.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (receiver.Received.Count == 0 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Single(receiver.Received);
        Assert.Equal("queue.consumer.entered", receiver.Received[0].Json["type"]!.GetValue<string>());
        // The receiver answered; the emulator records the outcome right after (poll: no race with that write).
        var delivery = (await emu.DeliveriesAsync("endpointId=" + ep["id"].S()))[0]!;
        while (delivery["status"].S() == "pending" && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
            delivery = (await emu.DeliveriesAsync("endpointId=" + ep["id"].S()))[0]!;
        }
        Assert.Equal("delivered", delivery["status"].S());
        Assert.Equal(1, delivery["attemptCount"]!.GetValue<int>());

        var clock = await emu.Control.GetJsonAsync("/_emulator/clock");
        Assert.Equal("frozen", clock["mode"].S());
        Assert.Equal(frozen, DateTimeOffset.Parse(clock["now"].S()));
    }

    [Fact]
    public async Task Setting_the_clock_to_a_printed_expiresAt_expires_the_grant()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        // Freeze at the system time (sub-millisecond digits included), as a QA engineer does with {}.
        (await emu.Control.PostJsonAsync("/_emulator/clock/freeze", new JsonObject())).EnsureStatus(200);
        var seq = emu.CreateSequence(org);
        var queueId = (await emu.Admin.PostJsonAsync("/queues", new JsonObject
        {
            ["sequenceId"] = seq, ["name"] = "Launch", ["admitRate"] = 60, ["admissionExpirationSeconds"] = 300,
        }, Sk(org.SecretKey))).EnsureStatus(200)["id"].S();
        var guest = await emu.GuestOfAsync(org);
        (await emu.Consumer.PostJsonAsync($"/queues/{queueId}/enter", null, guest.Headers)).EnsureStatus(200);
        (await emu.Control.PostJsonAsync($"/_emulator/queues/{queueId}/admit", new JsonObject { ["count"] = 1 })).EnsureStatus(200);
        var status = (await emu.Consumer.GetAsync($"/queues/{queueId}/status", guest.Headers)).EnsureStatus(200);
        Assert.Equal("GRANTED", status["status"].S());
        var expiresAt = status["expiresAt"].S();
        var grant = status["admissionGrant"].S();

        var set = (await emu.Control.PostJsonAsync("/_emulator/clock/set", new JsonObject { ["now"] = expiresAt })).EnsureStatus(200);
        Assert.Equal(expiresAt, set["now"].S());
        var after = (await emu.Consumer.GetAsync($"/queues/{queueId}/status", guest.Headers)).EnsureStatus(200);
        Assert.NotEqual("GRANTED", after["status"].S());
        var validate = (await emu.Consumer.PostJsonAsync($"/queues/{queueId}/validate",
            new JsonObject { ["consumerId"] = guest.Id, ["token"] = grant }, Sk(org.SecretKey))).EnsureStatus(200);
        Assert.Equal("false", validate.Text.Trim());
    }

    [Trait("Category", "InProcess")]
    [Fact]
    public async Task Clock_instants_are_whole_milliseconds_in_every_mode()
    {
        await emu.ResetAsync();
        var ms = new System.Text.RegularExpressions.Regex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z$");
        Assert.Matches(ms, (await emu.Control.GetJsonAsync("/_emulator/clock"))["now"].S());
        var f = (await emu.Control.PostJsonAsync("/_emulator/clock/freeze", new JsonObject { ["at"] = "2030-01-01T00:00:00.1234567Z" })).EnsureStatus(200);
        Assert.Equal("2030-01-01T00:00:00.123Z", f["now"].S());
        var a = (await emu.Control.PostJsonAsync("/_emulator/clock/advance", new JsonObject { ["seconds"] = 0.0004 })).EnsureStatus(200);
        Assert.Equal("2030-01-01T00:00:00.123Z", a["now"].S());
        var s = (await emu.Control.PostJsonAsync("/_emulator/clock/set", new JsonObject { ["now"] = "2030-01-01T00:00:05.9999Z" })).EnsureStatus(200);
        Assert.Equal("2030-01-01T00:00:05.999Z", s["now"].S());
        var services = emu.Services.GetService(typeof(Fanfare.Emulator.Clock.EmulatorClock)) as Fanfare.Emulator.Clock.EmulatorClock;
        Assert.Equal(0, services!.GetUtcNow().Ticks % TimeSpan.TicksPerMillisecond);
        (await emu.Control.PostJsonAsync("/_emulator/clock/reset", null)).EnsureStatus(200);
        for (int i = 0; i < 20; i++) Assert.Equal(0, services.GetUtcNow().Ticks % TimeSpan.TicksPerMillisecond);
    }

    [Fact]
    public async Task Offset_seconds_is_never_minus_zero()
    {
        await emu.ResetAsync();
        for (int i = 0; i < 50; i++)
        {
            var r = (await emu.Control.GetAsync("/_emulator/clock", null)).EnsureStatus(200);
            Assert.DoesNotContain("\"offsetSeconds\":-0", r.Text);
        }
        var frozen = (await emu.Control.PostJsonAsync("/_emulator/clock/freeze", new JsonObject())).EnsureStatus(200);
        Assert.DoesNotContain("\"offsetSeconds\":-0,", frozen.Text.Replace("}", ",}"));
    }

    [Fact]
    public async Task Seeded_ids_do_not_depend_on_the_clock()
    {
        async Task<List<string>> SeededIdsAsync()
        {
            var org = await emu.DemoOrgAsync();
            var ids = new List<string>();
            foreach (var path in new[] { "/queues", "/draws", "/auctions", "/appointments", "/timed-releases", "/experiences", "/consumers" })
            {
                var page = await emu.Admin.GetAsync(path, Sk(org.SecretKey));
                if (page.Code != 200) continue;
                ids.AddRange(page["data"].AsArray().Select(x => path + " " + x!["id"]!.GetValue<string>()));
            }
            return ids.Order().ToList();
        }
        await emu.ResetAsync();
        var first = await SeededIdsAsync();
        Assert.Contains(first, id => id.StartsWith("/queues ", StringComparison.Ordinal));
        Assert.Contains(first, id => id.StartsWith("/draws ", StringComparison.Ordinal));
        await Task.Delay(20); // a different millisecond: time-ordered ids would differ
        await emu.ResetAsync();
        Assert.Equal(first, await SeededIdsAsync());

        // The README publishes the seeded distribution ids for frontends to hard-code.
        var readme = File.ReadAllText(Path.Combine(Packaging.DockerfileSpec.RepositoryRoot(), "README.md"));
        foreach (var id in first.Where(i => !i.StartsWith("/consumers", StringComparison.Ordinal) && !i.StartsWith("/experiences", StringComparison.Ordinal)))
            Assert.Contains(id.Split(' ')[1], readme);
    }

    [Fact]
    public async Task A_draw_without_closeAt_closes_at_drawAt()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var now = await emu.FreezeClockAsync(new DateTimeOffset(2030, 3, 1, 12, 0, 0, TimeSpan.Zero));
        var seq = emu.CreateSequence(org);
        var drawId = (await emu.Admin.PostJsonAsync("/draws", new JsonObject
        {
            ["sequenceId"] = seq, ["name"] = "No closeAt", ["drawAt"] = "2030-03-01T13:00:00Z", ["winnerCount"] = 1,
        }, Sk(org.SecretKey))).EnsureStatus(200)["id"].S();
        await emu.AdvanceClockAsync(3599);
        Assert.DoesNotContain(emu.Events("distribution.closed"), e => e.Data?["distributionId"]?.GetValue<string>() == drawId);
        await emu.AdvanceClockAsync(1);
        var closed = Assert.Single(emu.Events("distribution.closed"), e => e.Data?["distributionId"]?.GetValue<string>() == drawId);
        Assert.Equal("draw", closed.Data!["distributionType"]!.GetValue<string>());
        Assert.Equal(now.AddHours(1), DateTimeOffset.Parse(closed.Data["closedAt"]!.GetValue<string>()));
    }
}
