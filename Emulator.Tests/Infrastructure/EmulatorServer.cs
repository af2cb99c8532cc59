using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Fanfare.Emulator.Hosting;

namespace Fanfare.Emulator.Tests.Infrastructure;

/// <summary>
/// A real emulator for a test: the app built by <see cref="EmulatorApp.Build"/>, listening with Kestrel on four free
/// loopback ports, in-memory store, default seed unless told otherwise. Tests talk to it over HTTP only.
/// Use as <c>IClassFixture&lt;EmulatorServer&gt;</c> and call <see cref="ResetAsync"/> at the start of each test, or
/// <c>await using var emu = await EmulatorServer.StartAsync(...)</c> for a private one.
/// <para>With <c>FANFARE_TEST_EMULATOR</c> set to a published emulator (the image's NativeAOT executable, or a
/// <c>Fanfare.Emulator.dll</c> run with <c>dotnet</c>), every EmulatorServer starts that as a process instead, with the
/// same options passed as <c>Emulator__*</c> environment variables, so the HTTP tests check the published artifact (CI
/// does, with the image's executable; README "The same tests against a published emulator"). <see cref="Services"/> does
/// not exist then: a test that reads it carries <c>[Trait("Category", "InProcess")]</c>, which that run leaves out;
/// fixtures use <see cref="StateKit"/> (the control plane) instead.</para>
/// </summary>
public class EmulatorServer : IAsyncLifetime, IAsyncDisposable
{
    private static readonly string? External = Environment.GetEnvironmentVariable("FANFARE_TEST_EMULATOR") is { Length: > 0 } e ? e : null;
    /// <summary>Serializes appends to <c>FANFARE_TEST_EMULATOR_LOG</c> (test classes dispose their emulators in parallel).</summary>
    private static readonly Lock LogLock = new();
    private WebApplication? _app;
    private Packaging.ChildProcess? _process;
    private readonly Action<EmulatorOptions>? _configure;

    public EmulatorServer() { }
    protected EmulatorServer(Action<EmulatorOptions>? configure) => _configure = configure;

    public int AdminPort { get; private set; }
    public int ConsumerPort { get; private set; }
    public int BeaconPort { get; private set; }
    public int CheckoutPort { get; private set; }
    public HttpClient Admin { get; private set; } = null!;
    public HttpClient Consumer { get; private set; } = null!;
    public HttpClient Beacon { get; private set; } = null!;
    public HttpClient Checkout { get; private set; } = null!;
    /// <summary>The control plane (<c>/_emulator</c>), via the admin port.</summary>
    public HttpClient Control => Admin;
    public IServiceProvider Services => _app?.Services
        ?? throw new InvalidOperationException("Services: this emulator is an external process (FANFARE_TEST_EMULATOR)");

    /// <summary>Starts a private emulator; <paramref name="configure"/> may change options (seed file, TTLs …).</summary>
    public static async Task<EmulatorServer> StartAsync(Action<EmulatorOptions>? configure = null)
    {
        var s = new EmulatorServer(configure);
        await s.InitializeAsync();
        return s;
    }

    public async Task InitializeAsync()
    {
        for (int attempt = 0; ; attempt++)
        {
            var ports = (attempt == 0 ? FirstPortsForTest.Value?.Invoke() : null) ?? FreePorts(4);
            if (External is not null)
            {
                try
                {
                    await StartExternalAsync(ports);
                }
                catch (PortTakenException) when (attempt < 3)
                {
                    // Another test's process bound one of the ports between FreePorts and the child's start (the ports are
                    // free when picked, not reserved): new ports, as the in-process branch does on its bind failure.
                    await _process!.DisposeAsync();
                    _process = null;
                    continue;
                }
                (AdminPort, ConsumerPort, BeaconPort, CheckoutPort) = (ports[0], ports[1], ports[2], ports[3]);
                break;
            }
            try
            {
                _app = EmulatorApp.Build([], o =>
                {
                    o.AdminPort = ports[0]; o.ConsumerPort = ports[1]; o.BeaconPort = ports[2]; o.CheckoutPort = ports[3];
                    o.InMemory = true; o.Banner = false; o.BindAddress = "127.0.0.1";
                    _configure?.Invoke(o);
                });
                await _app.StartAsync();
                (AdminPort, ConsumerPort, BeaconPort, CheckoutPort) = (ports[0], ports[1], ports[2], ports[3]);
                break;
            }
            catch (IOException) when (attempt < 3) { if (_app is not null) await _app.DisposeAsync(); }
        }
        Admin = Client(AdminPort); Consumer = Client(ConsumerPort); Beacon = Client(BeaconPort); Checkout = Client(CheckoutPort);
    }

    /// <summary>Starts <see cref="External"/> on <paramref name="ports"/> (in memory, no banner, loopback, then this
    /// server's options) and waits until <c>GET /_emulator/health</c> answers 200.</summary>
    private async Task StartExternalAsync(int[] ports)
    {
        var defaults = new EmulatorOptions();
        var o = new EmulatorOptions
        {
            AdminPort = ports[0], ConsumerPort = ports[1], BeaconPort = ports[2], CheckoutPort = ports[3],
            InMemory = true, Banner = false, BindAddress = "127.0.0.1",
        };
        _configure?.Invoke(o);
        var env = new Dictionary<string, string> { ["ASPNETCORE_HTTP_PORTS"] = "" };
        foreach (var p in typeof(EmulatorOptions).GetProperties().Where(p => p.CanWrite))
        {
            var value = p.GetValue(o);
            if (value is string[] list)
            {
                for (var i = 0; i < list.Length; i++) env[$"Emulator__{p.Name}__{i}"] = list[i];
                continue;
            }
            if (Equals(value, p.GetValue(defaults)) && p.Name is not ("InMemory" or "Banner" or "BindAddress")) continue;
            env[$"Emulator__{p.Name}"] = value switch
            {
                null => "",
                bool b => b ? "true" : "false",
                IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
                _ => value.ToString()!,
            };
        }
        var dll = External!.EndsWith(".dll", StringComparison.OrdinalIgnoreCase);
        _process = Packaging.ChildProcess.Start(dll ? Packaging.ChildProcess.DotnetHost() : External, dll ? [External] : [],
            Path.GetDirectoryName(Path.GetFullPath(External))!, Packaging.ChildProcess.CleanEnvironment(env));
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        for (var waited = System.Diagnostics.Stopwatch.StartNew(); ; await Task.Delay(20))
        {
            try
            {
                using var res = await probe.GetAsync($"http://127.0.0.1:{ports[0]}/_emulator/health");
                if (res.StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            if (_process.HasExited)
            {
                // The emulator's one line for a port it cannot bind: "cannot start: Failed to bind to address …: address already in use."
                if (_process.Output.Contains("address already in use", StringComparison.OrdinalIgnoreCase)) throw new PortTakenException(_process.Output);
                throw new InvalidOperationException($"{External} exited with {_process.ExitCode}:\n{_process.Output}");
            }
            if (waited.Elapsed > TimeSpan.FromSeconds(60)) throw new TimeoutException($"{External} was not healthy within 60 s:\n{_process.Output}");
        }
    }

    /// <summary>The four ports the first start attempt of a server created in this async flow uses instead of free ones
    /// (<c>EmulatorServerTests</c>: a port taken in between is retried on new ones).</summary>
    internal static readonly AsyncLocal<Func<int[]>?> FirstPortsForTest = new();

    /// <summary>The external emulator exited because one of its ports was taken (its output is the message).</summary>
    private sealed class PortTakenException(string output) : Exception(output);

    private static HttpClient Client(int port) => new() { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };

    private static int[] FreePorts(int n)
    {
        var listeners = Enumerable.Range(0, n).Select(_ => { var l = new TcpListener(IPAddress.Loopback, 0); l.Start(); return l; }).ToList();
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        listeners.ForEach(l => l.Stop());
        return ports;
    }

    /// <summary><c>POST /_emulator/reset</c>.</summary>
    public async Task ResetAsync() => (await Control.PostAsync("/_emulator/reset", null)).EnsureSuccessStatusCode();

    /// <summary>The seed's organizations with their keys (<c>GET /_emulator/organizations</c>).</summary>
    public async Task<List<OrgKeys>> OrganizationsAsync()
    {
        var body = await Admin.GetJsonAsync("/_emulator/organizations");
        return body["organizations"]!.AsArray().Select(o => new OrgKeys(
            o!["organizationId"]!.GetValue<string>(), o["name"]!.GetValue<string>(), o["publishableKey"]!.GetValue<string>(),
            o["secretKey"]!.GetValue<string>(), o["webhookSecret"]!.GetValue<string>(), o["customerTokenSecret"]!.GetValue<string>(),
            o["livePublishableKey"]!.GetValue<string>(), o["liveSecretKey"]!.GetValue<string>())).ToList();
    }

    /// <summary>The default seed's first organization.</summary>
    public async Task<OrgKeys> DemoOrgAsync() => (await OrganizationsAsync())[0];

    /// <summary>Freezes the clock (at <paramref name="at"/> when given) and returns the frozen instant.</summary>
    public async Task<DateTimeOffset> FreezeClockAsync(DateTimeOffset? at = null)
    {
        var body = await Control.PostJsonAsync("/_emulator/clock/freeze", at is null ? new JsonObject() : new JsonObject { ["at"] = at.Value.ToString("O") });
        return DateTimeOffset.Parse(body.Json!["now"]!.GetValue<string>());
    }

    public async Task AdvanceClockAsync(double seconds) =>
        (await Control.PostJsonAsync("/_emulator/clock/advance", new JsonObject { ["seconds"] = seconds })).EnsureStatus(200);

    public async ValueTask DisposeAsync()
    {
        if (_app is not null) { await _app.StopAsync(); await _app.DisposeAsync(); _app = null; }
        if (_process is not null)
        {
            _process.Kill();
            await _process.WaitForExitAsync(TimeSpan.FromSeconds(10));
            // FANFARE_TEST_EMULATOR_LOG: a file every external emulator's output is appended to (diagnosing a 500).
            if (Environment.GetEnvironmentVariable("FANFARE_TEST_EMULATOR_LOG") is { Length: > 0 } log)
                lock (LogLock) File.AppendAllText(log, _process.Output);
            await _process.DisposeAsync();
            _process = null;
        }
    }

    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();
}

/// <summary>An organization's well-known keys.</summary>
public sealed record OrgKeys(string Id, string Name, string PublishableKey, string SecretKey, string WebhookSecret,
    string CustomerTokenSecret, string LivePublishableKey, string LiveSecretKey);

/// <summary>A response read once: status, headers, raw text and parsed JSON.</summary>
public sealed record ApiResponse(HttpStatusCode Status, string Text, JsonNode? Json, HttpResponseHeaders Headers, HttpContentHeaders? ContentHeaders)
{
    public int Code => (int)Status;
    public JsonNode this[string key] => Json![key]!;
    public ApiResponse EnsureStatus(int expected)
    {
        if (Code != expected) throw new Xunit.Sdk.XunitException($"Expected HTTP {expected} but got {Code}: {Text}");
        return this;
    }
}

/// <summary>Request helpers: JSON in, <see cref="ApiResponse"/> out, headers per call.</summary>
public static class HttpClientExtensions
{
    public static Task<ApiResponse> PostJsonAsync(this HttpClient c, string path, JsonNode? body = null, IDictionary<string, string>? headers = null)
        => c.SendJsonAsync(HttpMethod.Post, path, body, headers);

    public static Task<ApiResponse> PostRawAsync(this HttpClient c, string path, string raw, IDictionary<string, string>? headers = null)
        => c.SendAsync(HttpMethod.Post, path, new StringContent(raw, Encoding.UTF8, "application/json"), headers);

    public static Task<ApiResponse> GetAsync(this HttpClient c, string path, IDictionary<string, string>? headers)
        => c.SendAsync(HttpMethod.Get, path, null, headers);

    public static async Task<JsonNode> GetJsonAsync(this HttpClient c, string path, IDictionary<string, string>? headers = null)
        => (await c.SendAsync(HttpMethod.Get, path, null, headers)).EnsureStatus(200).Json!;

    public static Task<ApiResponse> SendJsonAsync(this HttpClient c, HttpMethod method, string path, JsonNode? body, IDictionary<string, string>? headers = null)
        => c.SendAsync(method, path, body is null ? null : new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"), headers);

    public static async Task<ApiResponse> SendAsync(this HttpClient c, HttpMethod method, string path, HttpContent? content, IDictionary<string, string>? headers = null)
    {
        using var req = new HttpRequestMessage(method, path) { Content = content };
        foreach (var (k, v) in headers ?? new Dictionary<string, string>())
        {
            if (k.Equals("Authorization", StringComparison.OrdinalIgnoreCase)) req.Headers.TryAddWithoutValidation(k, v);
            else req.Headers.TryAddWithoutValidation(k, v);
        }
        using var res = await c.SendAsync(req);
        var text = await res.Content.ReadAsStringAsync();
        JsonNode? json = null;
        if (text.Length > 0 && (res.Content.Headers.ContentType?.MediaType?.Contains("json") ?? false))
            json = JsonNode.Parse(text);
        return new ApiResponse(res.StatusCode, text, json, res.Headers, res.Content.Headers);
    }

    /// <summary>Headers for a publishable-key call, optionally with a consumer access token.</summary>
    public static Dictionary<string, string> Pk(string publishableKey, string? accessToken = null)
    {
        var h = new Dictionary<string, string> { ["X-Publishable-Key"] = publishableKey };
        if (accessToken is not null) h["Authorization"] = "Bearer " + accessToken;
        return h;
    }

    /// <summary>Headers for a secret-key call.</summary>
    public static Dictionary<string, string> Sk(string secretKey) => new() { ["Authorization"] = "Bearer " + secretKey };
}

/// <summary>
/// An emulator whose seed holds the default seed's organizations, consumers and settings but none of its experiences, so
/// tests of one distribution type see only what they create (same well-known keys as the default seed).
/// </summary>
public sealed class BareEmulatorServer() : EmulatorServer(Configure)
{
    private static readonly Lazy<string> SeedFile = new(() =>
    {
        using var s = typeof(Fanfare.Emulator.Hosting.EmulatorApp).Assembly.GetManifestResourceStream("Fanfare.Emulator.seed.default.json")!;
        var seed = JsonNode.Parse(s, documentOptions: new System.Text.Json.JsonDocumentOptions { CommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true })!.AsObject();
        foreach (var org in seed["organizations"]!.AsArray()) org!.AsObject().Remove("experiences");
        var path = Path.Combine(Path.GetTempPath(), $"fanfare-bare-seed-{Environment.ProcessId}.json");
        File.WriteAllText(path, seed.ToJsonString());
        return path;
    });

    /// <summary>Points an emulator at the bare seed (for <see cref="EmulatorServer.StartAsync"/>).</summary>
    public static void Configure(EmulatorOptions o) => o.SeedFile = SeedFile.Value;
}
