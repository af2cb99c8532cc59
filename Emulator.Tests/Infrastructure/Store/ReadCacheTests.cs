using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Auth;
using Fanfare.Emulator.Tests.Distributions;
using Fanfare.Emulator.Tests.Infrastructure;
using static Fanfare.Emulator.Tests.Infrastructure.HttpClientExtensions;

namespace Fanfare.Emulator.Tests.Infrastructure.Store;

/// <summary>
/// The read caches of issue 15 (Emulator/Infrastructure/Store/DocumentStore.Indexes.cs: <c>StoreReadCache</c>, tagged with
/// the store's change stamp) never serve stale data: each test reads twice (so the answer is cached where the store keeps a
/// stamp), changes the store through the API, and expects the change on the very next request — for
/// <c>GET /consumers/me</c> (which experiences show a journey), <c>GET /experiences/{id}</c> (the serialized consumer
/// experience), key and session lookups. Without a stamp the caches are off and these tests pin the same behaviour.
/// </summary>
public sealed class ReadCacheTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    private async Task<(OrgKeys Org, string ExperienceId, string QueueId)> SeededAsync()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var experiences = (JsonArray)(await emu.Admin.GetJsonAsync("/experiences?first=100", Sk(org.SecretKey)))["data"]!;
        var experience = experiences.First(e => e!["name"]!.GetValue<string>() == "Sneaker Drop — Queue")!;
        var queues = (JsonArray)(await emu.Admin.GetJsonAsync("/queues?first=100", Sk(org.SecretKey)))["data"]!;
        var queue = queues.First(q => q!["name"]!.GetValue<string>() == "Sneaker Drop queue")!;
        return (org, experience["id"]!.GetValue<string>(), queue["id"]!.GetValue<string>());
    }

    private async Task<JsonNode> MeAsync(Guest g) => (await emu.Consumer.GetAsync("/consumers/me", g.Headers)).EnsureStatus(200).Json!;

    private static JsonArray Journeys(JsonNode me) => (JsonArray)me["active"]!["journeys"]!;

    private async Task<JsonNode> ExperienceAsync(OrgKeys org, string id) =>
        (await emu.Consumer.GetAsync($"/experiences/{id}", Pk(org.PublishableKey))).EnsureStatus(200).Json!;

    [Fact]
    public async Task Consumers_me_shows_a_queue_entered_on_the_request_right_after()
    {
        var (org, experienceId, queueId) = await SeededAsync();
        var guest = await emu.GuestOfAsync(org);
        Assert.Empty(Journeys(await MeAsync(guest)));
        Assert.Empty(Journeys(await MeAsync(guest)));

        (await emu.Consumer.PostJsonAsync($"/queues/{queueId}/enter", null, guest.Headers)).EnsureStatus(200);
        var journeys = Journeys(await MeAsync(guest));
        var journey = Assert.Single(journeys)!;
        Assert.Equal(experienceId, journey["experienceId"]!.GetValue<string>());
        Assert.Equal("participating", journey["sequence"]!["phase"]!.GetValue<string>());
        Assert.Equal("queued", journey["sequence"]!["consumer"]!["status"]!.GetValue<string>());

        // Another guest's cached empty answer is not disturbed, nor mistaken for this one's.
        var other = await emu.GuestOfAsync(org);
        Assert.Empty(Journeys(await MeAsync(other)));
        Assert.Single(Journeys(await MeAsync(guest)));
    }

    [Fact]
    public async Task Consumers_me_follows_admission_and_leaving_on_the_next_request()
    {
        var (org, _, queueId) = await SeededAsync();
        var guest = await emu.GuestOfAsync(org);
        (await emu.Consumer.PostJsonAsync($"/queues/{queueId}/enter", null, guest.Headers)).EnsureStatus(200);
        Assert.Equal("queued", Journeys(await MeAsync(guest))[0]!["sequence"]!["consumer"]!["status"]!.GetValue<string>());
        Assert.Equal("queued", Journeys(await MeAsync(guest))[0]!["sequence"]!["consumer"]!["status"]!.GetValue<string>());

        (await emu.Control.PostJsonAsync($"/_emulator/queues/{queueId}/admit", new JsonObject { ["count"] = 1 })).EnsureStatus(200);
        var admitted = Journeys(await MeAsync(guest))[0]!["sequence"]!;
        Assert.Equal("granted", admitted["phase"]!.GetValue<string>());
        Assert.Equal("granted", admitted["consumer"]!["status"]!.GetValue<string>());

        var second = await emu.GuestOfAsync(org);
        (await emu.Consumer.PostJsonAsync($"/queues/{queueId}/enter", null, second.Headers)).EnsureStatus(200);
        Assert.Single(Journeys(await MeAsync(second)));
        (await emu.Consumer.PostJsonAsync($"/queues/{queueId}/leave", null, second.Headers)).EnsureStatus(200);
        Assert.Equal("left", Journeys(await MeAsync(second))[0]!["sequence"]!["consumer"]!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Consumers_me_shows_a_queue_again_once_the_clock_reaches_its_moved_openAt()
    {
        var (org, experienceId, queueId) = await SeededAsync();
        var now = await emu.FreezeClockAsync();
        var guest = await emu.GuestOfAsync(org);
        (await emu.Consumer.PostJsonAsync($"/queues/{queueId}/enter", null, guest.Headers)).EnsureStatus(200);
        var moved = await emu.Admin.SendJsonAsync(HttpMethod.Put, $"/queues/{queueId}",
            new JsonObject { ["openAt"] = now.AddMinutes(10).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'") }, Sk(org.SecretKey));
        moved.EnsureStatus(200);
        Assert.Empty(Journeys(await MeAsync(guest))); // a queue that has not opened shows no participation
        Assert.Empty(Journeys(await MeAsync(guest)));

        await emu.AdvanceClockAsync(11 * 60); // (the access token lives 15 minutes)
        var journey = Assert.Single(Journeys(await MeAsync(guest)))!;
        Assert.Equal(experienceId, journey["experienceId"]!.GetValue<string>());
    }

    [Fact]
    public async Task Consumers_me_shows_an_experience_entered_and_left()
    {
        var (org, experienceId, _) = await SeededAsync();
        var guest = await emu.GuestOfAsync(org);
        Assert.Empty(Journeys(await MeAsync(guest)));
        Assert.Empty(Journeys(await MeAsync(guest)));

        (await emu.Consumer.PostJsonAsync($"/experiences/{experienceId}/enter", null, guest.Headers)).EnsureStatus(200);
        Assert.Equal(experienceId, Assert.Single(Journeys(await MeAsync(guest)))!["experienceId"]!.GetValue<string>());

        (await emu.Consumer.SendJsonAsync(HttpMethod.Delete, $"/experiences/{experienceId}/leave", null, guest.Headers)).EnsureStatus(200);
        Assert.Empty(Journeys(await MeAsync(guest)));
    }

    [Fact]
    public async Task An_experience_edited_by_the_admin_is_served_edited_on_the_next_request()
    {
        var (org, experienceId, queueId) = await SeededAsync();
        var before = await ExperienceAsync(org, experienceId);
        Assert.Equal("Sneaker Drop — Queue", before["name"]!.GetValue<string>());
        Assert.Equal(before.ToJsonString(), (await ExperienceAsync(org, experienceId)).ToJsonString());

        (await emu.Admin.SendJsonAsync(HttpMethod.Put, $"/experiences/{experienceId}", new JsonObject { ["name"] = "Sneaker Drop — renamed" },
            Sk(org.SecretKey))).EnsureStatus(200);
        Assert.Equal("Sneaker Drop — renamed", (await ExperienceAsync(org, experienceId))["name"]!.GetValue<string>());

        (await emu.Admin.SendJsonAsync(HttpMethod.Put, $"/queues/{queueId}", new JsonObject { ["name"] = "Renamed queue", ["admitRate"] = 5 },
            Sk(org.SecretKey))).EnsureStatus(200);
        var queue = (await ExperienceAsync(org, experienceId))["sequences"]![0]!["queues"]![0]!;
        Assert.Equal("Renamed queue", queue["name"]!.GetValue<string>());
        Assert.Equal(5, queue["admitRate"]!.GetValue<double>());

        (await emu.Admin.SendJsonAsync(HttpMethod.Delete, $"/experiences/{experienceId}", null, Sk(org.SecretKey))).EnsureStatus(200);
        (await emu.Consumer.GetAsync($"/experiences/{experienceId}", Pk(org.PublishableKey))).EnsureStatus(404);
    }

    [Fact]
    public async Task After_a_reset_the_seeded_experience_is_served_again_and_old_sessions_are_refused()
    {
        var (org, experienceId, _) = await SeededAsync();
        var guest = await emu.GuestOfAsync(org);
        Assert.Empty(Journeys(await MeAsync(guest)));
        Assert.Empty(Journeys(await MeAsync(guest)));
        (await emu.Admin.SendJsonAsync(HttpMethod.Put, $"/experiences/{experienceId}", new JsonObject { ["name"] = "Before reset" },
            Sk(org.SecretKey))).EnsureStatus(200);
        Assert.Equal("Before reset", (await ExperienceAsync(org, experienceId))["name"]!.GetValue<string>());
        Assert.Equal("Before reset", (await ExperienceAsync(org, experienceId))["name"]!.GetValue<string>());

        await emu.ResetAsync();
        Assert.Equal("Sneaker Drop — Queue", (await ExperienceAsync(org, experienceId))["name"]!.GetValue<string>());
        Assert.Equal(401, (await emu.Consumer.GetAsync("/consumers/me", guest.Headers)).Code);
    }

    [Fact]
    public async Task A_rotated_secret_key_is_refused_on_the_next_request()
    {
        var (org, _, _) = await SeededAsync();
        (await emu.Admin.GetAsync("/experiences?first=1", Sk(org.SecretKey))).EnsureStatus(200);
        (await emu.Admin.GetAsync("/experiences?first=1", Sk(org.SecretKey))).EnsureStatus(200);

        var rotated = (await emu.Admin.PostJsonAsync("/organizations/secret-key/rotate", null, Sk(org.SecretKey))).EnsureStatus(200);
        Assert.Equal(401, (await emu.Admin.GetAsync("/experiences?first=1", Sk(org.SecretKey))).Code);
        (await emu.Admin.GetAsync("/experiences?first=1", Sk(rotated["secretKey"]!.GetValue<string>()))).EnsureStatus(200);
    }
}
