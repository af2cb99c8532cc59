using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using DotNet.Testcontainers.Builders;
using Fanfare.Emulator.Tests.Packaging;

namespace Fanfare.Emulator.Testcontainers.Tests;

/// <summary>One emulator container for the class, started through the module on first use (a test can then still skip
/// without an engine, or fail under CI=true).</summary>
public sealed class EmulatorFixture : IAsyncLifetime
{
    public const string OtpCode = "424242";
    private readonly SemaphoreSlim _gate = new(1, 1);
    private FanfareEmulatorContainer? _container;

    public async Task<FanfareEmulatorContainer> GetAsync()
    {
        DockerEngine.Require();
        await _gate.WaitAsync();
        try
        {
            if (_container is null)
            {
                var c = new FanfareEmulatorBuilder(DockerEngine.Image).WithOtpFixedCode(OtpCode).Build();
                await c.StartAsync();
                _container = c;
            }
            return _container;
        }
        finally { _gate.Release(); }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_container is not null) await _container.DisposeAsync();
    }
}

/// <summary>
/// The module against the image built from the repository's Dockerfile (<c>docker/build-local.sh</c>): addresses, the
/// well-known keys, the QA helpers and a merchant-style integration test through them.
/// </summary>
[Trait("Category", "Container")]
public sealed class FanfareEmulatorContainerTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    [Fact]
    public void The_builder_defaults_to_the_project_image_and_the_emulator_ports()
    {
        Assert.Equal(DockerEngine.DefaultImage, FanfareEmulatorBuilder.FanfareEmulatorImage);
        Assert.Equal([4800, 4802, 4803, 4805], new[] { FanfareEmulatorBuilder.AdminPort, FanfareEmulatorBuilder.ConsumerPort, FanfareEmulatorBuilder.BeaconPort, FanfareEmulatorBuilder.CheckoutPort }.Select(p => (int)p));
    }

    [SkippableFact]
    public async Task Addresses_reach_the_four_ports_and_the_well_known_keys_are_the_running_seeds()
    {
        var emulator = await fixture.GetAsync();
        var addresses = new[] { emulator.GetAdminBaseAddress(), emulator.GetConsumerBaseAddress(), emulator.GetCheckoutBaseAddress(), emulator.GetBeaconBaseAddress() };
        Assert.Equal(4, addresses.Select(a => a.Port).Distinct().Count());
        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(addresses[0], "/_emulator/health"))).StatusCode);
        foreach (var a in addresses[1..])
            Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(new Uri(a, "/no-such-path"))).StatusCode);

        var orgs = await emulator.GetOrganizationsAsync();
        Assert.Equal(FanfareEmulatorContainer.DefaultOrganization, orgs[0]);
        Assert.Equal(orgs[0].PublishableKey, emulator.PublishableKey);
        Assert.Equal(orgs[0].SecretKey, emulator.SecretKey);
        Assert.Equal(orgs[0].WebhookSecret, emulator.WebhookSecret);
        Assert.Equal(orgs[0].OrganizationId, emulator.OrganizationId);
    }

    [SkippableFact]
    public async Task A_merchant_integration_test_runs_a_queue_drop_on_a_frozen_clock_through_the_helpers()
    {
        var emulator = await fixture.GetAsync();
        await emulator.ResetAsync();
        var frozen = await emulator.FreezeClockAsync(new DateTimeOffset(2030, 6, 1, 12, 0, 0, TimeSpan.Zero));
        Assert.Equal(new DateTimeOffset(2030, 6, 1, 12, 0, 0, TimeSpan.Zero), frozen);

        using var admin = Client(emulator.GetAdminBaseAddress(), emulator.SecretKey);
        using var server = Client(emulator.GetConsumerBaseAddress(), emulator.SecretKey);
        using var browser = new HttpClient { BaseAddress = emulator.GetConsumerBaseAddress() };
        browser.DefaultRequestHeaders.Add("X-Publishable-Key", emulator.PublishableKey);

        var sequenceId = (await admin.GetFromJsonAsync<JsonObject>("/sequences"))!["data"]![0]!["id"]!.GetValue<string>();
        var queue = await Json(await admin.PostAsJsonAsync("/queues", new { sequenceId, name = "Summer drop", admitRate = 60, admissionExpirationSeconds = 300 }));
        var queueId = queue["id"]!.GetValue<string>();

        // A shopper signs in with an emailed one-time code (fixed by WithOtpFixedCode) and joins the queue.
        const string email = "shopper@merchant.test";
        (await browser.PostAsJsonAsync("/auth/otp/request", new { email })).EnsureSuccessStatusCode();
        var mail = await emulator.GetLatestEmailAsync(email);
        Assert.NotNull(mail);
        Assert.Equal(EmulatorFixture.OtpCode, mail.Code);
        Assert.Equal(frozen, mail.SentAt);
        var session = await Json(await browser.PostAsJsonAsync("/auth/otp/verify", new { email, code = mail.Code }));
        var consumerId = session["session"]!["consumerId"]!.GetValue<string>();
        browser.DefaultRequestHeaders.Add("Authorization", "Bearer " + session["accessToken"]!.GetValue<string>());

        Assert.Equal("QUEUED", (await Json(await browser.PostAsync($"/queues/{queueId}/enter", null)))["status"]!.GetValue<string>());
        Assert.Equal(frozen.AddSeconds(1), await emulator.AdvanceClockAsync(TimeSpan.FromSeconds(1)));
        var status = (await browser.GetFromJsonAsync<JsonObject>($"/queues/{queueId}/status"))!;
        Assert.Equal("GRANTED", status["status"]!.GetValue<string>());

        // The merchant's checkout validates the grant once and completes the order.
        var grant = new { consumerId, token = status["admissionGrant"]!.GetValue<string>() };
        Assert.True((await Json(await server.PostAsJsonAsync($"/queues/{queueId}/validate", grant))).GetValue<bool>());
        Assert.Equal("COMPLETED", (await Json(await server.PostAsJsonAsync($"/queues/{queueId}/complete", new { consumerId, metadata = new { orderId = "ord_1" } })))["status"]!.GetValue<string>());
        Assert.False((await Json(await server.PostAsJsonAsync($"/queues/{queueId}/validate", grant))).GetValue<bool>());

        // SMS codes too; and the reset puts the seed back (the queue is gone).
        (await browser.PostAsJsonAsync("/auth/otp/request", new { phone = "+15555550123" })).EnsureSuccessStatusCode();
        Assert.Equal(EmulatorFixture.OtpCode, (await emulator.GetLatestSmsAsync("+15555550123"))?.Code);
        Assert.Null(await emulator.GetLatestSmsAsync("+15555550999", TimeSpan.Zero));
        await emulator.ResetAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/queues/{queueId}")).StatusCode);
        Assert.Null(await emulator.GetLatestEmailAsync(email, TimeSpan.Zero));
    }

    [SkippableFact]
    public async Task WithSeed_and_WithSmtpRelay_configure_the_container()
    {
        DockerEngine.Require();
        var seed = JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryRoot(), "seed", "default.json")))!;
        seed["organizations"]![0]!["name"] = "Testcontainers Co";
        await using var emulator = new FanfareEmulatorBuilder(DockerEngine.Image)
            .WithSeed(seed.ToJsonString())
            .WithSmtpRelay("mailpit", 1025)
            .Build();
        await emulator.StartAsync();

        Assert.Equal("Testcontainers Co", (await emulator.GetOrganizationsAsync())[0].Name);
        var env = DockerEngine.Run("inspect", "--format", "{{range .Config.Env}}{{println .}}{{end}}", emulator.Id).Split('\n');
        Assert.Contains("Emulator__SmtpHost=mailpit", env);
        Assert.Contains("Emulator__SmtpPort=1025", env);
        Assert.Contains($"Emulator__SeedFile={FanfareEmulatorBuilder.SeedFilePath}", env);
    }

    private static HttpClient Client(Uri baseAddress, string secretKey)
    {
        var c = new HttpClient { BaseAddress = baseAddress };
        c.DefaultRequestHeaders.Add("Authorization", "Bearer " + secretKey);
        return c;
    }

    private static async Task<JsonNode> Json(HttpResponseMessage res)
    {
        var text = await res.Content.ReadAsStringAsync();
        Assert.True(res.IsSuccessStatusCode, $"{res.RequestMessage?.Method} {res.RequestMessage?.RequestUri} answered {(int)res.StatusCode}: {text}");
        return JsonNode.Parse(text)!;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Fanfare.Emulator.sln"))) return dir.FullName;
        throw new InvalidOperationException("no Fanfare.Emulator.sln above " + AppContext.BaseDirectory);
    }
}
