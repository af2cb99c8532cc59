using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Fanfare.Emulator.Distributions;
using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Distributions.Experiences;

/// <summary>Admin experiences over HTTP: CRUD, pagination, nested creation, validation, auth and isolation.</summary>
public sealed class ExperiencesAdminTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    [Fact]
    public async Task Crud_round_trip_and_delete_archives()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var sk = HttpClientExtensions.Sk(org.SecretKey);
        var created = await emu.CreateExperienceAsync(org.SecretKey, new JsonObject
        {
            ["name"] = "Spring Drop", ["timeZone"] = "Europe/Paris",
            ["theme"] = new JsonObject { ["primary"] = "#ff0000", ["variant"] = "retro" },
            ["i18n"] = new JsonObject { ["fr"] = new JsonObject { ["title"] = "Printemps" } },
            ["products"] = new JsonArray(new JsonObject { ["productId"] = "0190a0a0-0000-7000-8000-000000000001" }),
        });
        var id = created["id"]!.GetValue<string>();
        Assert.Equal("Spring Drop", created["name"]!.GetValue<string>());
        Assert.Equal("Europe/Paris", created["timeZone"]!.GetValue<string>());
        Assert.Equal(org.Id, created["organizationId"]!.GetValue<string>());
        Assert.False(created["archived"]!.GetValue<bool>());
        Assert.Empty(created["sequences"]!.AsArray());
        Assert.Null(created["openAt"]);
        Assert.True(created.AsObject().ContainsKey("closeAt"));
        Assert.Equal(0, created["products"]![0]!["position"]!.GetValue<int>());
        Assert.Equal(id, created["products"]![0]!["experienceId"]!.GetValue<string>());

        var got = await emu.Admin.GetJsonAsync($"/experiences/{id}", sk);
        Assert.Equal("retro", got["theme"]!["variant"]!.GetValue<string>());
        Assert.False(got.AsObject().ContainsKey("sequences"));

        var put = (await emu.Admin.SendJsonAsync(HttpMethod.Put, $"/experiences/{id}", new JsonObject { ["name"] = "Spring Drop II", ["theme"] = null }, sk)).EnsureStatus(200);
        Assert.Equal("Spring Drop II", put["name"].GetValue<string>());
        Assert.Null(put["theme"]);
        Assert.Equal("Europe/Paris", put["timeZone"].GetValue<string>());
        Assert.NotNull(put["updatedAt"]);

        var metrics = await emu.Admin.GetJsonAsync($"/experiences/{id}/metrics", sk);
        Assert.Empty(metrics["sequences"]!.AsObject());

        var deleted = (await emu.Admin.SendJsonAsync(HttpMethod.Delete, $"/experiences/{id}", null, sk)).EnsureStatus(200);
        Assert.True(deleted["archived"].GetValue<bool>());
        var after = await emu.Admin.GetAsync($"/experiences/{id}", sk);
        Assert.Equal(404, after.Code);
        Assert.Equal("Experience not found", after["error"].GetValue<string>());
        var list = await emu.Admin.GetJsonAsync("/experiences?first=100", sk);
        Assert.DoesNotContain(list["data"]!.AsArray(), e => e!["id"]!.GetValue<string>() == id);
    }

    [Fact]
    public async Task List_pages_forward_and_backward_with_cursors()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var sk = HttpClientExtensions.Sk(org.SecretKey);
        for (int i = 0; i < 5; i++) await emu.CreateExperienceAsync(org.SecretKey, new JsonObject { ["name"] = $"Page test {i}" });
        var all = (await emu.Admin.GetJsonAsync("/experiences?first=100", sk))["data"]!.AsArray().Select(e => e!["id"]!.GetValue<string>()).ToList();
        Assert.True(all.Count >= 5);

        var seen = new List<string>();
        string? after = null;
        for (int guard = 0; guard < 50; guard++)
        {
            var page = await emu.Admin.GetJsonAsync("/experiences?first=2" + (after is null ? "" : "&after=" + Uri.EscapeDataString(after)), sk);
            var data = page["data"]!.AsArray();
            Assert.True(data.Count <= 2);
            seen.AddRange(data.Select(e => e!["id"]!.GetValue<string>()));
            if (after is null) Assert.Null(page["pageInfo"]!["startCursor"]);
            after = page["pageInfo"]!["endCursor"]?.GetValue<string>();
            if (after is null) break;
        }
        Assert.Equal(all, seen);

        var last = await emu.Admin.GetJsonAsync("/experiences?last=2", sk);
        Assert.Equal(all.TakeLast(2), last["data"]!.AsArray().Select(e => e!["id"]!.GetValue<string>()));
        Assert.Null(last["pageInfo"]!["endCursor"]);
        var before = last["pageInfo"]!["startCursor"]!.GetValue<string>();
        var prev = await emu.Admin.GetJsonAsync("/experiences?last=2&before=" + Uri.EscapeDataString(before), sk);
        Assert.Equal(all.SkipLast(2).TakeLast(2), prev["data"]!.AsArray().Select(e => e!["id"]!.GetValue<string>()));

        foreach (var bad in new[] { "first=0", "first=101", "first=abc", "after=%25%25notbase64" })
        {
            var r = await emu.Admin.GetAsync("/experiences?" + bad, sk);
            Assert.Equal(400, r.Code);
            Assert.Equal("validation_error", r["error"].GetValue<string>());
        }
    }

    [Fact]
    public async Task Nested_sequence_creates_appointment_through_its_engine()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var sk = HttpClientExtensions.Sk(org.SecretKey);
        var open = DateTimeOffset.Parse("2031-03-01T10:00:00Z");
        var e = await emu.CreateExperienceAsync(org.SecretKey, new JsonObject
        {
            ["name"] = "Nested", ["timeZone"] = "Asia/Tokyo",
            ["sequence"] = new JsonObject
            {
                ["name"] = "Main", ["priority"] = 5, ["accessCode"] = "SECRET",
                ["sequenceProducts"] = new JsonArray(new JsonObject { ["productId"] = "0190f000-0000-7000-8000-000000000101", ["weight"] = 3 }), // a seeded product
                ["appointments"] = new JsonArray(new JsonObject
                {
                    ["name"] = "Fitting", ["openAt"] = XApi.Iso(open), ["closeAt"] = XApi.Iso(open.AddHours(8)),
                    ["slotDurationMinutes"] = 45, ["bufferMinutes"] = 15, ["maxCapacityPerSlot"] = 2,
                }),
            },
        });
        var seq = e["sequences"]![0]!;
        Assert.Equal("Main", seq["name"]!.GetValue<string>());
        Assert.Equal(5, seq["priority"]!.GetValue<double>());
        Assert.Equal("SECRET", seq["accessCode"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(seq["color"]!.GetValue<string>()));
        Assert.Null(seq["waitlist"]);
        Assert.Empty(seq["queues"]!.AsArray());
        var appt = seq["appointments"]![0]!;
        Assert.Equal(seq["id"]!.GetValue<string>(), appt["sequenceId"]!.GetValue<string>());
        Assert.Equal("Asia/Tokyo", appt["timeZone"]!.GetValue<string>()); // inherits the experience's zone
        Assert.Equal(45, appt["slotDurationMinutes"]!.GetValue<int>());
        Assert.Equal("2031-03-01T10:00:00.000Z", e["openAt"]!.GetValue<string>());  // derived from the distribution
        Assert.Equal("2031-03-01T18:00:00.000Z", e["closeAt"]!.GetValue<string>());

        var fetched = await emu.Admin.GetJsonAsync($"/appointments/{appt["id"]!.GetValue<string>()}", sk);
        Assert.Equal("Fitting", fetched["name"]!.GetValue<string>());
        var products = await emu.Admin.GetJsonAsync($"/sequences/{seq["id"]!.GetValue<string>()}/products", sk);
        Assert.Equal(3, products[0]!["weight"]!.GetValue<int>());
    }

    [Fact]
    public async Task Nested_validation_reports_every_issue_and_keeps_nothing()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var sk = HttpClientExtensions.Sk(org.SecretKey);
        var before = (await emu.Admin.GetJsonAsync("/experiences?first=100", sk))["data"]!.AsArray().Count;
        var r = await emu.Admin.PostJsonAsync("/experiences", new JsonObject
        {
            ["name"] = "Broken",
            ["sequence"] = new JsonObject
            {
                ["name"] = "Main",
                ["appointments"] = new JsonArray(
                    new JsonObject { ["name"] = "ok" },
                    new JsonObject { ["slotDurationMinutes"] = 0 }),
            },
        }, sk);
        Assert.Equal(400, r.Code);
        Assert.Equal("validation_error", r["error"].GetValue<string>());
        var issues = r["issues"].AsArray();
        var keys = issues.Select(i => string.Join(".", i!["path"]!.AsArray().Select(p => p!["key"]!.ToJsonString().Trim('"')))).ToList();
        Assert.Contains("sequence.appointments.1.name", keys);
        Assert.Contains("sequence.appointments.1.slotDurationMinutes", keys);
        Assert.Equal(before, (await emu.Admin.GetJsonAsync("/experiences?first=100", sk))["data"]!.AsArray().Count);
        Assert.DoesNotContain((await emu.Admin.GetJsonAsync("/appointments?first=100", sk))["data"]!.AsArray(),
            a => a!["name"]!.GetValue<string>() == "ok");

        var noName = await emu.Admin.PostJsonAsync("/experiences", new JsonObject { ["timeZone"] = "UTC" }, sk);
        Assert.Equal(400, noName.Code);
        Assert.Equal("name", noName["issues"][0]!["path"]![0]!["key"]!.GetValue<string>());
        var malformed = await emu.Admin.PostRawAsync("/experiences", "{\"name\":", sk);
        Assert.Equal(400, malformed.Code);
    }

    [Trait("Category", "InProcess")]
    [Fact]
    public async Task Nested_type_without_an_engine_is_a_validation_issue()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var registry = emu.Services.GetRequiredService<DistributionRegistry>();
        var r = await emu.Admin.PostJsonAsync("/experiences", new JsonObject
        {
            ["name"] = "Queue drop",
            ["sequence"] = new JsonObject
            {
                ["name"] = "Main",
                ["queues"] = new JsonArray(new JsonObject { ["name"] = "Q", ["admitRate"] = 60, ["supportsGuest"] = true }),
            },
        }, HttpClientExtensions.Sk(org.SecretKey));
        if (registry.ForType("queue") is null)
        {
            Assert.Equal(400, r.Code);
            Assert.Equal("queues", r["issues"][0]!["path"]![1]!["key"]!.GetValue<string>());
        }
        else
        {
            r.EnsureStatus(200);
            Assert.Single(r["sequences"][0]!["queues"]!.AsArray());
        }
    }

    [Fact]
    public async Task Admin_requires_a_secret_key_and_scopes_by_organization()
    {
        await emu.ResetAsync();
        var orgs = await emu.OrganizationsAsync();
        var (demo, acme) = (orgs[0], orgs[1]);
        var none = await emu.Admin.GetAsync("/experiences", new Dictionary<string, string>());
        Assert.Equal(401, none.Code);
        Assert.Equal("Authentication required", none["error"].GetValue<string>());
        var pk = await emu.Admin.GetAsync("/experiences", HttpClientExtensions.Pk(demo.PublishableKey));
        Assert.Equal(401, pk.Code);
        Assert.Equal("Secret key required", pk["error"].GetValue<string>());

        var e = await emu.CreateExperienceAsync(demo.SecretKey, new JsonObject { ["name"] = "Demo only" });
        var id = e["id"]!.GetValue<string>();
        var fromAcme = await emu.Admin.GetAsync($"/experiences/{id}", HttpClientExtensions.Sk(acme.SecretKey));
        Assert.Equal(404, fromAcme.Code);
        var acmeList = await emu.Admin.GetJsonAsync("/experiences?first=100", HttpClientExtensions.Sk(acme.SecretKey));
        Assert.DoesNotContain(acmeList["data"]!.AsArray(), x => x!["id"]!.GetValue<string>() == id);
        Assert.Equal(404, (await emu.Admin.SendJsonAsync(HttpMethod.Delete, $"/experiences/{id}", null, HttpClientExtensions.Sk(acme.SecretKey))).Code);
    }

    [Fact]
    public async Task Default_seed_has_one_experience_per_type_and_a_waitlisted_sequence()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var data = (await emu.Admin.GetJsonAsync("/experiences?first=100", HttpClientExtensions.Sk(org.SecretKey)))["data"]!.AsArray();
        var names = data.Select(e => e!["name"]!.GetValue<string>()).ToList();
        foreach (var n in new[] { "Sneaker Drop — Queue", "Limited Print — Draw", "Signed Guitar — Auction", "Tasting — Appointments", "Merch — Timed Release", "Next Drop — Waitlist" })
            Assert.Contains(n, names);
        var tasting = data.First(e => e!["name"]!.GetValue<string>() == "Tasting — Appointments")!;
        var appt = tasting["sequences"]![0]!["appointments"]![0]!;
        Assert.Equal(30, appt["slotDurationMinutes"]!.GetValue<int>());
        var open = DateTimeOffset.Parse(appt["openAt"]!.GetValue<string>());
        var close = DateTimeOffset.Parse(appt["closeAt"]!.GetValue<string>());
        Assert.Equal(TimeSpan.FromDays(7), close - open);
        Assert.True(open <= DateTimeOffset.UtcNow.AddMinutes(1));
        var next = data.First(e => e!["name"]!.GetValue<string>() == "Next Drop — Waitlist")!;
        Assert.NotNull(next["sequences"]![0]!["waitlist"]!["id"]);

        // Ids are derived from names, so they survive a reset.
        await emu.ResetAsync();
        var again = (await emu.Admin.GetJsonAsync("/experiences?first=100", HttpClientExtensions.Sk(org.SecretKey)))["data"]!.AsArray();
        Assert.Contains(again, e => e!["id"]!.GetValue<string>() == tasting["id"]!.GetValue<string>());
    }
}
