using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Infrastructure;
using static Fanfare.Emulator.Tests.Infrastructure.HttpClientExtensions;

namespace Fanfare.Emulator.Tests.Distributions.Draws;

/// <summary>Admin <c>/draws</c> CRUD (admin-part2.md) with pagination and errors.</summary>
public sealed class DrawAdminTests(BareEmulatorServer emu) : IClassFixture<BareEmulatorServer>
{
    [Fact]
    public async Task Create_get_list_update_delete()
    {
        var org = await DaKit.SetUpAsync(emu);
        var sk = Sk(org.SecretKey);
        var created = (await emu.Admin.PostJsonAsync("/draws", new JsonObject
        {
            ["sequenceId"] = DaKit.SequenceId, ["name"] = "Launch draw", ["drawAt"] = "2031-03-02T12:00:00Z", ["winnerCount"] = 50,
            ["admissionExpirationSeconds"] = 900, ["continueSelectingUntilCompleted"] = true,
        }, sk)).EnsureStatus(200);
        var d = created.Json!.AsObject();
        var id = d["id"]!.GetValue<string>();
        Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", id);
        Assert.Equal(org.Id, d["organizationId"]!.GetValue<string>());
        Assert.Equal(DaKit.SequenceId, d["sequenceId"]!.GetValue<string>());
        Assert.Equal("2031-03-02T12:00:00.000Z", d["drawAt"]!.GetValue<string>());
        Assert.Equal(50, d["winnerCount"]!.GetValue<int>());
        Assert.True(d["supportsGuest"]!.GetValue<bool>());
        Assert.False(d["archived"]!.GetValue<bool>());
        Assert.Equal("America/New_York", d["timeZone"]!.GetValue<string>());
        Assert.Equal(DaKit.Iso(DaKit.T0), d["createdAt"]!.GetValue<string>());
        Assert.True(d.ContainsKey("capacity") && d["capacity"] is null);
        Assert.True(d.ContainsKey("statusOverride") && d["statusOverride"] is null);

        var got = (await emu.Admin.GetAsync($"/draws/{id}", sk)).EnsureStatus(200);
        Assert.Equal(created.Text, got.Text);

        for (int i = 0; i < 2; i++)
            (await emu.Admin.PostJsonAsync("/draws", new JsonObject
            {
                ["sequenceId"] = DaKit.SequenceId, ["name"] = $"Draw {i}", ["drawAt"] = "2031-03-02T12:00:00Z", ["winnerCount"] = 1,
            }, sk)).EnsureStatus(200);
        var page1 = (await emu.Admin.GetAsync("/draws?first=2", sk)).EnsureStatus(200);
        Assert.Equal(2, page1["data"].AsArray().Count);
        var cursor = page1["pageInfo"]["endCursor"]!.GetValue<string>();
        var page2 = (await emu.Admin.GetAsync($"/draws?first=2&after={Uri.EscapeDataString(cursor)}", sk)).EnsureStatus(200);
        Assert.Equal("Draw 1", Assert.Single(page2["data"].AsArray())!["name"]!.GetValue<string>());
        Assert.Null(page2["pageInfo"]["endCursor"]);

        var updated = (await emu.Admin.SendJsonAsync(HttpMethod.Put, $"/draws/{id}", new JsonObject
        {
            ["name"] = "Renamed", ["capacity"] = 1000, ["drawAt"] = "2031-03-03T12:00:00Z",
        }, sk)).EnsureStatus(200);
        Assert.Equal("Renamed", updated["name"].GetValue<string>());
        Assert.Equal(1000, updated["capacity"].GetValue<int>());
        Assert.Equal("api", updated["updatedBy"].GetValue<string>());
        var evt = DaKit.Events(emu, "distribution.updated").Last();
        Assert.Equal(["name", "drawAt", "capacity"], evt.Data["changedFields"]!.AsArray().Select(x => x!.GetValue<string>()).ToArray());

        var deleted = (await emu.Admin.SendJsonAsync(HttpMethod.Delete, $"/draws/{id}", null, sk)).EnsureStatus(200);
        Assert.Equal(id, deleted["id"].GetValue<string>());
        var gone = (await emu.Admin.GetAsync($"/draws/{id}", sk)).EnsureStatus(404);
        Assert.Equal("{\"error\":\"Draw not found\"}", gone.Text);
    }

    [Fact]
    public async Task Validation_auth_and_unknown_sequence()
    {
        var org = await DaKit.SetUpAsync(emu);
        var bad = await emu.Admin.PostJsonAsync("/draws", new JsonObject { ["sequenceId"] = DaKit.SequenceId, ["name"] = "x", ["winnerCount"] = 0 }, Sk(org.SecretKey));
        bad.EnsureStatus(400);
        Assert.Equal("validation_error", bad["error"].GetValue<string>());
        var keys = bad["issues"].AsArray().Select(i => i!["path"]![0]!["key"]!.GetValue<string>()).ToList();
        Assert.Contains("drawAt", keys);
        Assert.Contains("winnerCount", keys);

        var noSeq = await emu.Admin.PostJsonAsync("/draws", new JsonObject
        {
            ["sequenceId"] = "0190aaaa-0000-7000-8000-000000000404", ["name"] = "x", ["drawAt"] = "2031-03-02T12:00:00Z", ["winnerCount"] = 1,
        }, Sk(org.SecretKey));
        noSeq.EnsureStatus(404);
        Assert.Equal("Sequence not found", noSeq["error"].GetValue<string>());

        var pk = await emu.Admin.GetAsync("/draws", Pk(org.PublishableKey));
        pk.EnsureStatus(401);
        Assert.Equal("Secret key required", pk["error"].GetValue<string>());
        (await emu.Admin.GetAsync("/draws", null)).EnsureStatus(401);

        // Drawn: no more updates.
        var d = await DaKit.CreateAsync(emu, org, "/draws", new JsonObject { ["name"] = "d", ["drawAt"] = DaKit.Iso(DaKit.T0.AddMinutes(1)), ["winnerCount"] = 1 });
        await emu.AdvanceClockAsync(60);
        var late = await emu.Admin.SendJsonAsync(HttpMethod.Put, $"/draws/{d["id"]}", new JsonObject { ["name"] = "y" }, Sk(org.SecretKey));
        late.EnsureStatus(409);
        Assert.Equal("Cannot update closed distribution", late["error"].GetValue<string>());
    }
}
