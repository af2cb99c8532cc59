using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Fanfare.Emulator.Distributions;
using Fanfare.Emulator.Tests.Infrastructure;
using static Fanfare.Emulator.Tests.Infrastructure.HttpClientExtensions;

namespace Fanfare.Emulator.Tests.Distributions.Draws;

/// <summary>Draw journeys over HTTP with the clock frozen at <see cref="DaKit.T0"/> and moved.</summary>
public sealed class DrawJourneyTests(BareEmulatorServer emu) : IClassFixture<BareEmulatorServer>
{
    private static readonly DateTimeOffset T0 = DaKit.T0;

    private async Task<string> CreateDrawAsync(OrgKeys org, JsonObject body)
    {
        body["name"] ??= "Sneaker draw";
        body["drawAt"] ??= DaKit.Iso(T0.AddMinutes(10));
        body["winnerCount"] ??= 2;
        var d = await DaKit.CreateAsync(emu, org, "/draws", body);
        return d["id"]!.GetValue<string>();
    }

    private async Task<List<(string Id, string Token)>> GuestsAsync(OrgKeys org, int n)
    {
        var list = new List<(string, string)>();
        for (int i = 0; i < n; i++)
        {
            var g = await emu.GuestAsync(org.PublishableKey);
            list.Add((g.ConsumerId, g.AccessToken));
        }
        return list;
    }

    private Task<ApiResponse> Enter(OrgKeys org, string drawId, string token, string? fingerprint = null)
    {
        var h = Pk(org.PublishableKey, token);
        if (fingerprint is not null) h["X-Fingerprint"] = fingerprint;
        return emu.Consumer.PostJsonAsync($"/draws/{drawId}/enter", null, h);
    }

    private async Task<JsonNode> Status(OrgKeys org, string drawId, string token) =>
        (await emu.Consumer.GetAsync($"/draws/{drawId}/status", Pk(org.PublishableKey, token))).EnsureStatus(200).Json!;

    [Fact]
    public async Task Enter_draw_select_winners_validate_and_complete()
    {
        var org = await DaKit.SetUpAsync(emu);
        var drawId = await CreateDrawAsync(org, new JsonObject { ["admissionExpirationSeconds"] = 300 });
        var guests = await GuestsAsync(org, 5);

        foreach (var g in guests)
            Assert.Equal("ENTERED", (await Enter(org, drawId, g.Token)).EnsureStatus(200)["status"].GetValue<string>());
        // Re-entry returns the existing entry (no second entrant number).
        Assert.Equal("ENTERED", (await Enter(org, drawId, guests[0].Token)).EnsureStatus(200)["status"].GetValue<string>());
        Assert.Equal("ENTERED", (await Status(org, drawId, guests[2].Token))["status"]!.GetValue<string>());
        var entered = DaKit.Events(emu, "draw.consumer.entered");
        Assert.Equal([1, 2, 3, 4, 5], entered.Select(e => e.Data["entrantNumber"]!.GetValue<int>()).ToArray());
        Assert.Equal(guests.Select(g => g.Id), entered.Select(e => e.Data["consumerId"]!.GetValue<string>()));

        // Nothing is drawn before drawAt.
        await emu.AdvanceClockAsync(599);
        Assert.Equal("ENTERED", (await Status(org, drawId, guests[0].Token))["status"]!.GetValue<string>());
        await emu.AdvanceClockAsync(1);

        var statuses = new List<(string Id, string Token, JsonNode S)>();
        foreach (var g in guests) statuses.Add((g.Id, g.Token, await Status(org, drawId, g.Token)));
        var winners = statuses.Where(s => s.S["status"]!.GetValue<string>() == "WON").ToList();
        var losers = statuses.Where(s => s.S["status"]!.GetValue<string>() == "DENIED").ToList();
        Assert.Equal(2, winners.Count);
        Assert.Equal(3, losers.Count);
        foreach (var w in winners)
        {
            var grant = w.S["admissionGrant"]!.GetValue<string>();
            Assert.StartsWith("eyJ", grant);
            Assert.Equal(grant, w.S["admissionToken"]!.GetValue<string>());
            Assert.Equal(DaKit.Iso(T0.AddMinutes(15)), w.S["expiresAt"]!.GetValue<string>());
            Assert.Equal(DaKit.Iso(T0.AddMinutes(10)), w.S["wonAt"]!.GetValue<string>());
        }
        foreach (var l in losers)
        {
            Assert.Equal("NOT_SELECTED", l.S["reason"]!.GetValue<string>());
            Assert.Equal(DaKit.Iso(T0.AddMinutes(10)), l.S["deniedAt"]!.GetValue<string>());
        }

        // Entries are closed now.
        var late = (await emu.GuestAsync(org.PublishableKey)).AccessToken;
        var closed = await Enter(org, drawId, late);
        closed.EnsureStatus(400);
        Assert.Equal("Draw is closed", closed["error"].GetValue<string>());

        // The merchant server validates and completes the winner.
        var winner = winners[0];
        Assert.Equal("true", (await DaKit.Validate(emu, org, $"/draws/{drawId}/validate", winner.Id)).EnsureStatus(200).Text);
        Assert.Equal("true", (await DaKit.Validate(emu, org, $"/draws/{drawId}/validate", winner.Id, winner.S["admissionGrant"]!.GetValue<string>())).Text);
        Assert.Equal("false", (await DaKit.Validate(emu, org, $"/draws/{drawId}/validate", losers[0].Id)).EnsureStatus(200).Text);
        var done = (await emu.Consumer.PostJsonAsync($"/draws/{drawId}/complete", new JsonObject { ["consumerId"] = winner.Id }, Sk(org.SecretKey))).EnsureStatus(200);
        Assert.Equal("COMPLETED", done["status"].GetValue<string>());
        var after = await Status(org, drawId, winner.Token);
        Assert.Equal("COMPLETED", after["status"]!.GetValue<string>());
        Assert.Equal(DaKit.Iso(T0.AddMinutes(10)), after["completedAt"]!.GetValue<string>());
        Assert.Equal("false", (await DaKit.Validate(emu, org, $"/draws/{drawId}/validate", winner.Id)).Text);

        // Webhook events.
        var won = DaKit.Events(emu, "draw.consumer.won");
        Assert.Equal(2, won.Count);
        Assert.Equal([1, 2], won.Select(e => e.Data["winnerPosition"]!.GetValue<int>()).Order().ToArray());
        Assert.All(won, e => Assert.StartsWith("eyJ", e.Data["admissionToken"]!.GetValue<string>()));
        Assert.Equal(3, DaKit.Events(emu, "draw.consumer.lost").Count);
        var completed = Assert.Single(DaKit.Events(emu, "draw.completed"));
        Assert.Equal(5, completed.Data["totalEntrants"]!.GetValue<int>());
        Assert.Equal(2, completed.Data["winnersSelected"]!.GetValue<int>());
        Assert.Equal(DaKit.SequenceId, completed.Data["sequenceId"]!.GetValue<string>());
        Assert.Equal(DaKit.ExperienceId, completed.Data["experienceId"]!.GetValue<string>());
    }

    [Fact]
    public async Task Everyone_wins_when_fewer_entrants_than_winners()
    {
        var org = await DaKit.SetUpAsync(emu);
        var drawId = await CreateDrawAsync(org, new JsonObject { ["winnerCount"] = 10 });
        var guests = await GuestsAsync(org, 3);
        foreach (var g in guests) (await Enter(org, drawId, g.Token)).EnsureStatus(200);
        var run = (await emu.Control.PostJsonAsync($"/_emulator/draws/{drawId}/run")).EnsureStatus(200);
        Assert.Equal(3, run["winnersSelected"].GetValue<int>());
        foreach (var g in guests)
        {
            var s = await Status(org, drawId, g.Token);
            Assert.Equal("WON", s["status"]!.GetValue<string>());
            Assert.Null(s["expiresAt"]); // no admissionExpirationSeconds: the grant does not expire
        }
        // The scheduled selection at drawAt does not run a second time.
        await emu.AdvanceClockAsync(900);
        Assert.Single(DaKit.Events(emu, "draw.completed"));
    }

    [Fact]
    public async Task Backfill_replaces_a_winner_whose_grant_lapses()
    {
        var org = await DaKit.SetUpAsync(emu);
        var drawId = await CreateDrawAsync(org, new JsonObject
        {
            ["winnerCount"] = 1, ["admissionExpirationSeconds"] = 60, ["continueSelectingUntilCompleted"] = true,
        });
        var guests = await GuestsAsync(org, 3);
        foreach (var g in guests) (await Enter(org, drawId, g.Token)).EnsureStatus(200);
        await emu.AdvanceClockAsync(600);

        async Task<Dictionary<string, JsonNode>> All()
        {
            var d = new Dictionary<string, JsonNode>();
            foreach (var g in guests) d[g.Id] = await Status(org, drawId, g.Token);
            return d;
        }
        var s1 = await All();
        var first = Assert.Single(s1, kv => kv.Value["status"]!.GetValue<string>() == "WON").Key;

        // The first winner lets the grant lapse: a replacement is selected from the non-winners.
        await emu.AdvanceClockAsync(60);
        var s2 = await All();
        Assert.Equal("DENIED", s2[first]["status"]!.GetValue<string>());
        Assert.Equal("ADMISSION_EXPIRED", s2[first]["reason"]!.GetValue<string>());
        var second = Assert.Single(s2, kv => kv.Value["status"]!.GetValue<string>() == "WON").Key;
        Assert.NotEqual(first, second);
        Assert.Equal("false", (await DaKit.Validate(emu, org, $"/draws/{drawId}/validate", first)).Text);
        Assert.Equal("true", (await DaKit.Validate(emu, org, $"/draws/{drawId}/validate", second)).Text);
        var won = DaKit.Events(emu, "draw.consumer.won");
        Assert.Equal(2, won.Count);
        Assert.Equal(2, won[1].Data["winnerPosition"]!.GetValue<int>());

        // The replacement completes: no more selection even when time passes.
        (await emu.Consumer.PostJsonAsync($"/draws/{drawId}/complete", new JsonObject { ["consumerId"] = second }, Sk(org.SecretKey))).EnsureStatus(200);
        await emu.AdvanceClockAsync(600);
        var s3 = await All();
        Assert.Equal("COMPLETED", s3[second]["status"]!.GetValue<string>());
        var third = guests.Select(g => g.Id).Single(id => id != first && id != second);
        Assert.Equal("NOT_SELECTED", s3[third]["reason"]!.GetValue<string>());
        Assert.Equal(2, DaKit.Events(emu, "draw.consumer.won").Count);
    }

    [Fact]
    public async Task Without_backfill_a_lapsed_winner_is_not_replaced()
    {
        var org = await DaKit.SetUpAsync(emu);
        var drawId = await CreateDrawAsync(org, new JsonObject { ["winnerCount"] = 1, ["admissionExpirationSeconds"] = 60 });
        var guests = await GuestsAsync(org, 2);
        foreach (var g in guests) (await Enter(org, drawId, g.Token)).EnsureStatus(200);
        await emu.AdvanceClockAsync(600 + 60);
        var statuses = new List<JsonNode>();
        foreach (var g in guests) statuses.Add(await Status(org, drawId, g.Token));
        Assert.DoesNotContain(statuses, s => s["status"]!.GetValue<string>() == "WON");
        Assert.Contains(statuses, s => s["reason"]?.GetValue<string>() == "ADMISSION_EXPIRED");
        Assert.Single(DaKit.Events(emu, "draw.consumer.won"));
    }

    [Fact]
    public async Task Same_seed_and_same_calls_pick_the_same_winners()
    {
        async Task<List<string>> RunOnce()
        {
            await using var e = await EmulatorServer.StartAsync(BareEmulatorServer.Configure);
            await e.FreezeClockAsync(T0);
            var org = await e.DemoOrgAsync();
            DaKit.PutSequence(e, org.Id);
            var d = await DaKit.CreateAsync(e, org, "/draws", new JsonObject
            {
                ["name"] = "Determinism", ["drawAt"] = DaKit.Iso(T0.AddMinutes(5)), ["winnerCount"] = 4,
            });
            var drawId = d["id"]!.GetValue<string>();
            for (int i = 0; i < 20; i++)
            {
                var g = await e.GuestAsync(org.PublishableKey);
                (await e.Consumer.PostJsonAsync($"/draws/{drawId}/enter", null, Pk(org.PublishableKey, g.AccessToken))).EnsureStatus(200);
            }
            await e.AdvanceClockAsync(300);
            var participants = await e.Control.GetJsonAsync($"/_emulator/distributions/{drawId}/participants");
            return participants["participants"]!.AsArray()
                .Where(p => p!["status"]!.GetValue<string>() == "WON")
                .OrderBy(p => p!["winnerPosition"]!.GetValue<int>())
                .Select(p => $"{p!["entrantNumber"]}:{p["consumerId"]}").ToList();
        }
        var a = await RunOnce();
        var b = await RunOnce();
        Assert.Equal(4, a.Count);
        Assert.Equal(a, b);
        // Not simply the first four entrants.
        Assert.NotEqual(["1", "2", "3", "4"], a.Select(x => x.Split(':')[0]).Order().ToArray());
    }

    [Trait("Category", "InProcess")]
    [Fact]
    public async Task Not_open_yet_closed_not_found_and_unauthenticated()
    {
        var org = await DaKit.SetUpAsync(emu);
        var openAt = T0.AddMinutes(5);
        var drawId = await CreateDrawAsync(org, new JsonObject
        {
            ["openAt"] = DaKit.Iso(openAt), ["closeAt"] = DaKit.Iso(T0.AddMinutes(8)), ["drawAt"] = DaKit.Iso(T0.AddMinutes(10)),
        });
        var g = await emu.GuestAsync(org.PublishableKey);

        var early = await Enter(org, drawId, g.AccessToken);
        early.EnsureStatus(423);
        Assert.Equal("{\"error\":\"Draw is not open yet\"}", early.Text);
        Assert.Equal(DaKit.Iso(openAt), early.Headers.GetValues("Retry-After").Single());

        var missing = await Enter(org, "00000000-0000-7000-8000-000000000000", g.AccessToken);
        missing.EnsureStatus(404);
        Assert.Equal("Draw not found", missing["error"].GetValue<string>());

        var anonymous = await emu.Consumer.PostJsonAsync($"/draws/{drawId}/enter", null, Pk(org.PublishableKey));
        anonymous.EnsureStatus(401);
        Assert.Equal("Authentication required", anonymous["error"].GetValue<string>());

        // Another organization's key never sees this draw.
        var other = (await emu.OrganizationsAsync())[1];
        (await emu.Consumer.GetAsync($"/draws/{drawId}", Pk(other.PublishableKey))).EnsureStatus(404);

        // Public metadata.
        var meta = (await emu.Consumer.GetAsync($"/draws/{drawId}", Pk(org.PublishableKey))).EnsureStatus(200);
        Assert.Equal(DaKit.Iso(T0.AddMinutes(10)), meta["drawAt"].GetValue<string>());
        Assert.True(meta["supportsGuest"].GetValue<bool>());
        Assert.Equal(DaKit.Iso(openAt), meta["openAt"].GetValue<string>());

        await emu.AdvanceClockAsync(300);
        (await Enter(org, drawId, g.AccessToken)).EnsureStatus(200);
        // Leave (pre-grant) and enter again: a new entrant number.
        var left = (await emu.Consumer.PostJsonAsync($"/draws/{drawId}/leave", null, Pk(org.PublishableKey, g.AccessToken))).EnsureStatus(200);
        Assert.Equal("NOT_ENTERED", left["status"].GetValue<string>());
        Assert.Equal("NOT_ENTERED", (await Status(org, drawId, g.AccessToken))["status"]!.GetValue<string>());
        (await Enter(org, drawId, g.AccessToken)).EnsureStatus(200);
        Assert.Equal(2, DaKit.Events(emu, "draw.consumer.entered").Last().Data["entrantNumber"]!.GetValue<int>());

        // After closeAt (before drawAt): closed, and the entry is settling.
        await emu.AdvanceClockAsync(180);
        var g2 = await emu.GuestAsync(org.PublishableKey);
        var late = await Enter(org, drawId, g2.AccessToken);
        late.EnsureStatus(400);
        Assert.Equal("{\"error\":\"Draw is closed\"}", late.Text);
        var engine = emu.Services.GetRequiredService<DistributionRegistry>();
        var hit = engine.Find(org.Id, drawId)!.Value;
        Assert.Equal("settling", hit.Engine.View(hit.Distribution, g.ConsumerId).Phase);
        Assert.Equal("ended", hit.Engine.View(hit.Distribution, g2.ConsumerId).Phase);

        // Drawn: the only entrant wins; leaving is no longer possible.
        await emu.AdvanceClockAsync(120);
        var view = hit.Engine.View(hit.Distribution, g.ConsumerId);
        Assert.Equal("granted", view.Phase);
        Assert.Equal("won", view.Consumer!["status"]!.GetValue<string>());
        Assert.Equal("draw", view.Grant!["distributionType"]!.GetValue<string>());
        var noLeave = await emu.Consumer.PostJsonAsync($"/draws/{drawId}/leave", null, Pk(org.PublishableKey, g.AccessToken));
        noLeave.EnsureStatus(400);
        Assert.Equal("Draw is closed", noLeave["error"].GetValue<string>());
    }

    [Fact]
    public async Task Deny_and_capacity()
    {
        var org = await DaKit.SetUpAsync(emu);
        var drawId = await CreateDrawAsync(org, new JsonObject { ["capacity"] = 2, ["winnerCount"] = 2 });
        var guests = await GuestsAsync(org, 3);
        (await Enter(org, drawId, guests[0].Token)).EnsureStatus(200);
        (await Enter(org, drawId, guests[1].Token)).EnsureStatus(200);
        var full = (await Enter(org, drawId, guests[2].Token)).EnsureStatus(200);
        Assert.Equal("DENIED", full["status"].GetValue<string>());
        Assert.Equal("CAPACITY_EXCEEDED", full["reason"].GetValue<string>());
        Assert.Equal(DaKit.Iso(T0), full["deniedAt"].GetValue<string>());

        // Secret key only.
        var denyBody = new JsonObject { ["consumerId"] = guests[0].Id, ["reason"] = "FRAUD_DETECTED" };
        var pkDeny = await emu.Consumer.PostJsonAsync($"/draws/{drawId}/deny", denyBody, Pk(org.PublishableKey));
        pkDeny.EnsureStatus(401);
        Assert.Equal("Secret key required", pkDeny["error"].GetValue<string>());
        var denied = (await emu.Consumer.PostJsonAsync($"/draws/{drawId}/deny", denyBody, Sk(org.SecretKey))).EnsureStatus(200);
        Assert.Equal("DENIED", denied["status"].GetValue<string>());
        Assert.Equal("FRAUD_DETECTED", denied["reason"].GetValue<string>());
        var s = await Status(org, drawId, guests[0].Token);
        Assert.Equal("FRAUD_DETECTED", s["reason"]!.GetValue<string>());
        // A denied consumer's re-entry returns the denial.
        Assert.Equal("DENIED", (await Enter(org, drawId, guests[0].Token))["status"].GetValue<string>());

        // The denial freed a place: the refused consumer may now enter.
        Assert.Equal("ENTERED", (await Enter(org, drawId, guests[2].Token))["status"].GetValue<string>());

        var bad = await emu.Consumer.PostJsonAsync($"/draws/{drawId}/deny", new JsonObject { ["consumerId"] = guests[1].Id }, Sk(org.SecretKey));
        bad.EnsureStatus(400);
        Assert.Equal("validation_error", bad["error"].GetValue<string>());

        // The denied consumer is not drawn.
        await emu.AdvanceClockAsync(600);
        Assert.Equal("DENIED", (await Status(org, drawId, guests[0].Token))["status"]!.GetValue<string>());
        Assert.Equal("WON", (await Status(org, drawId, guests[1].Token))["status"]!.GetValue<string>());
        Assert.Equal("WON", (await Status(org, drawId, guests[2].Token))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Simulate_and_participants()
    {
        var org = await DaKit.SetUpAsync(emu);
        var drawId = await CreateDrawAsync(org, new JsonObject { ["winnerCount"] = 3 });
        var sim = (await emu.Control.PostJsonAsync($"/_emulator/distributions/{drawId}/simulate", new JsonObject { ["consumers"] = 25 })).EnsureStatus(200);
        Assert.Equal(25, sim["consumerIds"].AsArray().Count);
        Assert.Equal("draw", sim["distributionType"].GetValue<string>());
        await emu.AdvanceClockAsync(600);
        var p = await emu.Control.GetJsonAsync($"/_emulator/distributions/{drawId}/participants");
        var list = p["participants"]!.AsArray();
        Assert.Equal(25, list.Count);
        Assert.Equal(Enumerable.Range(1, 25), list.Select(x => x!["entrantNumber"]!.GetValue<int>()));
        Assert.Equal(3, list.Count(x => x!["status"]!.GetValue<string>() == "WON"));
        Assert.Equal(22, list.Count(x => x!["reason"]?.GetValue<string>() == "NOT_SELECTED"));
    }
}
