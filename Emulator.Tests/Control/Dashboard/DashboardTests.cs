using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Auth;
using Fanfare.Emulator.Tests.Browser;
using Fanfare.Emulator.Tests.Infrastructure;
using Fanfare.Emulator.Tests.Webhooks;
using Microsoft.Playwright;

namespace Fanfare.Emulator.Tests.Control.Dashboard;

/// <summary>
/// The dashboard (<c>/_emulator/ui/</c> on the admin port) driven in Debian's headless Chromium against a running
/// emulator: each test acts through the page like QA would and checks the emulator's state through the API. Every test
/// saves a screenshot under <c>screenshots/</c> in the test output folder (the README shows two of them) and fails on
/// any console error.
/// </summary>
[Trait("Category", "Browser")]
public sealed class DashboardTests(EmulatorServer emu, BrowserFixture browser) : IClassFixture<EmulatorServer>, IClassFixture<BrowserFixture>
{
    static DashboardTests() => Assertions.SetDefaultExpectTimeout(30_000); // a busy 2-core CI machine

    private string Ui => $"http://127.0.0.1:{emu.AdminPort}/_emulator/ui/";

    [Fact]
    public async Task The_admin_port_root_and_ui_redirect_to_the_dashboard_served_from_the_binary()
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri($"http://127.0.0.1:{emu.AdminPort}") };
        var root = await http.GetAsync("/");
        Assert.Equal(302, (int)root.StatusCode);
        Assert.Equal("/_emulator/ui/", root.Headers.Location!.OriginalString);
        var ui = await http.GetAsync("/_emulator/ui");
        Assert.Equal("/_emulator/ui/", ui.Headers.Location!.OriginalString);
        var index = await http.GetAsync("/_emulator/ui/");
        Assert.Equal("text/html; charset=utf-8", index.Content.Headers.ContentType!.ToString());
        var vendor = await http.GetAsync("/_emulator/ui/vendor/uPlot.iife.min.js");
        Assert.Equal(200, (int)vendor.StatusCode);
        Assert.Equal(404, (int)(await http.GetAsync("/_emulator/ui/nope.js")).StatusCode);
        // Only the admin port's root is the dashboard; the consumer port's "/" stays the API's 404.
        Assert.Equal(404, (int)(await emu.Consumer.GetAsync("/")).StatusCode);
    }

    [Fact]
    public async Task Info_and_jobs_tell_the_dashboard_what_exists_and_what_an_advance_will_run()
    {
        await emu.ResetAsync();
        var info = await emu.Control.GetJsonAsync("/_emulator/info");
        Assert.Equal(emu.AdminPort, info["ports"]!["admin"]!.GetValue<int>());
        Assert.Equal(emu.CheckoutPort, info["ports"]!["checkout"]!.GetValue<int>());
        Assert.Equal("/_emulator/ui/", info["dashboard"]!.GetValue<string>());

        var jobs = await emu.Control.GetJsonAsync("/_emulator/jobs?limit=3");
        var list = jobs["jobs"]!.AsArray();
        Assert.InRange(list.Count, 1, 3);
        Assert.True(jobs["pending"]!.GetValue<int>() >= list.Count);
        var due = list.Select(j => DateTimeOffset.Parse(j!["dueAt"]!.GetValue<string>())).ToList();
        Assert.Equal(due.OrderBy(d => d), due); // soonest first
    }

    [Fact]
    public async Task Each_port_serves_an_interactive_api_reference_of_its_own_openapi_document()
    {
        foreach (var client in new[] { emu.Admin, emu.Consumer })
        {
            var page = await client.GetAsync("/_emulator/reference/");
            Assert.Equal(200, (int)page.StatusCode);
            Assert.Contains("scalar", await page.Content.ReadAsStringAsync());
            var script = await client.GetAsync("/_emulator/reference/scalar.js");
            Assert.Equal(200, (int)script.StatusCode); // bundled: works offline
        }
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = true });
        var consumerDoc = await http.GetStringAsync($"http://127.0.0.1:{emu.ConsumerPort}/_emulator/reference/openapi/v1.json");
        var adminDoc = await http.GetStringAsync($"http://127.0.0.1:{emu.AdminPort}/_emulator/reference/openapi/v1.json");
        Assert.Contains("/auth/guest", consumerDoc);
        Assert.DoesNotContain("/auth/guest", adminDoc);
        Assert.Contains("/experiences", adminDoc);
    }

    [Fact]
    public async Task Inbox_page_shows_the_one_time_code_of_a_sign_in_as_it_arrives()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await using var session = await browser.OpenUrlAsync(Ui + "#/inbox");
        var page = session.Page;
        await Assertions.Expect(page.Locator("#messages")).ToContainTextAsync("Nothing sent yet");

        const string email = "dashboard-shopper@example.com";
        (await emu.RequestOtpAsync(org.PublishableKey, new JsonObject { ["email"] = email })).EnsureStatus(200);
        var code = await emu.LatestCodeAsync(email);

        // New messages appear without a reload; the code is shown big.
        await Assertions.Expect(page.Locator("#messages .otp").First).ToHaveTextAsync(code);
        await Assertions.Expect(page.Locator("#messages .recipient").First).ToHaveTextAsync(email);
        await page.Locator("#recipient-filter").FillAsync("nobody@example.com");
        await Assertions.Expect(page.Locator("#messages .otp")).ToHaveCountAsync(0);
        await page.Locator("#recipient-filter").FillAsync(email);
        await Assertions.Expect(page.Locator("#messages .otp")).ToHaveCountAsync(1);
        var href = await page.Locator("#messages a[download]").First.GetAttributeAsync("href");
        Assert.StartsWith("/_emulator/inbox/", href);

        await SaveAsync(session, "dashboard-inbox");
        AssertNoConsoleErrors(session);
    }

    [Fact]
    public async Task Advancing_the_clock_from_the_clock_page_moves_the_queue_and_expires_a_grant()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await emu.FreezeClockAsync();
        var queueId = await SneakerDropQueueIdAsync(org.SecretKey);
        var simulated = (await emu.Control.PostJsonAsync($"/_emulator/distributions/{queueId}/simulate", new JsonObject { ["consumers"] = 3 })).EnsureStatus(200);
        var third = simulated["consumerIds"]!.AsArray()[2]!.GetValue<string>();

        await using var session = await browser.OpenUrlAsync(Ui + "#/experiences/" + queueId);
        var page = session.Page;
        var thirdRow = page.Locator($"#participants tr[data-consumer='{third}']");
        await Assertions.Expect(thirdRow).ToHaveAttributeAsync("data-status", "QUEUED");
        await Assertions.Expect(thirdRow.Locator("td").Nth(2)).ToHaveTextAsync("3"); // columns: consumer, status, position

        // admitRate 60/min: one second of emulator time admits the front of the line.
        await page.GotoAsync(Ui + "#/clock");
        await Assertions.Expect(page.Locator("#jobs")).ToBeVisibleAsync();
        await page.Locator("#advance-duration").FillAsync("1");
        await page.Locator("#advance-duration").PressAsync("Enter");
        await WaitForAsync(async () => (await QueuedPositionAsync(queueId, third)) == 2, "third consumer moves to position 2");

        await page.GotoAsync(Ui + "#/experiences/" + queueId);
        await Assertions.Expect(thirdRow.Locator("td").Nth(2)).ToHaveTextAsync("2");

        // A minute admits everyone (grants last 600 s); ten more expire the grants.
        await page.GotoAsync(Ui + "#/clock");
        await page.Locator("button[data-seconds='60']").ClickAsync();
        await WaitForAsync(async () => await StatusAsync(queueId, third) == "GRANTED", "third consumer granted");
        await page.GotoAsync(Ui + "#/experiences/" + queueId);
        await Assertions.Expect(thirdRow).ToHaveAttributeAsync("data-status", "GRANTED");
        await Assertions.Expect(thirdRow.Locator(".countdown")).ToContainTextAsync("m");
        await SaveAsync(session, "dashboard-queue");

        await page.GotoAsync(Ui + "#/clock");
        await page.Locator("button[data-seconds='600']").ClickAsync();
        await WaitForAsync(async () => await StatusAsync(queueId, third) != "GRANTED", "the grant expires");
        await page.GotoAsync(Ui + "#/experiences/" + queueId);
        await Assertions.Expect(thirdRow).Not.ToHaveAttributeAsync("data-status", "GRANTED");

        await page.GotoAsync(Ui + "#/clock");
        await Assertions.Expect(page.Locator("#clock-mode")).ToContainTextAsync("frozen");
        await SaveAsync(session, "dashboard-clock");
        AssertNoConsoleErrors(session);
    }

    [Fact]
    public async Task Webhooks_page_redelivers_a_delivery()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var endpoint = await emu.CreateEndpointAsync(org.SecretKey, receiver.Url, ["queue.consumer.entered"]);
        await emu.SendTestAsync(org.SecretKey, endpoint["id"].S(), "queue.consumer.entered");
        await emu.RunDueAsync();
        var before = (await emu.DeliveriesAsync()).Count;
        Assert.True(before >= 1);

        await using var session = await browser.OpenUrlAsync(Ui + "#/webhooks", dark: true);
        var page = session.Page;
        await Assertions.Expect(page.Locator("#deliveries tr[data-delivery]")).ToHaveCountAsync(before);
        await page.Locator("#deliveries button.redeliver").First.ClickAsync();
        await WaitForAsync(async () => (await emu.DeliveriesAsync()).Count == before + 1, "a redelivery is recorded");
        await Assertions.Expect(page.Locator("#deliveries tr[data-delivery]")).ToHaveCountAsync(before + 1);
        await SaveAsync(session, "dashboard-webhooks");
        AssertNoConsoleErrors(session);
    }

    [Fact]
    public async Task Overview_lists_the_well_known_keys_with_copy_buttons_in_light_and_dark()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        foreach (var dark in new[] { false, true })
        {
            await using var session = await browser.OpenUrlAsync(Ui, dark: dark);
            var page = session.Page;
            await Assertions.Expect(page.Locator("main")).ToContainTextAsync(org.SecretKey);
            await Assertions.Expect(page.Locator($"button[aria-label='Copy {org.PublishableKey}']")).ToBeVisibleAsync();
            // Keyboard: the navigation is reachable with Tab and every control has an accessible name.
            var unnamed = await page.EvaluateAsync<int>("() => [...document.querySelectorAll('button, input, select')].filter(e => !(e.getAttribute('aria-label') || e.textContent.trim() || (e.id && document.querySelector(`label[for='${e.id}']`)) || e.closest('label'))).length");
            Assert.Equal(0, unnamed);
            if (!dark) await SaveAsync(session, "dashboard-overview");
            AssertNoConsoleErrors(session);
        }
    }

    [Fact]
    public async Task Requests_page_shows_the_request_journal()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        (await emu.PostGuestAsync(org.PublishableKey)).EnsureStatus(200);
        await using var session = await browser.OpenUrlAsync(Ui + "#/requests");
        var page = session.Page;
        await Assertions.Expect(page.Locator("#nav-requests")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#requests")).ToContainTextAsync("/auth/guest");
        AssertNoConsoleErrors(session);
    }

    [Fact]
    public async Task Consumers_page_finds_a_seeded_consumer_and_shows_their_timeline()
    {
        await emu.ResetAsync();
        await using var session = await browser.OpenUrlAsync(Ui + "#/consumers");
        var page = session.Page;
        await page.Locator("#consumer-search").FillAsync("vip@fanfare");
        // Once the search applied, the list holds the one consumer it matches.
        await Assertions.Expect(page.Locator("#consumer-list tbody tr")).ToHaveCountAsync(1);
        var row = page.Locator("#consumer-list tbody tr", new PageLocatorOptions { HasText = "vip@fanfare.test" });
        await row.Locator("a").ClickAsync();
        await Assertions.Expect(page.Locator("#timeline li[data-type='ORDER']").First).ToBeVisibleAsync();
        AssertNoConsoleErrors(session);
    }

    // ------------------------------------------------------------------ helpers

    private async Task<string?> StatusAsync(string queueId, string consumerId)
    {
        var p = await emu.Control.GetJsonAsync($"/_emulator/distributions/{queueId}/participants");
        return p["participants"]!.AsArray().Single(x => x!["consumerId"]!.GetValue<string>() == consumerId)!["status"]!.GetValue<string>();
    }

    private async Task<int?> QueuedPositionAsync(string queueId, string consumerId)
    {
        var p = await emu.Control.GetJsonAsync($"/_emulator/distributions/{queueId}/participants");
        return p["participants"]!.AsArray().Single(x => x!["consumerId"]!.GetValue<string>() == consumerId)!["position"]?.GetValue<int>();
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        for (var i = 0; i < 150; i++)
        {
            if (await condition()) return;
            await Task.Delay(100);
        }
        throw new Xunit.Sdk.XunitException("Timed out waiting until " + what);
    }

    private static async Task SaveAsync(PageSession session, string name)
    {
        var dir = Environment.GetEnvironmentVariable("FANFARE_SCREENSHOT_DIR") is { Length: > 0 } d ? d : Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(dir);
        await session.Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(dir, name + ".png"), FullPage = false });
    }

    private static void AssertNoConsoleErrors(PageSession session) =>
        Assert.True(session.Errors.IsEmpty, "console errors: " + string.Join("\n", session.Errors) + "\n" + string.Join("\n", session.Log));

    private async Task<string> SneakerDropQueueIdAsync(string secretKey)
    {
        var sk = HttpClientExtensions.Sk(secretKey);
        var experiences = await emu.Admin.GetJsonAsync("/api/experiences?first=100", sk);
        var experience = experiences["data"]!.AsArray().Single(e => e!["name"]!.GetValue<string>() == "Sneaker Drop — Queue")!;
        return experience["sequences"]!.AsArray().SelectMany(s => s!["queues"]!.AsArray()).First()!["id"]!.GetValue<string>();
    }
}
