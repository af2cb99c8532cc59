using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Auth;
using Fanfare.Emulator.Tests.Infrastructure;
using static Fanfare.Emulator.Tests.Infrastructure.HttpClientExtensions;

namespace Fanfare.Emulator.Tests.Hosting;

/// <summary>
/// behavior.md §1.1: one port per API, each answering under <c>/</c>, <c>/api/</c> and <c>/api/v1/</c>; another API's path
/// on the wrong port and unknown routes are 404 <c>{"error":"Not found"}</c>; the control plane, <c>/health</c> and the
/// port's own OpenAPI document answer on every port.
/// </summary>
public sealed class HostingTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    private const string NotFound = """{"error":"Not found"}""";

    private IEnumerable<(string Name, HttpClient Client)> Ports() =>
        [("admin", emu.Admin), ("consumer", emu.Consumer), ("beacon", emu.Beacon), ("checkout", emu.Checkout)];

    [Theory]
    [InlineData("")]
    [InlineData("/api")]
    [InlineData("/api/v1")]
    public async Task Consumer_and_admin_APIs_answer_under_every_prefix(string prefix)
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var guest = (await emu.Consumer.PostJsonAsync(prefix + "/auth/guest", null, Pk(org.PublishableKey))).EnsureStatus(200);
        Assert.Equal("guest", guest["session"]["type"].GetValue<string>());
        (await emu.Consumer.GetAsync(prefix + "/.well-known/jwks.json", null)).EnsureStatus(200);
        (await emu.Admin.GetAsync(prefix + "/.well-known/jwks.json", null)).EnsureStatus(200);
    }

    [Theory]
    [InlineData("")]
    [InlineData("/api")]
    [InlineData("/api/v1")]
    public async Task A_path_of_another_API_on_the_wrong_port_is_404(string prefix)
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        foreach (var client in new[] { emu.Admin, emu.Beacon, emu.Checkout })
            (await client.PostJsonAsync(prefix + "/auth/guest", null, Pk(org.PublishableKey))).AssertBody(404, NotFound);
        foreach (var client in new[] { emu.Beacon, emu.Checkout })
            (await client.GetAsync(prefix + "/.well-known/jwks.json", null)).AssertBody(404, NotFound);
        // The internal route prefixes are not reachable from outside either.
        (await emu.Admin.PostJsonAsync("/__consumer/auth/guest", null, Pk(org.PublishableKey))).AssertBody(404, NotFound);
    }

    [Fact]
    public async Task Unknown_routes_are_404_not_found_on_every_port()
    {
        await emu.ResetAsync();
        foreach (var (name, client) in Ports())
        {
            foreach (var path in new[] { "/nope", "/api/nope", "/api/v1/nope/deeper", "/nope.json", "/_emulator/nope", "/" })
            {
                if (name == "admin" && path == "/") continue; // the admin port's root is the dashboard (Control/Dashboard tests)
                var r = await client.GetAsync(path, null);
                Assert.True(r.Code == 404, $"{name} GET {path}: {r.Code} {r.Text}");
                r.AssertBody(404, NotFound);
            }
            (await client.PostJsonAsync("/auth/nope", new JsonObject())).AssertBody(404, NotFound);
        }
    }

    [Fact]
    public async Task Control_plane_and_health_answer_on_every_port()
    {
        await emu.ResetAsync();
        foreach (var (name, client) in Ports())
        {
            (await client.GetAsync("/health", null)).AssertBody(200, """{"status":"ok"}""");
            var ready = (await client.GetAsync("/_emulator/health", null)).EnsureStatus(200);
            Assert.Equal("ready", ready["status"].GetValue<string>());
            Assert.Matches(@"^\d+\.\d+\.\d+", ready["version"].GetValue<string>());
            Assert.Equal(2, ready.Json!.AsObject().Count);
            var orgs = (await client.GetAsync("/_emulator/organizations", null)).EnsureStatus(200);
            Assert.NotEmpty(orgs["organizations"].AsArray());
            (await client.GetAsync("/_emulator/clock", null)).EnsureStatus(200);
        }
        (await emu.Consumer.GetAsync("/api/health", null)).AssertBody(200, """{"status":"ok"}""");
        (await emu.Admin.GetAsync("/api/v1/health", null)).AssertBody(200, """{"status":"ok"}""");
    }

    [Fact]
    public async Task Each_port_serves_its_own_openapi_document()
    {
        await emu.ResetAsync();
        var docs = new Dictionary<string, JsonNode>();
        foreach (var (name, client) in Ports())
        {
            var doc = await client.GetJsonAsync("/openapi/v1.json");
            Assert.StartsWith("3.", doc["openapi"]!.GetValue<string>());
            var paths = doc["paths"]!.AsObject();
            Assert.Contains("/_emulator/health", paths.Select(p => p.Key));
            Assert.Contains("/_emulator/clock", paths.Select(p => p.Key));
            Assert.DoesNotContain(paths, p => p.Key.StartsWith("/__", StringComparison.Ordinal));
            Assert.Contains(name, doc["info"]!["title"]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
            foreach (var alias in new[] { "/openapi.json", "/openapi", "/api/openapi" })
                Assert.True(JsonNode.DeepEquals(doc["paths"], (await client.GetJsonAsync(alias))["paths"]), $"{name} {alias}");
            docs[name] = doc;
        }
        var consumerPaths = docs["consumer"]["paths"]!.AsObject().Select(p => p.Key).ToList();
        var adminPaths = docs["admin"]["paths"]!.AsObject().Select(p => p.Key).ToList();
        foreach (var op in new[] { "/auth/guest", "/auth/otp/request", "/auth/otp/verify", "/auth/external/authorize", "/auth/external/exchange", "/auth/refresh", "/auth/logout" })
            Assert.Contains(op, consumerPaths);
        Assert.DoesNotContain("/auth/guest", adminPaths);
        Assert.Contains("/.well-known/jwks.json", adminPaths);
        Assert.DoesNotContain("/auth/guest", docs["beacon"]["paths"]!.AsObject().Select(p => p.Key));
        Assert.NotNull(docs["consumer"]["paths"]!["/auth/guest"]!["post"]);
    }
}
