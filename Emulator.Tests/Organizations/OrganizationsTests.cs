using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Auth;
using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Organizations;

/// <summary>
/// <c>GET /_emulator/organizations</c>: the seed's organizations with well-known keys, identical on every instance; and
/// determinism: same seed + same calls + frozen clock ⇒ same ids and tokens.
/// </summary>
public sealed class OrganizationsTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    private static readonly string[] Fields =
        ["organizationId", "name", "publishableKey", "secretKey", "livePublishableKey", "liveSecretKey", "webhookSecret", "customerTokenSecret"];

    [Fact]
    public async Task Organizations_have_the_documented_shape()
    {
        await emu.ResetAsync();
        var body = await emu.Control.GetJsonAsync("/_emulator/organizations");
        var orgs = body["organizations"]!.AsArray();
        Assert.Equal(["Fanfare Demo", "Acme Sneakers"], orgs.Select(o => o!["name"]!.GetValue<string>()));
        foreach (var o in orgs)
        {
            foreach (var f in Fields)
                Assert.False(string.IsNullOrEmpty(o![f]?.GetValue<string>()), $"{f} missing in {o!.ToJsonString()}");
            Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", o!["organizationId"]!.GetValue<string>());
            Assert.StartsWith("pk_test_", o["publishableKey"]!.GetValue<string>());
            Assert.StartsWith("sk_test_", o["secretKey"]!.GetValue<string>());
            Assert.StartsWith("pk_live_", o["livePublishableKey"]!.GetValue<string>());
            Assert.StartsWith("sk_live_", o["liveSecretKey"]!.GetValue<string>());
            Assert.StartsWith("whsec_", o["webhookSecret"]!.GetValue<string>());
        }
        var keys = orgs.SelectMany(o => Fields.Skip(2).Select(f => o![f]!.GetValue<string>())).ToList();
        Assert.Equal(keys.Count, keys.Distinct().Count());
    }

    [Fact]
    public async Task Two_instances_have_identical_organization_ids_and_keys()
    {
        await emu.ResetAsync();
        await using var other = await EmulatorServer.StartAsync();
        var a = await emu.Control.GetJsonAsync("/_emulator/organizations");
        var b = await other.Control.GetJsonAsync("/_emulator/organizations");
        foreach (var (x, y) in a["organizations"]!.AsArray().Zip(b["organizations"]!.AsArray()))
            foreach (var f in Fields)
                Assert.Equal(x![f]!.GetValue<string>(), y![f]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(await emu.Consumer.GetJsonAsync("/.well-known/jwks.json"), await other.Consumer.GetJsonAsync("/.well-known/jwks.json")));
    }

    [Fact]
    public async Task Same_seed_same_calls_and_a_frozen_clock_give_the_same_ids_and_tokens()
    {
        var at = new DateTimeOffset(2031, 7, 4, 16, 30, 0, TimeSpan.Zero);
        await using var one = await EmulatorServer.StartAsync();
        await using var two = await EmulatorServer.StartAsync();

        async Task<List<string>> Script(EmulatorServer e)
        {
            await e.FreezeClockAsync(at);
            var org = await e.DemoOrgAsync();
            var values = new List<string>();
            var guest = (await e.PostGuestAsync(org.PublishableKey)).EnsureStatus(200);
            values.Add(guest["session"]["consumerId"].GetValue<string>());
            values.Add(guest["accessToken"].GetValue<string>());
            values.Add(guest["refreshToken"].GetValue<string>());
            var signedIn = await e.EmailSignInAsync(org.PublishableKey, "twin@example.com", guest["accessToken"].GetValue<string>());
            values.Add(signedIn["session"]!["consumerId"]!.GetValue<string>());
            values.Add(signedIn["accessToken"]!.GetValue<string>());
            values.Add(await e.LatestCodeAsync("twin@example.com"));
            var authorize = (await e.AuthorizeAsync(org.SecretKey, AuthSteps.Identity("twin"))).EnsureStatus(200);
            values.Add(authorize["exchangeCode"].GetValue<string>());
            var exchanged = (await e.ExchangeAsync(org.PublishableKey, authorize["exchangeCode"].GetValue<string>())).EnsureStatus(200);
            values.Add(exchanged["session"]["consumerId"].GetValue<string>());
            values.Add(exchanged["accessToken"].GetValue<string>());
            return values;
        }

        var a = await Script(one);
        var b = await Script(two);
        Assert.Equal(a, b);
        Assert.Equal(a[0], a[3]); // the guest signed in keeps its consumerId
        var tokens = new[] { a[1], a[2], a[4], a[8] };
        Assert.Equal(tokens.Length, tokens.Distinct().Count()); // and the values are not all one constant
    }
}
