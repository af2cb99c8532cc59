using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Infrastructure;
using static Fanfare.Emulator.Tests.Infrastructure.HttpClientExtensions;

namespace Fanfare.Emulator.Tests.Distributions.Queues;

/// <summary>Admin CRUD of queues (admin-part4.md) and the QA helpers (admit N, simulate, participants).</summary>
public sealed class QueueAdminAndQaTests(BareEmulatorServer emu) : IClassFixture<BareEmulatorServer>
{
    [Fact]
    public async Task Create_get_list_update_delete_with_the_Queue_shape()
    {
        await emu.ResetAsync();
        await emu.FreezeClockAsync(new DateTimeOffset(2030, 1, 1, 9, 0, 0, TimeSpan.Zero));
        var org = await emu.DemoOrgAsync();
        var sk = Sk(org.SecretKey);
        var sequenceId = emu.CreateSequence(org);

        var created = (await emu.Admin.PostJsonAsync("/queues", new JsonObject
        {
            ["sequenceId"] = sequenceId, ["name"] = "Q1", ["admitRate"] = 100, ["capacity"] = 500, ["openAt"] = "2030-01-02T09:00:00Z",
        }, sk)).EnsureStatus(200).Json!.AsObject();
        foreach (var key in new[] { "id", "organizationId", "createdAt", "createdBy", "archived", "updatedAt", "updatedBy", "sequenceId", "name",
                     "timeZone", "admitRate", "supportsGuest", "admissionExpirationSeconds", "capacity", "maxAdmissions", "openAt", "closeAt",
                     "loyaltyBiasEnabled", "statusOverride", "statusOverrideAt", "statusOverrideBy", "teardownStatus" })
            Assert.True(created.ContainsKey(key), key);
        Assert.Equal(org.Id, created["organizationId"]!.GetValue<string>());
        Assert.Equal("2030-01-02T09:00:00.000Z", created["openAt"]!.GetValue<string>());
        Assert.Null(created["closeAt"]);
        Assert.Null(created["maxAdmissions"]);
        Assert.True(created["supportsGuest"]!.GetValue<bool>());
        Assert.Equal("UTC", created["timeZone"]!.GetValue<string>());
        var id = created["id"]!.GetValue<string>();

        for (int i = 2; i <= 3; i++)
            (await emu.Admin.PostJsonAsync("/queues", new JsonObject { ["sequenceId"] = sequenceId, ["name"] = "Q" + i, ["admitRate"] = 10 }, sk)).EnsureStatus(200);
        var page1 = await emu.Admin.GetJsonAsync("/queues?first=2", sk);
        Assert.Equal(["Q1", "Q2"], page1["data"]!.AsArray().Select(q => q!["name"]!.GetValue<string>()));
        var cursor = page1["pageInfo"]!["endCursor"]!.GetValue<string>();
        var page2 = await emu.Admin.GetJsonAsync($"/queues?first=2&after={Uri.EscapeDataString(cursor)}", sk);
        Assert.Equal(["Q3"], page2["data"]!.AsArray().Select(q => q!["name"]!.GetValue<string>()));
        Assert.Null(page2["pageInfo"]!["endCursor"]);

        var updated = (await emu.Admin.SendJsonAsync(HttpMethod.Put, $"/queues/{id}", new JsonObject
        {
            ["admitRate"] = 30, ["capacity"] = null, ["name"] = "Renamed",
        }, sk)).EnsureStatus(200);
        Assert.Equal(30, updated["admitRate"].GetValue<int>());
        Assert.Null(updated["capacity"]);
        Assert.Equal("api", updated["updatedBy"].GetValue<string>());
        var evt = Assert.Single(emu.Events("distribution.updated"));
        Assert.Equal(["name", "admitRate", "capacity"], evt.Data["changedFields"]!.AsArray().Select(f => f!.GetValue<string>()));
        Assert.Equal("Renamed", (await emu.Admin.GetJsonAsync($"/queues/{id}", sk))["name"]!.GetValue<string>());

        var deleted = (await emu.Admin.SendJsonAsync(HttpMethod.Delete, $"/queues/{id}", null, sk)).EnsureStatus(200);
        Assert.Equal(id, deleted["id"].GetValue<string>());
        var gone = await emu.Admin.GetAsync($"/queues/{id}", sk);
        Assert.Equal(404, gone.Code);
        Assert.Equal("Queue not found", gone["error"].GetValue<string>());
    }

    [Fact]
    public async Task Bad_bodies_are_validation_errors_and_keys_are_checked()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var sequenceId = emu.CreateSequence(org);
        var missing = await emu.Admin.PostJsonAsync("/queues", new JsonObject { ["sequenceId"] = sequenceId, ["name"] = "Q" }, Sk(org.SecretKey));
        Assert.Equal(400, missing.Code);
        Assert.Equal("validation_error", missing["error"].GetValue<string>());
        Assert.Contains(missing["issues"].AsArray(), i => i!["path"]![0]!["key"]!.GetValue<string>() == "admitRate");
        var zero = await emu.Admin.PostJsonAsync("/queues", new JsonObject { ["sequenceId"] = sequenceId, ["name"] = "Q", ["admitRate"] = 0 }, Sk(org.SecretKey));
        Assert.Equal(400, zero.Code);
        var window = await emu.Admin.PostJsonAsync("/queues", new JsonObject
        {
            ["sequenceId"] = sequenceId, ["name"] = "Q", ["admitRate"] = 5, ["openAt"] = "2030-01-02T00:00:00Z", ["closeAt"] = "2030-01-01T00:00:00Z",
        }, Sk(org.SecretKey));
        Assert.Equal(400, window.Code);
        var noSeq = await emu.Admin.PostJsonAsync("/queues", new JsonObject { ["sequenceId"] = "00000000-0000-4000-8000-999999999999", ["name"] = "Q", ["admitRate"] = 5 }, Sk(org.SecretKey));
        Assert.Equal(404, noSeq.Code);
        Assert.Equal(401, (await emu.Admin.GetAsync("/queues", Pk(org.PublishableKey))).Code);
        Assert.Equal(401, (await emu.Admin.GetAsync("/queues", null)).Code);
        Assert.Empty((await emu.Admin.GetJsonAsync("/queues", Sk(org.SecretKey)))["data"]!.AsArray());
    }

    [Fact]
    public async Task QA_admit_simulate_and_participants()
    {
        await emu.ResetAsync();
        await emu.FreezeClockAsync(new DateTimeOffset(2030, 1, 1, 9, 0, 0, TimeSpan.Zero));
        var org = await emu.DemoOrgAsync();
        var sequenceId = emu.CreateSequence(org);
        var queueId = (await emu.Admin.PostJsonAsync("/queues", new JsonObject
        {
            ["sequenceId"] = sequenceId, ["name"] = "Q", ["admitRate"] = 1, ["admissionExpirationSeconds"] = 600,
        }, Sk(org.SecretKey))).EnsureStatus(200)["id"].GetValue<string>();

        var sim = (await emu.Control.PostJsonAsync($"/_emulator/distributions/{queueId}/simulate", new JsonObject { ["consumers"] = 5 })).EnsureStatus(200);
        var ids = sim["consumerIds"].AsArray().Select(c => c!.GetValue<string>()).ToList();
        Assert.Equal(5, ids.Count);
        Assert.Equal("queue", sim["distributionType"].GetValue<string>());

        var admit = (await emu.Control.PostJsonAsync($"/_emulator/queues/{queueId}/admit", new JsonObject { ["count"] = 2 })).EnsureStatus(200);
        var admitted = admit["admitted"].AsArray();
        Assert.Equal(ids.Take(2), admitted.Select(a => a!["consumerId"]!.GetValue<string>()));
        Assert.Equal(3, admit["waiting"].GetValue<int>());
        Assert.Equal("2030-01-01T09:10:00.000Z", admitted[0]!["expiresAt"]!.GetValue<string>());

        var participants = (await emu.Control.GetJsonAsync($"/_emulator/distributions/{queueId}/participants"))["participants"]!.AsArray();
        Assert.Equal(ids, participants.Select(p => p!["consumerId"]!.GetValue<string>()));
        Assert.Equal(["GRANTED", "GRANTED", "QUEUED", "QUEUED", "QUEUED"], participants.Select(p => p!["status"]!.GetValue<string>()));
        Assert.Equal(1, participants[2]!["position"]!.GetValue<int>());
        Assert.Equal(3, participants[2]!["entryPosition"]!.GetValue<int>());

        // the rate still applies afterwards: one a minute
        await emu.AdvanceClockAsync(60);
        participants = (await emu.Control.GetJsonAsync($"/_emulator/distributions/{queueId}/participants"))["participants"]!.AsArray();
        Assert.Equal(3, participants.Count(p => p!["status"]!.GetValue<string>() == "GRANTED"));
        Assert.Equal(404, (await emu.Control.PostJsonAsync("/_emulator/queues/nope/admit", new JsonObject { ["count"] = 1 })).Code);
    }

    [Fact]
    public async Task Max_admissions_caps_automatic_admission()
    {
        await emu.ResetAsync();
        await emu.FreezeClockAsync(new DateTimeOffset(2030, 1, 1, 9, 0, 0, TimeSpan.Zero));
        var org = await emu.DemoOrgAsync();
        var queueId = (await emu.Admin.PostJsonAsync("/queues", new JsonObject
        {
            ["sequenceId"] = emu.CreateSequence(org), ["name"] = "Q", ["admitRate"] = 600, ["maxAdmissions"] = 3,
        }, Sk(org.SecretKey))).EnsureStatus(200)["id"].GetValue<string>();
        (await emu.Control.PostJsonAsync($"/_emulator/distributions/{queueId}/simulate", new JsonObject { ["consumers"] = 25 })).EnsureStatus(200);
        await emu.AdvanceClockAsync(1);
        var participants = (await emu.Control.GetJsonAsync($"/_emulator/distributions/{queueId}/participants"))["participants"]!.AsArray();
        Assert.Equal(3, participants.Count(p => p!["status"]!.GetValue<string>() == "GRANTED"));
        await emu.AdvanceClockAsync(60);
        participants = (await emu.Control.GetJsonAsync($"/_emulator/distributions/{queueId}/participants"))["participants"]!.AsArray();
        Assert.Equal(3, participants.Count(p => p!["status"]!.GetValue<string>() == "GRANTED"));
        Assert.Equal(1, participants[3]!["position"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_batch_rate_admits_what_fell_due_each_second()
    {
        await emu.ResetAsync();
        await emu.FreezeClockAsync(new DateTimeOffset(2030, 1, 1, 9, 0, 0, TimeSpan.Zero));
        var org = await emu.DemoOrgAsync();
        var queueId = (await emu.Admin.PostJsonAsync("/queues", new JsonObject
        {
            ["sequenceId"] = emu.CreateSequence(org), ["name"] = "Q", ["admitRate"] = 150,
        }, Sk(org.SecretKey))).EnsureStatus(200)["id"].GetValue<string>();
        (await emu.Control.PostJsonAsync($"/_emulator/distributions/{queueId}/simulate", new JsonObject { ["consumers"] = 20 })).EnsureStatus(200);
        async Task<int> Granted() => (await emu.Control.GetJsonAsync($"/_emulator/distributions/{queueId}/participants"))["participants"]!
            .AsArray().Count(p => p!["status"]!.GetValue<string>() == "GRANTED");
        await emu.AdvanceClockAsync(1);
        Assert.Equal(2, await Granted());   // 2.5 due
        await emu.AdvanceClockAsync(1);
        Assert.Equal(5, await Granted());   // 5.0 due
        await emu.AdvanceClockAsync(4);
        Assert.Equal(15, await Granted());  // 15.0 due
        Assert.Equal(15, emu.Events("queue.consumer.admitted").Count);
    }
}
