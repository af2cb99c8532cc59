using System.Net;
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
}
