using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;
using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Browser;

/// <summary>
/// "Frontend developers working offline", in a real browser: a page served from another loopback origin talks to the
/// emulator's consumer API with plain <c>fetch</c> (publishable key, bearer access token, credentials), so every call
/// goes through a CORS preflight. Drives Debian's Chromium (<c>/usr/bin/chromium</c>) with Playwright; never downloads
/// a browser.
/// </summary>
[Trait("Category", "Browser")]
public sealed class OfflineFrontendTests(EmulatorServer emu, BrowserFixture browser)
    : IClassFixture<EmulatorServer>, IClassFixture<BrowserFixture>
{
    private const int TimeoutMs = 15_000;

    [Trait("Category", "InProcess")]
    [Fact]
    public async Task Guest_in_the_browser_queues_for_the_seeded_drop_is_granted_and_the_grant_validates_server_side()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var queueId = await SneakerDropQueueIdAsync(org.SecretKey);
        await emu.FreezeClockAsync();
        // Two shoppers got there first: the browser's guest is third in line.
        var ahead = (await emu.Control.PostJsonAsync($"/_emulator/distributions/{queueId}/simulate", new JsonObject { ["consumers"] = 2 }))
            .EnsureStatus(200)["consumerIds"].AsArray().Select(c => c!.GetValue<string>()).ToList();

        using var preflights = new RequestRecorder(emu.ConsumerPort);
        await using var session = await browser.OpenAsync(emu, org.PublishableKey, $"flow=queue&queue={queueId}");
        var page = session.Page;

        await session.ExpectTextAsync("#queue-name", "Sneaker Drop queue");
        await session.ExpectTextAsync("#status", "QUEUED position 3");
        await emu.AdvanceClockAsync(1); // admitRate 60: one admission per second of emulator time
        await session.ExpectTextAsync("#status", "QUEUED position 2");
        await emu.AdvanceClockAsync(2);
        await session.ExpectTextAsync("#status", "GRANTED");

        var consumerId = (await page.Locator("#consumer").TextContentAsync())!;
        var grant = (await page.Locator("#grant").TextContentAsync())!;
        Assert.StartsWith("eyJ", grant);

        // The merchant's server checks what the browser holds.
        var sk = HttpClientExtensions.Sk(org.SecretKey);
        var valid = (await emu.Consumer.PostJsonAsync($"/api/queues/{queueId}/validate",
            new JsonObject { ["consumerId"] = consumerId, ["token"] = grant }, sk)).EnsureStatus(200);
        Assert.True(valid.Json!.GetValue<bool>(), $"validate answered {valid.Text}");
        Assert.DoesNotContain(consumerId, ahead);
        var otherConsumer = (await emu.Consumer.PostJsonAsync($"/api/queues/{queueId}/validate",
            new JsonObject { ["consumerId"] = ahead[0], ["token"] = grant }, sk)).EnsureStatus(200);
        Assert.False(otherConsumer.Json!.GetValue<bool>(), "the grant is bound to the browser's consumer");

        // Every cross-origin call with a custom header was preflighted and answered.
        var origin = browser.SiteOrigin;
        Assert.Contains(preflights.Seen, r => r is { Method: "OPTIONS", Path: "/api/auth/guest" } && r.Origin == origin
            && r.RequestHeaders.Contains("x-publishable-key"));
        Assert.Contains(preflights.Seen, r => r.Method == "OPTIONS" && r.Path == $"/api/queues/{queueId}/enter"
            && r.Origin == origin && r.RequestHeaders.Contains("authorization"));
        Assert.Contains(preflights.Seen, r => r.Method == "GET" && r.Path == $"/api/queues/{queueId}/status" && r.Origin == origin);

        await session.ScreenshotIfAskedAsync("queue");
    }

    [Fact]
    public async Task Email_one_time_code_typed_into_the_page_signs_the_consumer_in()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        const string email = "browser-shopper@example.com";
        await using var session = await browser.OpenAsync(emu, org.PublishableKey, "flow=otp");
        var page = session.Page;

        await page.Locator("#email").FillAsync(email);
        await page.Locator("#send").ClickAsync();
        await session.ExpectTextAsync("#otp-state", "Code sent to " + email);

        var message = await emu.Control.GetJsonAsync($"/_emulator/inbox/latest?to={Uri.EscapeDataString(email)}&waitSeconds=5");
        Assert.Equal(email, message["to"]!.GetValue<string>());
        var code = message["code"]!.GetValue<string>();

        // A mistyped code: the page can read the emulator's error body cross-origin.
        var wrong = code[..^1] + (code[^1] == '0' ? '1' : '0');
        await page.Locator("#code").FillAsync(wrong);
        await page.Locator("#verify").ClickAsync();
        await session.ExpectTextAsync("#error", "POST /auth/otp/verify → 401 otp_invalid: Invalid verification code. Please try again.");

        await page.Locator("#code").FillAsync(code);
        await page.Locator("#verify").ClickAsync();
        await session.ExpectTextAsync("#otp-state", "Signed in");
        var consumerId = (await page.Locator("#signed-in").TextContentAsync())!;
        Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", consumerId);

        // The consumer the page signed in as is the one the emulator emailed.
        var consumer = await emu.Consumer.GetJsonAsync($"/api/consumers/{consumerId}", HttpClientExtensions.Sk(org.SecretKey));
        Assert.Equal(email, consumer["email"]!.GetValue<string>());
        Assert.Equal(consumerId, consumer["id"]!.GetValue<string>());

        await session.ScreenshotIfAskedAsync("otp");
    }

    /// <summary>The seeded "Sneaker Drop — Queue" experience's queue, found through the admin API like a merchant would.</summary>
    private async Task<string> SneakerDropQueueIdAsync(string secretKey)
    {
        var sk = HttpClientExtensions.Sk(secretKey);
        var experiences = await emu.Admin.GetJsonAsync("/api/experiences?first=100", sk);
        var experienceId = experiences["data"]!.AsArray().Single(e => e!["name"]!.GetValue<string>() == "Sneaker Drop — Queue")!["id"]!.GetValue<string>();
        var sequences = await emu.Admin.GetJsonAsync($"/api/sequences?experienceId={experienceId}", sk);
        var sequenceIds = sequences["data"]!.AsArray().Select(s => s!["id"]!.GetValue<string>()).ToHashSet();
        var queues = await emu.Admin.GetJsonAsync("/api/queues?first=100", sk);
        return queues["data"]!.AsArray().Single(q => sequenceIds.Contains(q!["sequenceId"]!.GetValue<string>()))!["id"]!.GetValue<string>();
    }
}

/// <summary>
/// One Chromium (Debian's, at <c>/usr/bin/chromium</c> or <c>$FANFARE_CHROMIUM</c>) driven by Playwright, and a tiny
/// static web server on its own loopback port serving <see cref="FrontendPage.Html"/>: a different origin than the
/// emulator. Missing Chromium fails every test of the class with instructions.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string DefaultChromium = "/usr/bin/chromium";
    private WebApplication? _site;
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    /// <summary>The static site's origin, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public string SiteOrigin { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var chromium = Environment.GetEnvironmentVariable("FANFARE_CHROMIUM") is { Length: > 0 } p ? p : DefaultChromium;
        if (!File.Exists(chromium))
            throw new InvalidOperationException(
                $"Chromium not found at {chromium}. The browser tests drive Debian's Chromium and never download one: " +
                "install it with `apt-get install -y chromium` (`bash .ci/run` does), or point FANFARE_CHROMIUM at a Chromium binary.");

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        _site = builder.Build();
        _site.MapGet("/", () => Results.Content(FrontendPage.Html, "text/html; charset=utf-8"));
        _site.MapGet("/favicon.ico", () => Results.NoContent());
        await _site.StartAsync();
        var address = _site.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        SiteOrigin = new Uri(address).GetLeftPart(UriPartial.Authority);

        // Belt and braces: nothing in this process may fetch a browser.
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        try
        {
            _playwright = await Playwright.CreateAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (Exception e)
        {
            throw new InvalidOperationException(
                "The Playwright driver (node under bin/.playwright, from the Microsoft.Playwright package) did not start: " + e.Message, e);
        }
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            Timeout = 30_000, // a cold start on a busy 2-core machine
            Args = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-gpu", "--no-first-run"],
        });
    }

    /// <summary>A fresh browser context (own cookies and preflight cache) on the page, pointed at <paramref name="emu"/>.</summary>
    public async Task<PageSession> OpenAsync(EmulatorServer emu, string publishableKey, string query)
    {
        var context = await _browser!.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 900, Height = 640 } });
        context.SetDefaultTimeout(15_000);
        var page = await context.NewPageAsync();
        var session = new PageSession(context, page);
        page.Console += (_, m) => session.Log.Enqueue($"console.{m.Type}: {m.Text}");
        page.PageError += (_, e) => session.Log.Enqueue("page error: " + e);
        page.RequestFailed += (_, r) => session.Log.Enqueue($"request failed: {r.Method} {r.Url} {r.Failure}");
        var api = $"http://127.0.0.1:{emu.ConsumerPort}/api";
        await page.GotoAsync($"{SiteOrigin}/?api={Uri.EscapeDataString(api)}&pk={Uri.EscapeDataString(publishableKey)}&{query}");
        return session;
    }

    /// <summary>A fresh browser context on any <paramref name="url"/> (the emulator's own dashboard), laptop-sized.</summary>
    public async Task<PageSession> OpenUrlAsync(string url, int width = 1280, int height = 800, bool dark = false)
    {
        var context = await _browser!.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = width, Height = height },
            ColorScheme = dark ? ColorScheme.Dark : ColorScheme.Light,
        });
        context.SetDefaultTimeout(15_000);
        var page = await context.NewPageAsync();
        var session = new PageSession(context, page);
        page.Console += (_, m) => { session.Log.Enqueue($"console.{m.Type}: {m.Text}"); if (m.Type == "error") session.Errors.Enqueue(m.Text); };
        page.PageError += (_, e) => { session.Log.Enqueue("page error: " + e); session.Errors.Enqueue(e); };
        page.RequestFailed += (_, r) => session.Log.Enqueue($"request failed: {r.Method} {r.Url} {r.Failure}");
        await page.GotoAsync(url);
        return session;
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null) await _browser.CloseAsync();
        _playwright?.Dispose();
        if (_site is not null) { await _site.StopAsync(); await _site.DisposeAsync(); }
    }
}

/// <summary>One page in its own browser context, with what the page logged (for failure messages).</summary>
public sealed class PageSession(IBrowserContext context, IPage page) : IAsyncDisposable
{
    public IPage Page => page;
    public ConcurrentQueue<string> Log { get; } = new();
    /// <summary>Console errors and uncaught page errors (pages opened with <see cref="BrowserFixture.OpenUrlAsync"/>).</summary>
    public ConcurrentQueue<string> Errors { get; } = new();

    /// <summary>Waits (up to 15 s) until the element's whole text is <paramref name="expected"/>; fails with the page's state.</summary>
    public async Task ExpectTextAsync(string selector, string expected)
    {
        try
        {
            await Assertions.Expect(page.Locator(selector)).ToHaveTextAsync(expected, new LocatorAssertionsToHaveTextOptions { Timeout = 15_000 });
        }
        catch (Exception e) when (e is PlaywrightException or TimeoutException)
        {
            var shot = Path.Combine(Path.GetTempPath(), $"fanfare-browser-failure-{Guid.NewGuid():N}.png");
            try { await page.ScreenshotAsync(new PageScreenshotOptions { Path = shot, FullPage = true }); } catch { shot = "(none)"; }
            async Task<string> Text(string s)
            {
                try { return await page.Locator(s).TextContentAsync(new LocatorTextContentOptions { Timeout = 1_000 }) ?? ""; }
                catch (PlaywrightException) { return "?"; }
            }
            throw new Xunit.Sdk.XunitException(
                $"{selector}: expected \"{expected}\", page shows \"{await Text(selector)}\"; #error \"{await Text("#error")}\"; screenshot {shot}\n" +
                string.Join("\n", Log) + "\n" + e.Message);
        }
    }

    /// <summary>Saves a screenshot under <c>$FANFARE_SCREENSHOT_DIR</c> when that is set (to look at the page by hand).</summary>
    public async Task ScreenshotIfAskedAsync(string name)
    {
        if (Environment.GetEnvironmentVariable("FANFARE_SCREENSHOT_DIR") is { Length: > 0 } dir)
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(dir, $"offline-frontend-{name}.png"), FullPage = true });
    }

    public async ValueTask DisposeAsync() => await context.CloseAsync();
}

/// <summary>
/// Records the requests one Kestrel port receives, as ASP.NET Core's hosting diagnostics report them (before CORS answers
/// a preflight): this is how a test sees the OPTIONS requests a browser sends but never shows to the page.
/// </summary>
public sealed class RequestRecorder : IObserver<DiagnosticListener>, IDisposable
{
    public sealed record SeenRequest(string Method, string Path, string? Origin, string RequestHeaders);

    private readonly int _port;
    private readonly ConcurrentQueue<SeenRequest> _seen = new();
    private readonly List<IDisposable> _subscriptions = [];
    private readonly IDisposable _all;

    public RequestRecorder(int port)
    {
        _port = port;
        _all = DiagnosticListener.AllListeners.Subscribe(this);
    }

    public IReadOnlyCollection<SeenRequest> Seen => _seen.ToArray();

    void IObserver<DiagnosticListener>.OnNext(DiagnosticListener listener)
    {
        if (listener.Name != "Microsoft.AspNetCore") return;
        lock (_subscriptions)
            _subscriptions.Add(listener.Subscribe(new Observer(this), name => name == "Microsoft.AspNetCore.Hosting.BeginRequest"));
    }

    void IObserver<DiagnosticListener>.OnCompleted() { }
    void IObserver<DiagnosticListener>.OnError(Exception error) { }

    private void Record(object? payload)
    {
        // The payload is an internal type with an HttpContext property.
        var ctx = payload as HttpContext ?? payload?.GetType().GetProperties()
            .Where(p => typeof(HttpContext).IsAssignableFrom(p.PropertyType)).Select(p => p.GetValue(payload) as HttpContext).FirstOrDefault();
        if (ctx is null || ctx.Connection.LocalPort != _port) return;
        var r = ctx.Request;
        _seen.Enqueue(new SeenRequest(r.Method, r.Path.Value ?? "", r.Headers.Origin.ToString() is { Length: > 0 } o ? o : null,
            r.Headers.AccessControlRequestHeaders.ToString().ToLowerInvariant()));
    }

    public void Dispose()
    {
        _all.Dispose();
        lock (_subscriptions) { _subscriptions.ForEach(s => s.Dispose()); _subscriptions.Clear(); }
    }

    private sealed class Observer(RequestRecorder owner) : IObserver<KeyValuePair<string, object?>>
    {
        public void OnNext(KeyValuePair<string, object?> e) => owner.Record(e.Value);
        public void OnCompleted() { }
        public void OnError(Exception error) { }
    }
}

/// <summary>The frontend under test: one HTML page, inline JS, plain fetch — what a developer's app would do.</summary>
internal static class FrontendPage
{
    /// <summary>
    /// Query string: <c>api</c> (consumer API base, e.g. <c>http://localhost:4802/api</c>), <c>pk</c> (publishable key),
    /// <c>flow</c> = <c>queue</c> (with <c>queue</c> = queue id) or <c>otp</c>.
    /// </summary>
    public const string Html = """
        <!doctype html>
        <html lang="en">
        <head>
          <meta charset="utf-8">
          <title>Sneaker Drop — offline frontend</title>
          <style>
            body { font: 16px/1.45 system-ui, sans-serif; margin: 2rem; color: #1d1d1f; max-width: 52rem; }
            h1 { font-size: 1.3rem; } h2 { font-size: 1.1rem; margin-top: 1.5rem; }
            #status { font-size: 2rem; font-weight: 700; margin: .5rem 0; }
            #status.queued { color: #b35c00; } #status.granted { color: #0a7d32; }
            #error { color: #b00020; white-space: pre-wrap; }
            code { font-size: 12px; word-break: break-all; background: #f3f3f5; padding: 1px 4px; }
            input, button { font: inherit; padding: .3rem .5rem; }
            form { margin: .5rem 0; }
          </style>
        </head>
        <body>
          <h1>Fanfare Emulator — offline frontend</h1>
          <p>Consumer API: <code id="api"></code></p>
          <section id="queue-view" hidden>
            <h2 id="queue-name">…</h2>
            <p id="status">…</p>
            <p>Consumer: <code id="consumer"></code></p>
            <p>Admission grant: <code id="grant"></code></p>
          </section>
          <section id="otp-view" hidden>
            <h2>Sign in with a one-time code</h2>
            <form id="request-form"><input id="email" type="email" placeholder="you@example.com" size="32"> <button id="send" type="submit">Send code</button></form>
            <form id="verify-form"><input id="code" inputmode="numeric" autocomplete="one-time-code" placeholder="123456" size="8"> <button id="verify" type="submit">Verify</button></form>
            <p id="otp-state"></p>
            <p>Signed in as consumer: <code id="signed-in"></code></p>
          </section>
          <p id="error"></p>
          <script>
            const qs = new URLSearchParams(location.search);
            const API = qs.get('api'), PK = qs.get('pk');
            const $ = id => document.getElementById(id);
            const sleep = ms => new Promise(r => setTimeout(r, ms));
            $('api').textContent = API;

            async function call(method, path, { token, body } = {}) {
              const headers = { 'X-Publishable-Key': PK };
              if (token) headers['Authorization'] = 'Bearer ' + token;
              if (body !== undefined) headers['Content-Type'] = 'application/json';
              const res = await fetch(API + path, { method, headers, credentials: 'include',
                body: body === undefined ? undefined : JSON.stringify(body) });
              const text = await res.text();
              const json = text ? JSON.parse(text) : null;
              if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${json?.error ?? text}${json?.message ? ': ' + json.message : ''}`);
              return json;
            }
            const fail = e => { $('error').textContent = e?.message ?? String(e); };

            function render(s) {
              const el = $('status');
              el.className = s.status.toLowerCase();
              el.textContent = s.status === 'QUEUED' ? `QUEUED position ${s.position}` : s.status;
              if (s.admissionGrant) $('grant').textContent = s.admissionGrant;
            }

            async function queueFlow(queueId) {
              $('queue-view').hidden = false;
              const session = await call('POST', '/auth/guest');
              const token = session.accessToken;
              $('consumer').textContent = session.session.consumerId;
              const queue = await call('GET', `/queues/${queueId}`, { token });
              $('queue-name').textContent = queue.name;
              let s = await call('POST', `/queues/${queueId}/enter`, { token });
              render(s);
              while (s.status === 'QUEUED') {
                await sleep(250);
                try { s = await call('GET', `/queues/${queueId}/status`, { token }); render(s); }
                catch (e) { fail(e); }
              }
            }

            function otpFlow() {
              $('otp-view').hidden = false;
              $('request-form').onsubmit = async ev => {
                ev.preventDefault(); $('error').textContent = '';
                try { await call('POST', '/auth/otp/request', { body: { email: $('email').value } });
                      $('otp-state').textContent = 'Code sent to ' + $('email').value; }
                catch (e) { fail(e); }
              };
              $('verify-form').onsubmit = async ev => {
                ev.preventDefault(); $('error').textContent = '';
                try { const r = await call('POST', '/auth/otp/verify', { body: { email: $('email').value, code: $('code').value } });
                      $('signed-in').textContent = r.session.consumerId; $('otp-state').textContent = 'Signed in'; }
                catch (e) { fail(e); }
              };
            }

            if (qs.get('flow') === 'queue') queueFlow(qs.get('queue')).catch(fail);
            else if (qs.get('flow') === 'otp') otpFlow();
          </script>
        </body>
        </html>
        """;
}
