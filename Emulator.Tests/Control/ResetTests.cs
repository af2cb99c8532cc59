using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Auth;
using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Control;

/// <summary><c>POST /_emulator/reset</c>: back to the seed state — data, inbox, SMS and clock.</summary>
public sealed class ResetTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    [Fact]
    public async Task Reset_restores_the_seed_state()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        // Consumers created after seeding, in 2040, so that a re-created one cannot share their ids.
        await emu.FreezeClockAsync(new DateTimeOffset(2040, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var signedIn = await emu.EmailSignInAsync(org.PublishableKey, "ephemeral@example.com");
        var consumerId = signedIn["session"]!["consumerId"]!.GetValue<string>();
        var (_, guestAccess, guestRefresh) = await emu.GuestAsync(org.PublishableKey);
        Assert.Equal("created", (await emu.AuthorizeAsync(org.SecretKey, AuthSteps.Identity("ephemeral"))).EnsureStatus(200)["resolution"].GetValue<string>());
        (await emu.RequestOtpAsync(org.PublishableKey, new JsonObject { ["phone"] = "+12025550123" })).EnsureStatus(200);
        Assert.NotEmpty((await emu.Control.GetJsonAsync("/_emulator/inbox"))["messages"]!.AsArray());
        Assert.NotEmpty((await emu.Control.GetJsonAsync("/_emulator/sms"))["messages"]!.AsArray());

        var reset = await emu.Control.PostAsync("/_emulator/reset", null);
        Assert.Equal(200, (int)reset.StatusCode);

        // The clock is back on system time.
        var clock = await emu.Control.GetJsonAsync("/_emulator/clock");
        Assert.Equal("system", clock["mode"]!.GetValue<string>());
        // Inbox and SMS are empty.
        Assert.Empty((await emu.Control.GetJsonAsync("/_emulator/inbox"))["messages"]!.AsArray());
        Assert.Empty((await emu.Control.GetJsonAsync("/_emulator/sms"))["messages"]!.AsArray());
        // Sessions, identities and consumers made after seeding are gone.
        (await emu.LogoutAsync(org.PublishableKey, guestAccess)).AssertBody(401, """{"error":"Authentication required"}""");
        (await emu.RefreshAsync(org.PublishableKey, guestRefresh)).AssertBody(401, """{"error":"invalid refresh token"}""");
        Assert.Equal("created", (await emu.AuthorizeAsync(org.SecretKey, AuthSteps.Identity("ephemeral"))).EnsureStatus(200)["resolution"].GetValue<string>());
        var again = await emu.EmailSignInAsync(org.PublishableKey, "ephemeral@example.com");
        Assert.NotEqual(consumerId, again["session"]!["consumerId"]!.GetValue<string>());
        // The seed is back: same organizations and keys, seeded consumers with their fixed codes.
        Assert.Equal(org, await emu.DemoOrgAsync());
        (await emu.RequestOtpAsync(org.PublishableKey, new JsonObject { ["email"] = "demo@fanfare.test" })).EnsureStatus(200);
        var demo = (await emu.VerifyOtpAsync(org.PublishableKey, new JsonObject { ["email"] = "demo@fanfare.test", ["code"] = "123456" })).EnsureStatus(200);
        Assert.Equal("demo@fanfare.test", demo["session"]["email"].GetValue<string>());
    }

    [Fact]
    public async Task Reset_twice_gives_the_same_ids_for_the_same_calls()
    {
        var at = new DateTimeOffset(2032, 2, 2, 0, 0, 0, TimeSpan.Zero);
        async Task<string> GuestAfterReset()
        {
            await emu.ResetAsync();
            await emu.FreezeClockAsync(at);
            var org = await emu.DemoOrgAsync();
            return (await emu.PostGuestAsync(org.PublishableKey)).EnsureStatus(200)["accessToken"].GetValue<string>();
        }
        Assert.Equal(await GuestAfterReset(), await GuestAfterReset());
    }
}
