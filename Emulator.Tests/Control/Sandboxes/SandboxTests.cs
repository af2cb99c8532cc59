using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Auth;
using Fanfare.Emulator.Tests.Distributions;
using Fanfare.Emulator.Tests.Infrastructure;
using static Fanfare.Emulator.Tests.Infrastructure.HttpClientExtensions;

namespace Fanfare.Emulator.Tests.Control.Sandboxes;

/// <summary>
/// Sandboxes (issue 17 §1): organizations of their own with deterministic keys and a clock of their own; moving one
/// sandbox's clock changes nothing in another sandbox or in the default organizations.
/// </summary>
public sealed class SandboxTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    private static readonly DateTimeOffset T0 = new(2031, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private async Task<JsonNode> CreateAsync(string name, DateTimeOffset? frozenAt = null)
    {
        var body = new JsonObject { ["name"] = name, ["seed"] = "default" };
        if (frozenAt is { } at) body["clock"] = new JsonObject { ["frozenAt"] = at.ToString("O") };
        return (await emu.Control.PostJsonAsync("/_emulator/sandboxes", body)).EnsureStatus(201).Json!;
    }

    private static OrgKeys Keys(JsonNode sandbox)
    {
        var o = sandbox["organizations"]![0]!;
        string S(string k) => o[k]!.GetValue<string>();
        return new OrgKeys(S("organizationId"), S("name"), S("publishableKey"), S("secretKey"), S("webhookSecret"),
            S("customerTokenSecret"), S("livePublishableKey"), S("liveSecretKey"));
    }

    private Task<ApiResponse> MeAsync(string pk, string access) => emu.Consumer.GetAsync("/consumers/me", Pk(pk, access));

    private async Task DeleteAsync(string id) =>
        Assert.Equal(204, (await emu.Control.SendAsync(HttpMethod.Delete, $"/_emulator/sandboxes/{id}", null)).Code);

    [Fact]
    public async Task Sandboxes_get_their_own_deterministic_keys_stable_across_delete_and_recreate()
    {
        var def = await emu.DemoOrgAsync();
        var a = await CreateAsync("keys-a");
        var b = await CreateAsync("keys-b");
        var ka = Keys(a); var kb = Keys(b);
        Assert.StartsWith("sbx_", a["id"]!.GetValue<string>());
        Assert.Equal("keys-a", a["name"]!.GetValue<string>());
        Assert.Equal("system", a["clock"]!["mode"]!.GetValue<string>());
        Assert.StartsWith("pk_test_", ka.PublishableKey);
        Assert.Distinct(new[] { def.PublishableKey, ka.PublishableKey, kb.PublishableKey });
        Assert.Distinct(new[] { def.SecretKey, ka.SecretKey, kb.SecretKey });
        Assert.Distinct(new[] { def.Id, ka.Id, kb.Id });

        var list = await emu.Control.GetJsonAsync("/_emulator/sandboxes");
        Assert.Contains(list["sandboxes"]!.AsArray(), s => s!["id"]!.GetValue<string>() == a["id"]!.GetValue<string>());
        Assert.DoesNotContain(await emu.OrganizationsAsync(), o => o.Id == ka.Id || o.PublishableKey == ka.PublishableKey);
        Assert.Equal(409, (await emu.Control.PostJsonAsync("/_emulator/sandboxes", new JsonObject { ["name"] = "keys-a" })).Code);

        await DeleteAsync(a["id"]!.GetValue<string>());
        Assert.Equal(404, (await emu.Control.GetAsync($"/_emulator/sandboxes/{a["id"]}", null)).Code);
        var again = await CreateAsync("keys-a");
        Assert.Equal(a["id"]!.GetValue<string>(), again["id"]!.GetValue<string>());
        Assert.Equal(ka, Keys(again));
        await DeleteAsync(again["id"]!.GetValue<string>());
        await DeleteAsync(b["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Advancing_one_sandbox_by_30_days_expires_its_tokens_only()
    {
        var def = await emu.DemoOrgAsync();
        var a = await CreateAsync("clock-a", T0);
        var b = await CreateAsync("clock-b");
        var ka = Keys(a); var kb = Keys(b);
        var aId = a["id"]!.GetValue<string>();
        Assert.Equal("frozen", a["clock"]!["mode"]!.GetValue<string>());
        Assert.Equal(T0, DateTimeOffset.Parse(a["clock"]!["now"]!.GetValue<string>()));

        var (_, accessA, _) = await emu.GuestAsync(ka.PublishableKey);
        var (_, accessB, _) = await emu.GuestAsync(kb.PublishableKey);
        var (_, accessD, _) = await emu.GuestAsync(def.PublishableKey);
        // A's token was issued on A's clock.
        Assert.Equal(T0.ToUnixTimeSeconds(), Jwt.Payload(accessA)["iat"]!.GetValue<long>());
        Assert.True(Jwt.Payload(accessB)["iat"]!.GetValue<long>() < T0.ToUnixTimeSeconds());
        (await MeAsync(ka.PublishableKey, accessA)).EnsureStatus(200);

        var moved = (await emu.Control.PostJsonAsync($"/_emulator/sandboxes/{aId}/clock/advance", new JsonObject { ["seconds"] = 30 * 86400 })).EnsureStatus(200);
        Assert.Equal(T0.AddDays(30), DateTimeOffset.Parse(moved["now"].GetValue<string>()));
        Assert.Equal("frozen", moved["mode"].GetValue<string>());

        Assert.Equal(401, (await MeAsync(ka.PublishableKey, accessA)).Code);
        (await MeAsync(kb.PublishableKey, accessB)).EnsureStatus(200);
        (await MeAsync(def.PublishableKey, accessD)).EnsureStatus(200);
        var global = await emu.Control.GetJsonAsync("/_emulator/clock");
        Assert.Equal("system", global["mode"]!.GetValue<string>());
        var bClock = await emu.Control.GetJsonAsync($"/_emulator/sandboxes/{b["id"]}/clock");
        Assert.Equal("system", bClock["mode"]!.GetValue<string>());

        await DeleteAsync(aId);
        await DeleteAsync(b["id"]!.GetValue<string>());
    }

    private async Task<(string QueueId, Guest Guest)> QueueWithGuestAsync(OrgKeys org)
    {
        var sequenceId = emu.CreateSequence(org);
        var q = (await emu.Admin.PostJsonAsync("/queues", new JsonObject
        {
            ["sequenceId"] = sequenceId, ["name"] = "Launch queue", ["admitRate"] = 60, ["admissionExpirationSeconds"] = 300,
        }, Sk(org.SecretKey))).EnsureStatus(200);
        var queueId = q["id"].GetValue<string>();
        var guest = await emu.GuestOfAsync(org);
        Assert.Equal("QUEUED", (await emu.Consumer.PostJsonAsync($"/queues/{queueId}/enter", null, guest.Headers)).EnsureStatus(200)["status"].GetValue<string>());
        return (queueId, guest);
    }

    private async Task<string> StatusAsync(string queueId, Guest g) =>
        (await emu.Consumer.GetAsync($"/queues/{queueId}/status", g.Headers)).EnsureStatus(200)["status"].GetValue<string>();

    [Fact]
    public async Task A_queue_admits_on_its_sandboxs_advance_while_another_sandboxs_queue_does_not_move()
    {
        var a = await CreateAsync("queue-a", T0);
        var b = await CreateAsync("queue-b", T0);
        var (qa, ga) = await QueueWithGuestAsync(Keys(a));
        var (qb, gb) = await QueueWithGuestAsync(Keys(b));

        (await emu.Control.PostJsonAsync($"/_emulator/sandboxes/{a["id"]}/clock/advance", new JsonObject { ["seconds"] = 5 })).EnsureStatus(200);
        Assert.Equal("GRANTED", await StatusAsync(qa, ga));
        Assert.Equal("QUEUED", await StatusAsync(qb, gb));

        // The global clock does not run a sandbox's work either.
        await emu.AdvanceClockAsync(60);
        Assert.Equal("QUEUED", await StatusAsync(qb, gb));

        (await emu.Control.PostJsonAsync($"/_emulator/sandboxes/{b["id"]}/clock/advance", new JsonObject { ["seconds"] = 5 })).EnsureStatus(200);
        Assert.Equal("GRANTED", await StatusAsync(qb, gb));

        await DeleteAsync(a["id"]!.GetValue<string>());
        await DeleteAsync(b["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Delete_removes_a_sandboxs_data_and_keys_and_leaves_the_others_reset_reseeds()
    {
        var a = await CreateAsync("del-a", T0);
        var b = await CreateAsync("del-b", T0);
        var ka = Keys(a); var kb = Keys(b);
        var seededB = (await emu.Admin.GetAsync("/consumers", Sk(kb.SecretKey))).EnsureStatus(200).Text;
        var (qa, ga) = await QueueWithGuestAsync(ka);
        var (qb, gb) = await QueueWithGuestAsync(kb);
        Assert.NotEqual(seededB, (await emu.Admin.GetAsync("/consumers", Sk(kb.SecretKey))).EnsureStatus(200).Text);

        // reset: B's queue (not in the seed) is gone, the seed's data is back, the clock is at its initial instant
        (await emu.Control.PostJsonAsync($"/_emulator/sandboxes/{b["id"]}/clock/advance", new JsonObject { ["seconds"] = 3600 })).EnsureStatus(200);
        var reset = (await emu.Control.PostJsonAsync($"/_emulator/sandboxes/{b["id"]}/reset")).EnsureStatus(200);
        Assert.Equal(T0, DateTimeOffset.Parse(reset["clock"]["now"]!.GetValue<string>()));
        Assert.Equal(kb, Keys(reset.Json!));
        Assert.Equal(404, (await emu.Admin.GetAsync($"/queues/{qb}", Sk(kb.SecretKey))).Code);
        Assert.Equal(seededB, (await emu.Admin.GetAsync("/consumers", Sk(kb.SecretKey))).EnsureStatus(200).Text);

        await DeleteAsync(a["id"]!.GetValue<string>());
        Assert.Equal(401, (await emu.Admin.GetAsync("/consumers", Sk(ka.SecretKey))).Code);
        Assert.Equal(401, (await emu.Consumer.GetAsync($"/queues/{qa}/status", ga.Headers)).Code);
        Assert.Equal(404, (await emu.Control.SendAsync(HttpMethod.Delete, $"/_emulator/sandboxes/{a["id"]}", null)).Code);
        // B is untouched by A's deletion
        (await emu.Admin.GetAsync("/consumers", Sk(kb.SecretKey))).EnsureStatus(200);
        Assert.Equal(b["id"]!.GetValue<string>(), (await emu.Control.GetJsonAsync($"/_emulator/sandboxes/{b["id"]}"))["id"]!.GetValue<string>());
        await DeleteAsync(b["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Fault_rules_match_a_sandbox_and_the_journal_names_it()
    {
        var a = await CreateAsync("faults-a");
        var b = await CreateAsync("faults-b");
        var aId = a["id"]!.GetValue<string>();
        (await emu.Control.PostJsonAsync("/_emulator/faults", new JsonObject
        {
            ["match"] = new JsonObject { ["sandboxId"] = aId }, ["fault"] = new JsonObject { ["status"] = 503 },
        })).EnsureStatus(201);
        try
        {
            Assert.Equal(503, (await emu.Admin.GetAsync("/consumers", Sk(Keys(a).SecretKey))).Code);
            (await emu.Admin.GetAsync("/consumers", Sk(Keys(b).SecretKey))).EnsureStatus(200);
            var journal = await emu.Control.GetJsonAsync("/_emulator/requests?limit=5");
            Assert.Contains(journal["requests"]!.AsArray(), r => r!["sandboxId"]?.GetValue<string>() == aId && r["status"]!.GetValue<int>() == 503);
        }
        finally
        {
            await emu.Control.SendAsync(HttpMethod.Delete, "/_emulator/faults", null);
            await DeleteAsync(aId);
            await DeleteAsync(b["id"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task Bad_input_is_a_validation_error()
    {
        var r = await emu.Control.PostJsonAsync("/_emulator/sandboxes", new JsonObject { ["seed"] = "nope" });
        Assert.Equal(400, r.Code);
        Assert.Equal("validation_error", r["error"].GetValue<string>());
        r = await emu.Control.PostJsonAsync("/_emulator/sandboxes", new JsonObject { ["clock"] = new JsonObject { ["frozenAt"] = "x" } });
        Assert.Equal(400, r.Code);
        Assert.Equal(404, (await emu.Control.PostJsonAsync("/_emulator/sandboxes/sbx_nope/clock/advance", new JsonObject { ["seconds"] = 1 })).Code);
    }
}
