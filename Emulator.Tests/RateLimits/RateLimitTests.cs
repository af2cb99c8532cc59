using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Auth;
using Fanfare.Emulator.Tests.Distributions;
using Fanfare.Emulator.Tests.Infrastructure;
using static Fanfare.Emulator.Tests.Infrastructure.HttpClientExtensions;

namespace Fanfare.Emulator.Tests.RateLimits;

/// <summary>Issue 10 §2 / behavior.md §5: X-RateLimit-* on every API response, windows on the emulator clock, only the
/// authentication class enforced by default, <c>POST /_emulator/rate-limits</c> to enforce, scale or set limits.</summary>
public sealed class RateLimitTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    private static int H(ApiResponse r, string name) =>
        r.Headers.TryGetValues(name, out var v) ? int.Parse(v.First()) : throw new Xunit.Sdk.XunitException($"{name} missing on {r.Code} {r.Text}");

    private async Task<string> SeededQueueAsync(OrgKeys org) =>
        (await emu.Admin.GetJsonAsync("/queues", Sk(org.SecretKey)))["data"]!.AsArray()
            .First(q => q!["name"]!.GetValue<string>() == "Sneaker Drop queue")!["id"]!.GetValue<string>();

    [Fact]
    public async Task Every_api_response_carries_the_documented_limit_and_a_live_count()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var now = await emu.FreezeClockAsync(new DateTimeOffset(2030, 5, 5, 10, 0, 30, TimeSpan.Zero));
        var first = (await emu.Admin.GetAsync("/queues", Sk(org.SecretKey))).EnsureStatus(200);
        Assert.Equal(1000, H(first, "X-RateLimit-Limit"));
        Assert.Equal(999, H(first, "X-RateLimit-Remaining"));
        Assert.Equal(new DateTimeOffset(2030, 5, 5, 10, 1, 0, TimeSpan.Zero).ToUnixTimeSeconds(), H(first, "X-RateLimit-Reset"));
        var second = (await emu.Admin.GetAsync("/queues", Sk(org.SecretKey))).EnsureStatus(200);
        Assert.Equal(998, H(second, "X-RateLimit-Remaining"));

        var write = await emu.Admin.PostJsonAsync("/queues", new JsonObject(), Sk(org.SecretKey)); // a 400 is an API response too
        Assert.Equal(400, write.Code);
        Assert.Equal(500, H(write, "X-RateLimit-Limit"));
        var status = await emu.Consumer.GetAsync($"/queues/{await SeededQueueAsync(org)}", Pk(org.PublishableKey));
        Assert.Equal(5000, H(status, "X-RateLimit-Limit"));
        var notFound = await emu.Consumer.GetAsync("/no/such/thing", Pk(org.PublishableKey));
        Assert.Equal(404, notFound.Code);
        Assert.Equal(5000, H(notFound, "X-RateLimit-Limit"));

        // exempt: health and the control plane
        Assert.False((await emu.Admin.GetAsync("/health", null)).Headers.Contains("X-RateLimit-Limit"));
        Assert.False((await emu.Admin.GetAsync("/_emulator/clock", null)).Headers.Contains("X-RateLimit-Limit"));

        // The window is the emulator clock's minute: 30 s later it resets.
        await emu.AdvanceClockAsync(30);
        Assert.Equal(999, H((await emu.Admin.GetAsync("/queues", Sk(org.SecretKey))).EnsureStatus(200), "X-RateLimit-Remaining"));
        _ = now;
    }

    [Fact]
    public async Task The_otp_429_has_the_documented_body_and_headers()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await emu.FreezeClockAsync(new DateTimeOffset(2030, 5, 5, 10, 0, 15, TimeSpan.Zero));
        for (int i = 0; i < 10; i++)
        {
            var ok = (await emu.RequestOtpAsync(org.PublishableKey, new JsonObject { ["email"] = "Spam@Example.com" })).EnsureStatus(200);
            Assert.Equal(10, H(ok, "X-RateLimit-Limit"));
            Assert.Equal(9 - i, H(ok, "X-RateLimit-Remaining"));
        }
        var limited = await emu.RequestOtpAsync(org.PublishableKey, new JsonObject { ["email"] = "spam@example.com" });
        Assert.Equal(429, limited.Code);
        Assert.Equal("""{"error":"Rate limit exceeded","retryAfter":45}""", limited.Json!.ToJsonString());
        Assert.Equal("45", limited.Headers.GetValues("Retry-After").Single());
        Assert.Equal(10, H(limited, "X-RateLimit-Limit"));
        Assert.Equal(0, H(limited, "X-RateLimit-Remaining"));
        Assert.Equal(new DateTimeOffset(2030, 5, 5, 10, 1, 0, TimeSpan.Zero).ToUnixTimeSeconds(), H(limited, "X-RateLimit-Reset"));
        // per recipient
        (await emu.RequestOtpAsync(org.PublishableKey, new JsonObject { ["email"] = "other@example.com" })).EnsureStatus(200);
        await emu.AdvanceClockAsync(45);
        (await emu.RequestOtpAsync(org.PublishableKey, new JsonObject { ["email"] = "spam@example.com" })).EnsureStatus(200);
    }

    [Fact]
    public async Task Only_authentication_is_enforced_by_default_and_the_control_plane_turns_others_on()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await emu.FreezeClockAsync(new DateTimeOffset(2030, 5, 5, 10, 0, 0, TimeSpan.Zero));
        var queueId = await SeededQueueAsync(org);
        var state = await emu.Control.GetJsonAsync("/_emulator/rate-limits");
        Assert.Equal(["authentication"], state["enforced"]!.AsArray().Select(n => n!.GetValue<string>()));

        // Limit 3, not enforced: the 4th entry passes and reports 0 remaining.
        (await emu.Control.PostJsonAsync("/_emulator/rate-limits", new JsonObject { ["limits"] = new JsonObject { ["queue_entry"] = 3 } })).EnsureStatus(200);
        for (int i = 0; i < 4; i++)
        {
            var g = await emu.GuestOfAsync(org);
            var r = (await emu.Consumer.PostJsonAsync($"/queues/{queueId}/enter", null, g.Headers)).EnsureStatus(200);
            Assert.Equal(3, H(r, "X-RateLimit-Limit"));
            Assert.Equal(Math.Max(0, 2 - i), H(r, "X-RateLimit-Remaining"));
        }

        // Enforced: three requests, then the documented 429.
        var set = (await emu.Control.PostJsonAsync("/_emulator/rate-limits", new JsonObject
        {
            ["enforce"] = new JsonArray("authentication", "queue_entry"), ["limits"] = new JsonObject { ["queue_entry"] = 3 },
        })).EnsureStatus(200);
        Assert.Contains(set["classes"]!.AsArray(), c => c!["name"]!.GetValue<string>() == "queue_entry" && c["enforced"]!.GetValue<bool>() && c["perMinute"]!.GetValue<int>() == 3);
        for (int i = 0; i < 3; i++)
            (await emu.Consumer.PostJsonAsync($"/queues/{queueId}/enter", null, (await emu.GuestOfAsync(org)).Headers)).EnsureStatus(200);
        var limited = await emu.Consumer.PostJsonAsync($"/queues/{queueId}/enter", null, (await emu.GuestOfAsync(org)).Headers);
        Assert.Equal(429, limited.Code);
        Assert.Equal("Rate limit exceeded", limited["error"].GetValue<string>());
        Assert.Equal(60, limited["retryAfter"].GetValue<int>());
        Assert.Equal("60", limited.Headers.GetValues("Retry-After").Single());

        // The next minute of emulator time: allowed again.
        await emu.AdvanceClockAsync(60);
        (await emu.Consumer.PostJsonAsync($"/queues/{queueId}/enter", null, (await emu.GuestOfAsync(org)).Headers)).EnsureStatus(200);

        // POST /_emulator/reset restores the defaults.
        await emu.ResetAsync();
        state = await emu.Control.GetJsonAsync("/_emulator/rate-limits");
        Assert.Equal(["authentication"], state["enforced"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Contains(state["classes"]!.AsArray(), c => c!["name"]!.GetValue<string>() == "queue_entry" && c["perMinute"]!.GetValue<int>() == 1000 && c["perSecond"]!.GetValue<int>() == 100);
    }

    [Fact]
    public async Task Scale_and_enforce_all_throttle_admin_reads()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await emu.FreezeClockAsync(new DateTimeOffset(2030, 5, 5, 10, 0, 0, TimeSpan.Zero));
        (await emu.Control.PostJsonAsync("/_emulator/rate-limits", new JsonObject { ["enforce"] = "all", ["scale"] = 0.002 })).EnsureStatus(200);
        for (int i = 0; i < 2; i++)
            Assert.Equal(2, H((await emu.Admin.GetAsync("/queues", Sk(org.SecretKey))).EnsureStatus(200), "X-RateLimit-Limit"));
        Assert.Equal(429, (await emu.Admin.GetAsync("/queues", Sk(org.SecretKey))).Code);
        // another organization has its own counters
        var acme = (await emu.OrganizationsAsync())[1];
        (await emu.Admin.GetAsync("/queues", Sk(acme.SecretKey))).EnsureStatus(200);
        (await emu.Control.PostJsonAsync("/_emulator/rate-limits", new JsonObject { ["enforce"] = "none" })).EnsureStatus(200);
        (await emu.Admin.GetAsync("/queues", Sk(org.SecretKey))).EnsureStatus(200);
        await emu.ResetAsync();
    }

    [Theory]
    [InlineData("""{"enforce":"some"}""")]
    [InlineData("""{"enforce":["queue_entry","nope"]}""")]
    [InlineData("""{"scale":0}""")]
    [InlineData("""{"limits":{"queue_entry":0}}""")]
    [InlineData("""{"limits":{"nope":3}}""")]
    public async Task Bad_settings_are_the_std_400_and_change_nothing(string body)
    {
        await emu.ResetAsync();
        (await emu.Control.PostRawAsync("/_emulator/rate-limits", body)).AssertValidationError();
        var state = await emu.Control.GetJsonAsync("/_emulator/rate-limits");
        Assert.Equal(["authentication"], state["enforced"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal(1, state["scale"]!.GetValue<double>());
    }
}
