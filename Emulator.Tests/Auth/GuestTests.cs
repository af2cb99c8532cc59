using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Auth;

/// <summary>consumer-part1.md <c>POST /auth/guest</c>, behavior.md §2.1 (guest session shape).</summary>
public sealed class GuestTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    [Fact]
    public async Task Guest_session_has_the_documented_shape_and_expires_in_one_hour()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var now = await emu.FreezeClockAsync(new DateTimeOffset(2030, 3, 1, 12, 0, 0, TimeSpan.Zero));

        var r = (await emu.PostGuestAsync(org.PublishableKey)).EnsureStatus(200);
        var session = r["session"].AsObject();
        Assert.Equal("guest", session["type"]!.GetValue<string>());
        var consumerId = session["consumerId"]!.GetValue<string>();
        Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", consumerId); // UUIDv7
        Assert.Equal(consumerId, session["guestId"]!.GetValue<string>());
        Assert.Equal(now.AddHours(1), DateTimeOffset.Parse(session["expiresAt"]!.GetValue<string>()));
        Assert.Null(session["email"]);
        Assert.Null(session["phone"]);
        Assert.Equal(2592000, r["refreshTokenTtlSeconds"].GetValue<int>());
        foreach (var token in new[] { "accessToken", "refreshToken", "beaconToken" })
            Assert.Equal(3, r[token].GetValue<string>().Split('.').Length);
        Assert.Equal(consumerId, Jwt.Payload(r["beaconToken"].GetValue<string>())["consumerId"]!.GetValue<string>());
    }

    [Fact]
    public async Task Each_guest_call_creates_a_new_consumer()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var a = (await emu.PostGuestAsync(org.PublishableKey)).EnsureStatus(200)["session"]["consumerId"].GetValue<string>();
        var b = (await emu.PostGuestAsync(org.PublishableKey)).EnsureStatus(200)["session"]["consumerId"].GetValue<string>();
        Assert.NotEqual(a, b);
    }
}
