using System.Net;
using Fanfare.Emulator.Tests.Auth;
using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Hosting;

/// <summary>A frontend on another localhost origin can call the consumer API from a browser (preflight + readable errors).</summary>
public sealed class CorsTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    [Fact]
    public async Task Preflight_for_a_publishable_key_call_is_allowed_for_a_local_frontend()
    {
        using var req = new HttpRequestMessage(HttpMethod.Options, "/api/auth/guest");
        req.Headers.Add("Origin", "http://localhost:5173");
        req.Headers.Add("Access-Control-Request-Method", "POST");
        req.Headers.Add("Access-Control-Request-Headers", "x-publishable-key,authorization,content-type,x-customer-token");
        using var res = await emu.Consumer.SendAsync(req);
        Assert.Equal(HttpStatusCode.NoContent, res.StatusCode);
        Assert.Equal("http://localhost:5173", res.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Equal("true", res.Headers.GetValues("Access-Control-Allow-Credentials").Single());
        var allowed = string.Join(",", res.Headers.GetValues("Access-Control-Allow-Headers")).ToLowerInvariant();
        Assert.Contains("x-publishable-key", allowed);
        Assert.Contains("x-customer-token", allowed);
    }

    [Fact]
    public async Task Error_responses_carry_cors_headers_and_expose_retry_after()
    {
        var r = await emu.Consumer.PostJsonAsync("/auth/guest", null, new Dictionary<string, string> { ["Origin"] = "http://localhost:3000" });
        Assert.Equal(401, r.Code);
        Assert.Equal("http://localhost:3000", r.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("Retry-After", string.Join(",", r.Headers.GetValues("Access-Control-Expose-Headers")));
    }

    private static async Task<string?> AllowedOrigin(HttpClient client, string path, string origin, bool preflight = false)
    {
        using var req = new HttpRequestMessage(preflight ? HttpMethod.Options : HttpMethod.Get, path);
        req.Headers.Add("Origin", origin);
        if (preflight) req.Headers.Add("Access-Control-Request-Method", "POST");
        using var res = await client.SendAsync(req);
        return res.Headers.TryGetValues("Access-Control-Allow-Origin", out var v) ? v.Single() : null;
    }

    /// <summary>Issue 9 §3: a page on the internet cannot read the keys, reset the emulator or move its clock.</summary>
    [Theory]
    [InlineData("https://evil.example")]
    [InlineData("http://localhost.evil.example")]
    [InlineData("null")]
    public async Task Other_origins_get_no_cors_access_to_the_control_plane_or_the_APIs(string origin)
    {
        Assert.Null(await AllowedOrigin(emu.Admin, "/_emulator/organizations", origin));
        Assert.Null(await AllowedOrigin(emu.Admin, "/_emulator/reset", origin, preflight: true));
        Assert.Null(await AllowedOrigin(emu.Admin, "/_emulator/clock/advance", origin, preflight: true));
        Assert.Null(await AllowedOrigin(emu.Consumer, "/_emulator/organizations", origin));
        Assert.Null(await AllowedOrigin(emu.Consumer, "/api/auth/guest", origin, preflight: true));
        Assert.Null(await AllowedOrigin(emu.Admin, "/sequences", origin));
    }

    [Theory]
    [InlineData("http://localhost:5173")]
    [InlineData("https://localhost:3000")]
    [InlineData("http://127.0.0.1:8080")]
    [InlineData("http://[::1]:4200")]
    [InlineData("http://app.localhost:3000")]
    public async Task Loopback_origins_may_call_the_APIs_and_the_control_plane(string origin)
    {
        Assert.Equal(origin, await AllowedOrigin(emu.Consumer, "/api/auth/guest", origin, preflight: true));
        Assert.Equal(origin, await AllowedOrigin(emu.Admin, "/_emulator/inbox", origin));
    }

    [Fact]
    public async Task CorsOrigins_widens_the_APIs_and_the_control_plane_and_a_wildcard_only_the_APIs()
    {
        await using (var listed = await EmulatorServer.StartAsync(o => o.CorsOrigins = ["https://app.example"]))
        {
            Assert.Equal("https://app.example", await AllowedOrigin(listed.Consumer, "/api/auth/guest", "https://app.example", preflight: true));
            Assert.Equal("https://app.example", await AllowedOrigin(listed.Admin, "/_emulator/inbox", "https://app.example"));
            Assert.Null(await AllowedOrigin(listed.Admin, "/_emulator/inbox", "https://evil.example"));
            Assert.Equal("http://localhost:5173", await AllowedOrigin(listed.Consumer, "/api/auth/guest", "http://localhost:5173", preflight: true));
        }
        await using (var any = await EmulatorServer.StartAsync(o => o.CorsOrigins = ["*"]))
        {
            Assert.Equal("https://anywhere.example", await AllowedOrigin(any.Consumer, "/api/auth/guest", "https://anywhere.example", preflight: true));
            Assert.Null(await AllowedOrigin(any.Admin, "/_emulator/organizations", "https://anywhere.example"));
        }
    }

    /// <summary>CORS only hides answers: "simple" cross-site requests (no preflight) must be refused outright.</summary>
    [Fact]
    public async Task A_page_on_another_origin_cannot_reset_the_emulator_or_move_its_clock_with_simple_requests()
    {
        await emu.ResetAsync();
        var before = (await emu.Control.GetJsonAsync("/_emulator/clock"))["now"]!.GetValue<string>();
        var evil = new Dictionary<string, string> { ["Origin"] = "https://evil.example" };
        var reset = await emu.Control.SendAsync(HttpMethod.Post, "/_emulator/reset", null, evil);
        reset.AssertError(403, "Origin not allowed");
        var advance = await emu.Control.SendAsync(HttpMethod.Post, "/_emulator/clock/advance",
            new StringContent("""{"seconds":86400}""", System.Text.Encoding.UTF8, "text/plain"), evil);
        advance.AssertError(403, "Origin not allowed");
        var after = DateTimeOffset.Parse((await emu.Control.GetJsonAsync("/_emulator/clock"))["now"]!.GetValue<string>());
        Assert.True(after - DateTimeOffset.Parse(before) < TimeSpan.FromHours(1));
        var org = await emu.DemoOrgAsync();
        (await emu.Admin.SendAsync(HttpMethod.Post, "/sequences?api_key=" + org.SecretKey,
            new StringContent("""{"name":"drive-by"}""", System.Text.Encoding.UTF8, "text/plain"), evil)).AssertError(403, "Origin not allowed");
        // Without an Origin (SDKs, curl) or from a loopback page, the same calls work.
        (await emu.Control.SendAsync(HttpMethod.Post, "/_emulator/reset", null, new Dictionary<string, string> { ["Origin"] = "http://localhost:5173" })).EnsureStatus(200);
        (await emu.Control.SendAsync(HttpMethod.Post, "/_emulator/reset", null)).EnsureStatus(200);
    }
}
