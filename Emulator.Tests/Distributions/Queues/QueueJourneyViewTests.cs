using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Fanfare.Emulator.Distributions;
using Fanfare.Emulator.Tests.Infrastructure;
using static Fanfare.Emulator.Tests.Infrastructure.HttpClientExtensions;

namespace Fanfare.Emulator.Tests.Distributions.Queues;

/// <summary>The journey view the queue and timed release engines give <c>/consumers/me</c> (served by another feature),
/// driven over HTTP and read through the distribution registry.</summary>
public sealed class QueueJourneyViewTests(BareEmulatorServer emu) : IClassFixture<BareEmulatorServer>
{
    private Participation View(string orgId, string id, string consumerId)
    {
        var hit = emu.Services.GetRequiredService<DistributionRegistry>().Find(orgId, id)!.Value;
        return hit.Engine.View(hit.Distribution, consumerId);
    }

    [Trait("Category", "InProcess")]
    [Fact]
    public async Task Queue_phases_follow_the_participation()
    {
        await emu.ResetAsync();
        await emu.FreezeClockAsync(new DateTimeOffset(2030, 1, 1, 9, 0, 0, TimeSpan.Zero));
        var org = await emu.DemoOrgAsync();
        var queueId = (await emu.Admin.PostJsonAsync("/queues", new JsonObject
        {
            ["sequenceId"] = emu.CreateSequence(org), ["name"] = "Q", ["admitRate"] = 60, ["openAt"] = "2030-01-01T09:00:10Z",
        }, Sk(org.SecretKey))).EnsureStatus(200)["id"].GetValue<string>();
        var g = await emu.GuestOfAsync(org);

        var v = View(org.Id, queueId, g.Id);
        Assert.Equal("scheduled", v.Phase);
        Assert.Null(v.Consumer);

        await emu.AdvanceClockAsync(10);
        v = View(org.Id, queueId, g.Id);
        Assert.Equal("enterable", v.Phase);
        Assert.Equal("not_queued", v.Consumer!["status"]!.GetValue<string>());

        (await emu.Consumer.PostJsonAsync($"/queues/{queueId}/enter", null, g.Headers)).EnsureStatus(200);
        v = View(org.Id, queueId, g.Id);
        Assert.Equal("participating", v.Phase);
        Assert.Equal("queued", v.Consumer!["status"]!.GetValue<string>());
        Assert.Equal(1, v.Consumer["position"]!.GetValue<int>());

        await emu.AdvanceClockAsync(1);
        v = View(org.Id, queueId, g.Id);
        Assert.Equal("granted", v.Phase);
        Assert.Equal("granted", v.Consumer!["status"]!.GetValue<string>());
        Assert.Equal(v.Consumer["admissionGrant"]!.GetValue<string>(), v.Grant!["token"]!.GetValue<string>());
        Assert.Equal("queue", v.Grant["distributionType"]!.GetValue<string>());

        (await emu.Consumer.PostJsonAsync($"/queues/{queueId}/complete", new JsonObject { ["consumerId"] = g.Id }, Sk(org.SecretKey))).EnsureStatus(200);
        v = View(org.Id, queueId, g.Id);
        Assert.Equal("ended", v.Phase);
        Assert.Equal("completed", v.Outcome!["type"]!.GetValue<string>());
        Assert.Equal("completed", v.Consumer!["status"]!.GetValue<string>());
    }

    [Trait("Category", "InProcess")]
    [Fact]
    public async Task Timed_release_phases_follow_the_participation()
    {
        await emu.ResetAsync();
        await emu.FreezeClockAsync(new DateTimeOffset(2030, 1, 1, 9, 0, 0, TimeSpan.Zero));
        var org = await emu.DemoOrgAsync();
        var id = (await emu.Admin.PostJsonAsync("/timed-releases", new JsonObject
        {
            ["sequenceId"] = emu.CreateSequence(org), ["name"] = "T", ["openAt"] = "2030-01-01T09:00:10Z", ["closeAt"] = "2030-01-01T09:30:00Z",
        }, Sk(org.SecretKey))).EnsureStatus(200)["id"].GetValue<string>();
        var g = await emu.GuestOfAsync(org);
        Assert.Equal("scheduled", View(org.Id, id, g.Id).Phase);
        await emu.AdvanceClockAsync(10);
        Assert.Equal("not_entered", View(org.Id, id, g.Id).Consumer!["status"]!.GetValue<string>());
        (await emu.Consumer.PostJsonAsync($"/timed-releases/{id}/enter", null, g.Headers)).EnsureStatus(200);
        var v = View(org.Id, id, g.Id);
        Assert.Equal("granted", v.Phase);
        Assert.Equal("timed_release", v.Grant!["distributionType"]!.GetValue<string>());
        await emu.AdvanceClockAsync(1800);
        v = View(org.Id, id, g.Id);
        Assert.Equal("ended", v.Phase);
        Assert.Equal("closed", v.Outcome!["type"]!.GetValue<string>());
    }
}
