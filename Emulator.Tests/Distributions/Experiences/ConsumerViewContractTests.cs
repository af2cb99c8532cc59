using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Infrastructure;
using static Fanfare.Emulator.Tests.Infrastructure.HttpClientExtensions;

namespace Fanfare.Emulator.Tests.Distributions.Experiences;

/// <summary>
/// Issue 10 §3: every consumer view of each distribution type carries the contract's required fields, whichever way the
/// distribution was created (admin <c>POST /{type}</c>, nested in admin <c>POST /experiences</c>, or the seed).
/// Views: consumer <c>GET /experiences/{id}</c> and <c>POST /experiences/{id}/enter</c> (<c>sequences[].{type}[]</c>,
/// consumer-part2.md <c>Experience</c>), and the type's own consumer <c>GET /{type}/{id}</c> (consumer-part1/2.md).
/// </summary>
public sealed class ConsumerViewContractTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    /// <summary>Required (non-optional) fields of the nested shapes in consumer-part2.md <c>Experience.sequences[]</c>.</summary>
    private static readonly Dictionary<string, string[]> Nested = new()
    {
        ["queues"] = ["id", "timeZone", "admitRate", "supportsGuest"],
        ["draws"] = ["id", "timeZone", "drawAt", "supportsGuest"],
        ["auctions"] = ["id", "timeZone", "settleAt", "currencyCode"],
        ["appointments"] = ["id", "timeZone"],
        ["timedReleases"] = ["id", "timeZone", "supportsGuest"], // the older page's union member (GET /timed-releases/{id} fields)
    };

    /// <summary>Required fields of each type's own consumer GET (consumer-part1.md / consumer-part2.md).</summary>
    private static readonly Dictionary<string, (string Path, string[] Fields)> Single = new()
    {
        ["queues"] = ("/queues", ["id", "organizationId", "createdAt", "createdBy", "archived", "sequenceId", "name", "timeZone", "admitRate", "supportsGuest"]),
        ["draws"] = ("/draws", ["id", "timeZone", "drawAt", "supportsGuest"]),
        ["auctions"] = ("/auctions", ["id", "timeZone", "settleAt", "currencyCode"]),
        ["appointments"] = ("/appointments", ["id", "timeZone"]),
        ["timedReleases"] = ("/timed-releases", ["id", "timeZone", "supportsGuest"]),
    };

    private static JsonObject Body(string key, DateTimeOffset now) => key switch
    {
        "queues" => new() { ["name"] = "Q", ["admitRate"] = 60 },
        "draws" => new() { ["name"] = "D", ["drawAt"] = XApi.Iso(now.AddDays(1)), ["winnerCount"] = 1 },
        "auctions" => new() { ["name"] = "A", ["auctionType"] = "english", ["startPrice"] = "100.00", ["minBidIncrement"] = "5.00",
            ["openAt"] = XApi.Iso(now), ["closeAt"] = XApi.Iso(now.AddDays(1)), ["settleAt"] = XApi.Iso(now.AddDays(1)) },
        "appointments" => new() { ["name"] = "P", ["slotDurationMinutes"] = 30, ["bufferMinutes"] = 10, ["maxCapacityPerSlot"] = 4 },
        "timedReleases" => new() { ["name"] = "T" },
        _ => throw new ArgumentException(key),
    };

    private static void AssertRequired(JsonNode? view, string[] fields, string what)
    {
        Assert.True(view is JsonObject, $"{what}: not an object");
        foreach (var f in fields)
            Assert.True(view![f] is not null, $"{what}: required field \"{f}\" is missing or null in {view.ToJsonString()}");
    }

    [Fact]
    public async Task Every_consumer_view_of_every_distribution_type_has_the_required_fields()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var now = await emu.FreezeClockAsync();
        var sk = Sk(org.SecretKey);
        var (_, access, _) = await emu.GuestAsync(org.PublishableKey);
        var pk = Pk(org.PublishableKey, access);

        // experienceId → how its distributions were created
        var experiences = new List<(string Id, string How)>();

        // 1. nested in POST /experiences (one experience per type)
        foreach (var key in Nested.Keys)
        {
            var e = await emu.CreateExperienceAsync(org.SecretKey, new JsonObject
            {
                ["name"] = "Nested " + key, ["timeZone"] = "UTC",
                ["sequence"] = new JsonObject { ["name"] = "Main", [key] = new JsonArray(Body(key, now)) },
            });
            experiences.Add((e["id"]!.GetValue<string>(), "nested " + key));
        }

        // 2. admin POST /{type} with the sequenceId of an admin-created experience
        var holder = await emu.CreateExperienceAsync(org.SecretKey, new JsonObject
        {
            ["name"] = "Top-level", ["timeZone"] = "UTC", ["sequence"] = new JsonObject { ["name"] = "Main" },
        });
        var seqId = holder["sequences"]![0]!["id"]!.GetValue<string>();
        foreach (var (key, (path, _)) in Single)
        {
            var body = Body(key, now);
            body["sequenceId"] = seqId;
            (await emu.Admin.PostJsonAsync(path, body, sk)).EnsureStatus(200);
        }
        experiences.Add((holder["id"]!.GetValue<string>(), "admin POST /{type}"));

        // 3. the seed
        foreach (var x in (await emu.Admin.GetJsonAsync("/experiences?first=100", sk))["data"]!.AsArray())
            if (!experiences.Any(e => e.Id == x!["id"]!.GetValue<string>())) experiences.Add((x!["id"]!.GetValue<string>(), "seed"));

        var seen = new HashSet<string>();
        foreach (var (id, how) in experiences)
        {
            var got = (await emu.Consumer.GetAsync($"/experiences/{id}", pk)).EnsureStatus(200).Json!;
            var entered = (await emu.Consumer.PostJsonAsync($"/experiences/{id}/enter", null, pk)).EnsureStatus(200)["experience"];
            foreach (var (view, name) in new[] { (got, "GET /experiences/{id}"), (entered, "POST /experiences/{id}/enter") })
                foreach (var seq in view["sequences"]!.AsArray())
                    foreach (var (key, fields) in Nested)
                        foreach (var d in seq![key]?.AsArray() ?? [])
                        {
                            AssertRequired(d, fields, $"{name} sequences[].{key}[] ({how})");
                            seen.Add(key + " " + how.Split(' ')[0]);
                            if (name.StartsWith("GET", StringComparison.Ordinal))
                            {
                                var single = (await emu.Consumer.GetAsync($"{Single[key].Path}/{d!["id"]!.GetValue<string>()}", pk)).EnsureStatus(200).Json;
                                AssertRequired(single, Single[key].Fields, $"GET {Single[key].Path}/{{id}} ({how})");
                            }
                        }
        }
        foreach (var key in Nested.Keys)
            foreach (var how in new[] { "nested", "admin", "seed" })
                Assert.True(seen.Contains(key + " " + how), $"no {key} created by {how} was checked: {string.Join(", ", seen)}");
    }
}
