using System.Net;
using Microsoft.Extensions.DependencyInjection;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Auth.Tokens;
using Fanfare.Emulator.Organizations;
using Fanfare.Emulator.Tests.Auth;
using Fanfare.Emulator.Tests.Distributions;
using Fanfare.Emulator.Tests.Infrastructure;
using static Fanfare.Emulator.Tests.Infrastructure.HttpClientExtensions;

namespace Fanfare.Emulator.Tests.Hosting;

/// <summary>
/// Issue 9 §1, one test per reproduction: no input reaches a 5xx, a failed request changes nothing, an error body never
/// amplifies its request. Bodies are sent as raw text so the JSON keeps what a hostile client writes (<c>\ud800</c>,
/// <c>1e309</c>).
/// </summary>
public sealed class BadInputTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    private static Task<ApiResponse> Raw(HttpClient c, HttpMethod method, string path, string raw, IDictionary<string, string>? headers = null) =>
        c.SendAsync(method, path, new StringContent(raw, Encoding.UTF8, "application/json"), headers);

    /// <summary>The std 400 with one issue whose path ends at <paramref name="key"/>.</summary>
    private static JsonObject AssertIssueAt(ApiResponse r, string key)
    {
        Assert.True(r.Code == 400, $"Expected 400 but got {r.Code}: {r.Text}");
        Assert.Equal("validation_error", r["error"].GetValue<string>());
        var issue = r["issues"].AsArray().OfType<JsonObject>().FirstOrDefault(i => i["path"]!.AsArray().LastOrDefault()?["key"]?.ToString() == key);
        Assert.True(issue is not null, $"no issue at {key}: {r.Text}");
        foreach (var field in new[] { "kind", "type", "expected", "received", "message" }) Assert.NotNull(issue![field]);
        return issue!;
    }

    [Fact]
    public async Task A_lone_surrogate_in_any_string_is_a_400_with_its_path()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var sk = Sk(org.SecretKey);
        AssertIssueAt(await Raw(emu.Admin, HttpMethod.Post, "/sequences", """{"name":"\ud800"}""", sk), "name");
        AssertIssueAt(await Raw(emu.Admin, HttpMethod.Post, "/experiences", """{"name":"ok","theme":{"a":["x","\udfff"]}}""", sk), "1");
        AssertIssueAt(await Raw(emu.Consumer, HttpMethod.Post, "/auth/otp/request", """{"email":"a\ud800@b.co"}""", Pk(org.PublishableKey)), "email");
        // In a property name too: the body is refused as a whole.
        var key = await Raw(emu.Admin, HttpMethod.Post, "/sequences", """{"name":"x","\ud800":1}""", sk);
        key.AssertError(400, "validation_error");
        // A valid pair is text like any other.
        (await Raw(emu.Admin, HttpMethod.Post, "/sequences", """{"name":"\ud83d\ude00"}""", sk)).EnsureStatus(200);
    }

    [Fact]
    public async Task A_number_beyond_double_range_is_a_400_and_the_resource_still_reads()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var sk = Sk(org.SecretKey);
        var seq = (await emu.Admin.PostJsonAsync("/sequences", new JsonObject { ["name"] = "S", ["priority"] = 3 }, sk)).EnsureStatus(200)["id"].GetValue<string>();

        var issue = AssertIssueAt(await Raw(emu.Admin, HttpMethod.Put, $"/sequences/{seq}", """{"priority":1e309}""", sk), "priority");
        Assert.Equal("1e309", issue["received"]!.GetValue<string>());
        AssertIssueAt(await Raw(emu.Admin, HttpMethod.Put, $"/sequences/{seq}", """{"priority":-1e309}""", sk), "priority");

        // Nothing changed, and the sequence, the list and its experience still read.
        Assert.Equal(3, (await emu.Admin.GetJsonAsync($"/sequences/{seq}", sk))["priority"]!.GetValue<double>());
        Assert.Contains((await emu.Admin.GetJsonAsync("/sequences", sk))["data"]!.AsArray(), s => s!["id"]!.GetValue<string>() == seq);
        (await emu.Admin.GetAsync("/experiences", sk)).EnsureStatus(200);

        var sequenceId = emu.CreateSequence(org);
        var queue = (await emu.Admin.PostJsonAsync("/queues", new JsonObject { ["sequenceId"] = sequenceId, ["name"] = "Q", ["admitRate"] = 10 }, sk))
            .EnsureStatus(200)["id"].GetValue<string>();
        AssertIssueAt(await Raw(emu.Admin, HttpMethod.Put, $"/queues/{queue}", """{"admitRate":1e309}""", sk), "admitRate");
        AssertIssueAt(await Raw(emu.Admin, HttpMethod.Put, $"/queues/{queue}", """{"admissionExpirationSeconds":1e309}""", sk), "admissionExpirationSeconds");
        AssertIssueAt(await Raw(emu.Admin, HttpMethod.Post, "/queues", $$"""{"sequenceId":"{{sequenceId}}","name":"Q2","admitRate":1e309}""", sk), "admitRate");
        var read = await emu.Admin.GetJsonAsync($"/queues/{queue}", sk);
        Assert.Equal(10, read["admitRate"]!.GetValue<double>());
        (await emu.Admin.GetAsync("/queues", sk)).EnsureStatus(200);
    }

    [Fact]
    public async Task A_failed_update_is_not_persisted_and_survives_a_restart_on_disk()
    {
        var dir = Path.Combine(Path.GetTempPath(), "fanfare-bad-input-" + Path.GetRandomFileName());
        void OnDisk(Fanfare.Emulator.Hosting.EmulatorOptions o) { o.InMemory = false; o.DataDirectory = dir; }
        try
        {
            string seq;
            await using (var first = await EmulatorServer.StartAsync(OnDisk))
            {
                var sk = Sk((await first.DemoOrgAsync()).SecretKey);
                seq = (await first.Admin.PostJsonAsync("/sequences", new JsonObject { ["name"] = "Durable", ["priority"] = 5 }, sk)).EnsureStatus(200)["id"].GetValue<string>();
                AssertIssueAt(await Raw(first.Admin, HttpMethod.Put, $"/sequences/{seq}", """{"name":"Changed","priority":1e309}""", sk), "priority");
                var now = await first.Admin.GetJsonAsync($"/sequences/{seq}", sk);
                Assert.Equal("Durable", now["name"]!.GetValue<string>());
                Assert.Equal(5, now["priority"]!.GetValue<double>());
            }
            await using (var second = await EmulatorServer.StartAsync(OnDisk))
            {
                var sk = Sk((await second.DemoOrgAsync()).SecretKey);
                var after = await second.Admin.GetJsonAsync($"/sequences/{seq}", sk);
                Assert.Equal("Durable", after["name"]!.GetValue<string>());
                Assert.Equal(5, after["priority"]!.GetValue<double>());
            }
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    [Fact]
    public async Task An_integer_above_int32_is_a_400_in_required_and_optional_fields()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var sk = Sk(org.SecretKey);
        var seq = emu.CreateSequence(org);
        const string product = "5551643b-770d-8e26-80eb-6a59cae3f8de";
        var issue = AssertIssueAt(await Raw(emu.Admin, HttpMethod.Post, $"/sequences/{seq}/order-limits",
            $$"""{"sequenceId":"{{seq}}","productId":"{{product}}","maxQuantity":2147483648}""", sk), "maxQuantity");
        Assert.Equal("max_value", issue["type"]!.GetValue<string>());
        Assert.Empty((await emu.Admin.GetJsonAsync($"/sequences/{seq}/order-limits", sk)).AsArray());

        var draw = await Raw(emu.Admin, HttpMethod.Post, "/draws", $$"""{"sequenceId":"{{seq}}","name":"D","winnerCount":2147483648}""", sk);
        AssertIssueAt(draw, "winnerCount");
        AssertIssueAt(await Raw(emu.Admin, HttpMethod.Post, "/draws", $$"""{"sequenceId":"{{seq}}","name":"D","winnerCount":-2147483649}""", sk), "winnerCount");
    }

    [Fact]
    public async Task Deeply_nested_bodies_get_a_json_400_that_does_not_echo_them()
    {
        await emu.ResetAsync();
        var sk = Sk((await emu.DemoOrgAsync()).SecretKey);
        // ~60 levels: refused as malformed (bodies nest 32 levels at most), with a readable body.
        var deep = "{\"name\":1,\"x\":" + string.Concat(Enumerable.Repeat("{\"a\":", 60)) + "1" + new string('}', 61);
        var r = await Raw(emu.Admin, HttpMethod.Post, "/experiences", deep, sk);
        r.AssertError(400, "validation_error");
        Assert.True(r.Text.Length < 2_000, r.Text);
        // 30 levels (allowed): the issue's path input is a shallow summary, not the nested input.
        var allowed = "{\"name\":1,\"theme\":" + string.Concat(Enumerable.Repeat("{\"a\":", 30)) + "1" + new string('}', 31);
        var ok = await Raw(emu.Admin, HttpMethod.Post, "/experiences", allowed, sk);
        var issue = AssertIssueAt(ok, "name");
        Assert.Equal("""{"name":1,"theme":{}}""", issue["path"]![0]!["input"]!.ToJsonString());
    }

    [Fact]
    public async Task A_thousand_bad_nested_items_give_a_capped_issue_list_no_bigger_than_the_request()
    {
        await emu.ResetAsync();
        var sk = Sk((await emu.DemoOrgAsync()).SecretKey);
        var queues = string.Join(",", Enumerable.Range(0, 1000).Select(_ => """{"admitRate":"x"}"""));
        var body = "{\"name\":\"E\",\"sequence\":{\"name\":\"S\",\"queues\":[" + queues + "]}}";
        Assert.True(body.Length is > 15_000 and < 25_000);
        var r = await Raw(emu.Admin, HttpMethod.Post, "/experiences", body, sk);
        r.AssertError(400, "validation_error");
        var issues = r["issues"].AsArray();
        Assert.InRange(issues.Count, 1, 100);
        Assert.True(r.Text.Length <= 2 * body.Length + 4096, $"{r.Text.Length} characters for a {body.Length}-character request");
        // Each issue has its own path down to its item, without repeating the enclosing objects.
        var paths = issues.Select(i => string.Join("/", i!["path"]!.AsArray().Select(p => p!["key"]!.ToString()))).ToList();
        Assert.Equal(paths.Count, paths.Distinct().Count());
        Assert.Contains("sequence/queues/0/admitRate", paths);
        Assert.All(issues, i => Assert.All(i!["path"]!.AsArray(), p => Assert.True(p!["input"]!.ToJsonString().Length < 400, p.ToJsonString())));
        Assert.Empty((await emu.Admin.GetJsonAsync("/experiences", sk))["data"]!.AsArray().Where(e => e!["name"]!.GetValue<string>() == "E"));
    }

    [Fact]
    public async Task Control_plane_numbers_out_of_range_are_400()
    {
        await emu.ResetAsync();
        AssertIssueAt(await Raw(emu.Control, HttpMethod.Post, "/_emulator/clock/advance", """{"seconds":-9223372036854775809}""", null), "seconds");
        AssertIssueAt(await Raw(emu.Control, HttpMethod.Post, "/_emulator/clock/advance", """{"seconds":1e309}""", null), "seconds");
        AssertIssueAt(await emu.Control.GetAsync("/_emulator/inbox/latest?to=x@y.z&waitSeconds=NaN", null), "waitSeconds");
        AssertIssueAt(await emu.Control.GetAsync("/_emulator/sms/latest?to=%2B15555550100&waitSeconds=NaN", null), "waitSeconds");
        (await emu.Control.GetAsync("/_emulator/clock", null)).EnsureStatus(200);
    }

    /// <summary>Issue 15: with the compile-time Request Delegate Generator a nullable query value that does not parse
    /// (<c>int? limit</c>) is answered with a bare 400; the emulator gives it the std 400 body like every other.</summary>
    [Fact]
    public async Task A_nullable_query_number_that_does_not_parse_is_the_std_400()
    {
        foreach (var path in new[] { "/_emulator/jobs?limit=abc", "/_emulator/requests?limit=null" })
        {
            var r = await emu.Control.GetAsync(path, null);
            Assert.True(r.Code == 400, $"{path}: expected 400 but got {r.Code}: {r.Text}");
            Assert.Equal("validation_error", r["error"].GetValue<string>());
            Assert.Contains("limit", r.Text);
        }
        (await emu.Control.GetAsync("/_emulator/jobs?limit=2", null)).EnsureStatus(200);
    }

    [Trait("Category", "InProcess")]
    [Fact]
    public async Task A_bearer_token_of_any_shape_is_401_never_500()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var tokens = emu.Services.GetRequiredService<TokenService>();
        var demo = emu.Services.GetRequiredService<OrganizationDirectory>().ById(org.Id)!;
        // The signing keys are public, so a correctly signed token may carry claims of any type.
        string Signed(string json) => tokens.Sign(demo, JsonNode.Parse(json)!.AsObject());
        var shapes = new[]
        {
            "x.eyJvcmdhbml6YXRpb25JZCI6MX0.x", // {"organizationId":1}
            "x.eyJvcmdhbml6YXRpb25JZCI6WzFdfQ.x", // {"organizationId":[1]}
            "a.b.c", "..", "x", "eyJ9.eyJ9.eyJ9",
            Signed($$"""{"organizationId":"{{org.Id}}","type":"consumer","exp":"never","sessionId":1,"consumerId":2}"""),
            Signed($$"""{"organizationId":"{{org.Id}}","type":1,"exp":99999999999}"""),
            Signed($$"""{"organizationId":"{{org.Id}}","type":"consumer","exp":1e300,"sessionId":"s","consumerId":"c"}"""),
        };
        foreach (var token in shapes)
        {
            var me = await emu.Consumer.GetAsync("/consumers/me", new Dictionary<string, string> { ["X-Publishable-Key"] = org.PublishableKey, ["Authorization"] = "Bearer " + token });
            Assert.True(me.Code == 401, $"{token}: {me.Code} {me.Text}");
            me.AssertError(401, "Authentication required");
            var admin = await emu.Admin.GetAsync("/sequences", new Dictionary<string, string> { ["Authorization"] = "Bearer " + token });
            Assert.True(admin.Code == 401, $"{token}: {admin.Code} {admin.Text}");
            var refresh = await emu.Consumer.PostJsonAsync("/auth/refresh", new JsonObject { ["refreshToken"] = token }, Pk(org.PublishableKey));
            Assert.True(refresh.Code is 400 or 401, $"{token}: {refresh.Code} {refresh.Text}");
        }
    }

    [Fact]
    public async Task An_oversized_body_is_413_in_the_standard_envelope()
    {
        await emu.ResetAsync();
        var sk = Sk((await emu.DemoOrgAsync()).SecretKey);
        // Sent by hand: Kestrel answers as soon as it knows the body is too large, before the client finished sending.
        var length = 31 * 1024 * 1024;
        var (status, text) = await RawHttp(emu.AdminPort, "POST /sequences HTTP/1.1",
            $"Authorization: Bearer {sk["Authorization"][7..]}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n",
            Encoding.ASCII.GetBytes("{\"name\":\"" + new string('x', 64 * 1024)));
        Assert.Equal(413, (int)status);
        var content = text[(text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];
        var json = JsonNode.Parse(content[content.IndexOf('{')..(content.LastIndexOf('}') + 1)])!; // chunked or not
        Assert.Equal("Payload too large", json["error"]!.GetValue<string>());
    }

    /// <summary>Kestrel refuses some requests before the app sees them (README: limits the app cannot answer); they stay
    /// 4xx and the server keeps serving.</summary>
    [Fact]
    public async Task Requests_kestrel_refuses_stay_4xx_and_the_server_keeps_serving()
    {
        await emu.ResetAsync();
        Assert.Equal(400, (int)(await RawHttp(emu.AdminPort, "GET /sequences/%00 HTTP/1.1")).Status);
        Assert.Equal(400, (int)(await RawHttp(emu.AdminPort, "GET /sequences/\u00e9 HTTP/1.1")).Status);
        Assert.Equal(414, (int)(await RawHttp(emu.AdminPort, "GET /sequences?x=" + new string('a', 9000) + " HTTP/1.1")).Status);
        (await emu.Admin.GetAsync("/_emulator/health", null)).EnsureStatus(200);
    }

    private static async Task<(HttpStatusCode Status, string Text)> RawHttp(int port, string requestLine, string headers = "", byte[]? body = null)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        var stream = tcp.GetStream();
        var bytes = Encoding.Latin1.GetBytes(requestLine + "\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + headers + "\r\n");
        await stream.WriteAsync(bytes);
        if (body is not null) await stream.WriteAsync(body);
        using var reader = new StreamReader(stream, Encoding.Latin1);
        var text = await reader.ReadToEndAsync();
        var status = int.Parse(text.Split(' ')[1]);
        return ((HttpStatusCode)status, text);
    }
}
