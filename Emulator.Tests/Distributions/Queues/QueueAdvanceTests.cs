using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Infrastructure;
using static Fanfare.Emulator.Tests.Infrastructure.HttpClientExtensions;

namespace Fanfare.Emulator.Tests.Distributions.Queues;

/// <summary>
/// One long clock advance over a queue longer than a scheduler batch (issue 15: admissions and grant expiries run in
/// batches of jobs per store transaction). The admit rate stays exact: consumer k (entry order) is admitted k seconds
/// after the queue started admitting, each grant lapses 300 s after its own grant, as one job per transaction did.
/// </summary>
public sealed class QueueAdvanceTests(BareEmulatorServer emu) : IClassFixture<BareEmulatorServer>
{
    [Fact]
    public async Task A_long_advance_admits_at_the_exact_rate_and_expires_each_grant_at_its_own_instant()
    {
        await emu.ResetAsync();
        var t0 = await emu.FreezeClockAsync(new DateTimeOffset(2030, 6, 1, 8, 0, 0, TimeSpan.Zero));
        var org = await emu.DemoOrgAsync();
        var sequenceId = emu.CreateSequence(org);
        var q = (await emu.Admin.PostJsonAsync("/queues", new JsonObject
        {
            ["sequenceId"] = sequenceId, ["name"] = "Long queue", ["admitRate"] = 60, ["admissionExpirationSeconds"] = 300,
        }, Sk(org.SecretKey))).EnsureStatus(200);
        var queueId = q["id"].GetValue<string>();
        const int n = 600; // 1,200 jobs: more than one batch (1024), grants crossing the boundary
        (await emu.Control.PostJsonAsync($"/_emulator/distributions/{queueId}/simulate", new JsonObject { ["consumers"] = n })).EnsureStatus(200);

        (await emu.Control.PostJsonAsync("/_emulator/clock/advance", new JsonObject { ["seconds"] = 3600 })).EnsureStatus(200);

        var participants = (await emu.Control.GetJsonAsync($"/_emulator/distributions/{queueId}/participants"))["participants"]!.AsArray();
        Assert.Equal(n, participants.Count);
        foreach (var p in participants)
        {
            var k = p!["entryPosition"]!.GetValue<int>();
            var grantedAt = t0.AddSeconds(k);
            Assert.Equal("NOT_QUEUED", p["status"]!.GetValue<string>());
            Assert.Equal(grantedAt, DateTimeOffset.Parse(p["grantedAt"]!.GetValue<string>()));
            Assert.Equal(grantedAt.AddSeconds(300), DateTimeOffset.Parse(p["expiresAt"]!.GetValue<string>()));
            Assert.Equal(grantedAt.AddSeconds(300), DateTimeOffset.Parse(p["expiredAt"]!.GetValue<string>()));
        }
        var clock = await emu.Control.GetJsonAsync("/_emulator/clock");
        Assert.Equal("frozen", clock["mode"]!.GetValue<string>());
        Assert.Equal(t0.AddSeconds(3600), DateTimeOffset.Parse(clock["now"]!.GetValue<string>()));
    }
}
