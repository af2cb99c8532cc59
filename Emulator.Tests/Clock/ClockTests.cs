using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Auth;
using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Clock;

/// <summary><c>/_emulator/clock</c>: read, advance, freeze, set, reset; bad input is the std 400.</summary>
public sealed class ClockTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    private static DateTimeOffset Now(ApiResponse r) => DateTimeOffset.Parse(r["now"].GetValue<string>());

    [Fact]
    public async Task Clock_state_has_now_mode_and_offset()
    {
        await emu.ResetAsync();
        var r = (await emu.Control.GetAsync("/_emulator/clock", null)).EnsureStatus(200);
        Assert.Equal(["mode", "now", "offsetSeconds"], r.Json!.AsObject().Select(p => p.Key).Order());
        Assert.Equal("system", r["mode"].GetValue<string>());
        Assert.Equal(0, r["offsetSeconds"].GetValue<double>());
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$", r["now"].GetValue<string>());
    }

    [Fact]
    public async Task Freeze_at_an_instant_then_advance_by_seconds_and_by_iso_duration()
    {
        await emu.ResetAsync();
        var at = new DateTimeOffset(2030, 12, 24, 18, 0, 0, TimeSpan.Zero);
        var frozen = (await emu.Control.PostJsonAsync("/_emulator/clock/freeze", new JsonObject { ["at"] = "2030-12-24T18:00:00Z" })).EnsureStatus(200);
        Assert.Equal("frozen", frozen["mode"].GetValue<string>());
        Assert.Equal(at, Now(frozen));
        Assert.Equal(at, Now((await emu.Control.GetAsync("/_emulator/clock", null)).EnsureStatus(200)));

        var bySeconds = (await emu.Control.PostJsonAsync("/_emulator/clock/advance", new JsonObject { ["seconds"] = 90 })).EnsureStatus(200);
        Assert.Equal(at.AddSeconds(90), Now(bySeconds));
        Assert.Equal("frozen", bySeconds["mode"].GetValue<string>());

        var byDuration = (await emu.Control.PostJsonAsync("/_emulator/clock/advance", new JsonObject { ["duration"] = "PT10M" })).EnsureStatus(200);
        Assert.Equal(at.AddSeconds(90 + 600), Now(byDuration));

        // Freezing in the past is allowed too.
        var back = (await emu.Control.PostJsonAsync("/_emulator/clock/freeze", new JsonObject { ["at"] = "2020-01-01T00:00:00-05:00" })).EnsureStatus(200);
        Assert.Equal(new DateTimeOffset(2020, 1, 1, 5, 0, 0, TimeSpan.Zero), Now(back));
    }

    [Fact]
    public async Task The_clock_drives_the_timestamps_of_the_API()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await emu.FreezeClockAsync(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await emu.Control.PostJsonAsync("/_emulator/clock/advance", new JsonObject { ["duration"] = "P1DT2H" });
        var guest = (await emu.PostGuestAsync(org.PublishableKey)).EnsureStatus(200);
        Assert.Equal(new DateTimeOffset(2030, 1, 2, 3, 0, 0, TimeSpan.Zero), DateTimeOffset.Parse(guest["session"]["expiresAt"].GetValue<string>()));
    }

    [Fact]
    public async Task Set_moves_the_clock_and_reset_returns_to_system_time()
    {
        await emu.ResetAsync();
        var target = DateTimeOffset.UtcNow.AddDays(3);
        var set = (await emu.Control.PostJsonAsync("/_emulator/clock/set", new JsonObject { ["now"] = target.ToString("O") })).EnsureStatus(200);
        Assert.Equal("offset", set["mode"].GetValue<string>());
        Assert.True(set["offsetSeconds"].GetValue<double>() > 2.9 * 86400, set.Text);
        Assert.True(Now(set) >= target.AddSeconds(-1), set.Text);

        var frozen = await emu.FreezeClockAsync(new DateTimeOffset(2035, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var setFrozen = (await emu.Control.PostJsonAsync("/_emulator/clock/set", new JsonObject { ["now"] = "2034-06-01T00:00:00Z" })).EnsureStatus(200);
        Assert.Equal("frozen", setFrozen["mode"].GetValue<string>());
        Assert.Equal(new DateTimeOffset(2034, 6, 1, 0, 0, 0, TimeSpan.Zero), Now(setFrozen));
        Assert.NotEqual(frozen, Now(setFrozen));

        var reset = (await emu.Control.PostJsonAsync("/_emulator/clock/reset", null)).EnsureStatus(200);
        Assert.Equal("system", reset["mode"].GetValue<string>());
        Assert.Equal(0, reset["offsetSeconds"].GetValue<double>());
        Assert.True(Math.Abs((Now(reset) - DateTimeOffset.UtcNow).TotalMinutes) < 5, reset.Text);
    }

    [Theory]
    [InlineData("/_emulator/clock/advance", "{}")]
    [InlineData("/_emulator/clock/advance", "{\"seconds\":\"ten\"}")]
    [InlineData("/_emulator/clock/advance", "{\"seconds\":-5}")]
    [InlineData("/_emulator/clock/advance", "{\"duration\":\"ten minutes\"}")]
    [InlineData("/_emulator/clock/advance", "{\"duration\":\"-PT1M\"}")]
    [InlineData("/_emulator/clock/advance", "{\"seconds\":")]
    [InlineData("/_emulator/clock/advance", "[]")]
    [InlineData("/_emulator/clock/advance", "{\"seconds\":1e300}")]
    [InlineData("/_emulator/clock/advance", "{\"seconds\":1e12}")]
    [InlineData("/_emulator/clock/advance", "{\"duration\":\"P99999999Y\"}")]
    [InlineData("/_emulator/clock/advance", "{\"duration\":\"P9000Y\"}")]
    [InlineData("/_emulator/clock/freeze", "{\"at\":\"yesterday\"}")]
    [InlineData("/_emulator/clock/freeze", "{\"at\":5}")]
    [InlineData("/_emulator/clock/set", "{}")]
    [InlineData("/_emulator/clock/set", "{\"now\":null}")]
    [InlineData("/_emulator/clock/set", "{\"now\":\"2030-13-45T99:00:00Z\"}")]
    public async Task Bad_input_is_a_validation_error_and_leaves_the_clock_alone(string path, string raw)
    {
        await emu.ResetAsync();
        var at = await emu.FreezeClockAsync(new DateTimeOffset(2030, 2, 2, 2, 2, 2, TimeSpan.Zero));
        (await emu.Control.PostRawAsync(path, raw)).AssertValidationError();
        var state = (await emu.Control.GetAsync("/_emulator/clock", null)).EnsureStatus(200);
        Assert.Equal(at, Now(state));
        Assert.Equal("frozen", state["mode"].GetValue<string>());
    }
}
