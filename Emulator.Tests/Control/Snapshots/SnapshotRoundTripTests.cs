using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Distributions;
using Fanfare.Emulator.Tests.Infrastructure;
using Fanfare.Emulator.Tests.Webhooks;
using static Fanfare.Emulator.Tests.Infrastructure.HttpClientExtensions;

namespace Fanfare.Emulator.Tests.Control.Snapshots;

/// <summary>
/// Issue 17 §4: <c>GET /_emulator/state</c> → <c>PUT /_emulator/state</c> → <c>GET</c> is byte-identical with the clocks
/// frozen, and a journey continued after an import behaves exactly as it does without the round trip (a queue with
/// pending admissions and a webhook delivery waiting for its retry).
/// </summary>
public sealed class SnapshotRoundTripTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    private static readonly DateTimeOffset T0 = new(2031, 6, 1, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Export_import_export_is_byte_identical_with_both_modes_and_a_sandbox()
    {
        await emu.ResetAsync();
        await emu.FreezeClockAsync(T0);
        var org = await emu.DemoOrgAsync();
        var (testGuest, _, _) = await emu.GuestAsync(org.PublishableKey);
        var (liveGuest, _, _) = await emu.GuestAsync(org.LivePublishableKey);
        var sandbox = await emu.CreateSandboxAsync("snapshot-roundtrip", T0.AddDays(3));
        var sandboxId = sandbox["id"]!.GetValue<string>();
        var (sandboxGuest, _, _) = await emu.GuestAsync(SnapshotKit.Keys(sandbox).PublishableKey);
        await emu.SandboxClockPostAsync(sandboxId, "advance", new JsonObject { ["seconds"] = 90 });
        await emu.RunDueAsync();

        var first = await emu.ExportAsync();
        var snapshot = JsonNode.Parse(first)!;
        Assert.Equal("fanfare-emulator-snapshot", snapshot["format"]!.GetValue<string>());
        Assert.Equal(1, snapshot["formatVersion"]!.GetValue<int>());
        Assert.Equal("emulator", snapshot["scope"]!.GetValue<string>());
        Assert.Equal("frozen", snapshot["clock"]!["mode"]!.GetValue<string>());
        Assert.Equal(T0, DateTimeOffset.Parse(snapshot["clock"]!["frozenAt"]!.GetValue<string>()));
        Assert.Equal("fanfare-emulator", snapshot["ids"]!["randomSeed"]!.GetValue<string>());
        var docs = snapshot["documents"]!;
        Assert.Contains(docs["test"]!["Consumer"]!.AsArray(), c => c!["id"]!.GetValue<string>() == testGuest);
        Assert.Contains(docs["test"]!["Consumer"]!.AsArray(), c => c!["id"]!.GetValue<string>() == sandboxGuest);
        Assert.Contains(docs["live"]!["Consumer"]!.AsArray(), c => c!["id"]!.GetValue<string>() == liveGuest);
        Assert.DoesNotContain(docs["test"]!["Consumer"]!.AsArray(), c => c!["id"]!.GetValue<string>() == liveGuest);
        var box = Assert.Single(docs["shared"]!["Sandbox"]!.AsArray())!;
        Assert.Equal("frozen", box["clock"]!["mode"]!.GetValue<string>());
        Assert.Equal(T0.AddDays(3).AddSeconds(90), DateTimeOffset.Parse(box["clock"]!["frozenAt"]!.GetValue<string>()));
        Assert.NotEmpty(docs["shared"]!["IdCounter"]!.AsArray());
        Assert.DoesNotContain("_seq", first);

        var imported = (await emu.ImportAsync(first)).EnsureStatus(200);
        Assert.Equal("emulator", imported["scope"].GetValue<string>());
        var second = await emu.ExportAsync();
        Assert.Equal(first, second);

        // and the state behind it works: the clocks are where they were, the guests' sessions still answer
        Assert.Equal(T0.AddDays(3).AddSeconds(90), DateTimeOffset.Parse((await emu.SandboxClockAsync(sandboxId))["now"]!.GetValue<string>()));
        Assert.Equal(T0, DateTimeOffset.Parse((await emu.Control.GetJsonAsync("/_emulator/clock"))["now"]!.GetValue<string>()));

        // a sandbox's own snapshot round-trips byte for byte too
        var sandboxOnly = await emu.ExportAsync(sandboxId);
        (await emu.ImportAsync(sandboxOnly)).EnsureStatus(200);
        Assert.Equal(sandboxOnly, await emu.ExportAsync(sandboxId));
        Assert.Equal(first, await emu.ExportAsync()); // the sandbox was the last one of each kind it has: same order
    }

    /// <summary>What a journey observed: every value the APIs and the webhook receiver showed, in order.</summary>
    private sealed record Observed(List<string> Lines)
    {
        public void Add(string what, JsonNode? value) => Lines.Add(what + " " + (value?.ToJsonString() ?? "null"));
    }

    [Fact]
    public async Task A_journey_continued_after_an_import_behaves_exactly_as_without_the_round_trip()
    {
        await emu.ResetAsync();
        await emu.FreezeClockAsync(T0);
        var org = await emu.DemoOrgAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var failing = true;
        receiver.Respond = _ => Volatile.Read(ref failing) ? 500 : 200;
        var endpoint = await emu.CreateEndpointAsync(org.SecretKey, receiver.Url, ["queue.consumer.entered", "queue.consumer.admitted"]);
        var sequenceId = emu.CreateSequence(org);
        var queue = (await emu.Admin.PostJsonAsync("/queues", new JsonObject
        {
            ["sequenceId"] = sequenceId, ["name"] = "Snapshot queue", ["admitRate"] = 1, ["admissionExpirationSeconds"] = 900,
        }, Sk(org.SecretKey))).EnsureStatus(200);
        var queueId = queue["id"].GetValue<string>();
        var guests = new List<Guest>();
        for (var i = 0; i < 3; i++)
        {
            var g = await emu.GuestOfAsync(org);
            (await emu.Consumer.PostJsonAsync($"/queues/{queueId}/enter", null, g.Headers)).EnsureStatus(200);
            guests.Add(g);
        }
        await emu.RunDueAsync();     // the first attempts: 500 → each delivery's retry is scheduled at T0 + 1 min
        await emu.AdvanceClockAsync(30);

        // the point of the snapshot: three consumers waiting for admission, three deliveries waiting for their retry
        foreach (var g in guests)
            Assert.Equal("QUEUED", (await emu.Consumer.GetJsonAsync($"/queues/{queueId}/status", g.Headers))["status"]!.GetValue<string>());
        var waiting = await emu.DeliveriesAsync();
        Assert.Equal(3, waiting.Count);
        Assert.All(waiting, d =>
        {
            Assert.Equal("pending", d!["status"]!.GetValue<string>());
            Assert.Equal(1, d["attemptCount"]!.GetValue<int>());
            Assert.Equal(T0.AddMinutes(1), DateTimeOffset.Parse(d["nextAttemptAt"]!.GetValue<string>()));
        });
        var snapshot = await emu.ExportAsync();
        Assert.Contains("\"queue.admit\"", snapshot);
        Assert.Contains("\"webhook.delivery\"", snapshot);

        Volatile.Write(ref failing, false);
        receiver.Clear();
        var first = await ContinueAsync(org, queueId, endpoint["id"]!.GetValue<string>(), guests, receiver);

        (await emu.ImportAsync(snapshot)).EnsureStatus(200);
        Assert.Equal(snapshot, await emu.ExportAsync()); // back at the same point
        receiver.Clear();
        var second = await ContinueAsync(org, queueId, endpoint["id"]!.GetValue<string>(), guests, receiver);

        // the continuation did something worth comparing …
        Assert.Contains(first.Lines, l => l.StartsWith("status 0 ", StringComparison.Ordinal) && l.Contains("\"GRANTED\""));
        Assert.Contains(first.Lines, l => l.StartsWith("status 3 ", StringComparison.Ordinal) && l.Contains("\"QUEUED\""));
        Assert.Contains(first.Lines, l => l.StartsWith("delivery ", StringComparison.Ordinal) && l.Contains("\"attemptCount\":2") && l.Contains("\"delivered\""));
        Assert.True(first.Lines.Count(l => l.StartsWith("received ", StringComparison.Ordinal)) >= 6, string.Join("\n", first.Lines));
        // … and it is the same, line for line: statuses, positions, grants, delivery ids, attempts, timestamps, new ids
        Assert.Equal(first.Lines, second.Lines);
    }

    /// <summary>The same steps after the snapshot point, recording everything observable.</summary>
    private async Task<Observed> ContinueAsync(OrgKeys org, string queueId, string endpointId, List<Guest> guests, WebhookReceiver receiver)
    {
        var seen = new Observed([]);
        await emu.AdvanceClockAsync(60);          // T0 + 90 s: the retries (due at + 60 s) succeed; the first admission
        var newcomer = await emu.GuestOfAsync(org);
        seen.Add("new consumer", newcomer.Id);
        seen.Add("enter", (await emu.Consumer.PostJsonAsync($"/queues/{queueId}/enter", null, newcomer.Headers)).EnsureStatus(200).Json);
        await emu.AdvanceClockAsync(100);         // two more admissions (T0 + 2 min, + 3 min); the newcomer still waits
        var test = (await emu.Admin.PostJsonAsync("/webhooks/test", new JsonObject { ["endpointId"] = endpointId, ["eventType"] = "queue.consumer.admitted" },
            Sk(org.SecretKey))).EnsureStatus(202).Json;
        seen.Add("test delivery", test);
        await emu.RunDueAsync();

        var all = guests.Append(newcomer).ToList();
        for (var i = 0; i < all.Count; i++)
            seen.Add($"status {i}", await emu.Consumer.GetJsonAsync($"/queues/{queueId}/status", all[i].Headers));
        foreach (var d in (await emu.DeliveriesAsync()).Reverse())
        {
            var copy = d!.DeepClone().AsObject();
            foreach (var a in copy["attempts"]!.AsArray())
            {
                a!.AsObject().Remove("durationMs");                 // real milliseconds
                a["response"]?.AsObject().Remove("headers");          // the receiver's Date header: real time
            }
            seen.Add("delivery", copy);
        }
        foreach (var r in receiver.Received)
            seen.Add("received", new JsonObject
            {
                ["deliveryId"] = r.Header("X-Fanfare-Delivery-Id"), ["timestamp"] = r.Header("X-Fanfare-Timestamp"),
                ["retryCount"] = r.Header("X-Fanfare-Retry-Count"), ["signature"] = r.Header("X-Fanfare-Signature"),
                ["answered"] = r.AnsweredWith, ["body"] = r.Body,
            });
        seen.Add("events", new JsonArray(emu.Events("queue.consumer.admitted").Select(e => (JsonNode)JsonValue.Create(e.Id + " " + e.Timestamp.ToString("O"))).ToArray()));
        return seen;
    }
}
