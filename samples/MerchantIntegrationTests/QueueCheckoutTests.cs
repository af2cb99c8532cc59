using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Testcontainers;
using Fanfare.Emulator.Tests.Packaging;

namespace MerchantIntegrationTests;

/// <summary>A merchant's integration tests: a shopper queues for a drop, is admitted on the emulator clock, and the
/// merchant's <see cref="CheckoutService" /> takes exactly one order with the grant.</summary>
public sealed class QueueCheckoutTests(FanfareEmulatorFixture fixture) : IClassFixture<FanfareEmulatorFixture>, IAsyncLifetime
{
    private FanfareEmulatorContainer Emulator => fixture.Emulator;

    // Each test starts from the seed with the clock frozen: nothing happens until the test moves it.
    public async Task InitializeAsync()
    {
        if (Emulator.State != DotNet.Testcontainers.Containers.TestcontainersStates.Running) return;
        await Emulator.ResetAsync();
        await Emulator.FreezeClockAsync();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [SkippableFact]
    public async Task An_admitted_shopper_can_check_out_once()
    {
        DockerEngine.Require(); // this repository's CI guard; not needed in your suite
        var (queueId, shopper) = await ShopperInQueueAsync();

        await Emulator.AdvanceClockAsync(TimeSpan.FromSeconds(1)); // admitRate 60/min: the first in line is admitted
        var grant = await GrantAsync(queueId, shopper);

        var checkout = new CheckoutService(ServerClient());
        Assert.NotNull(await checkout.PlaceOrderAsync(queueId, shopper.ConsumerId, grant));
        Assert.Null(await checkout.PlaceOrderAsync(queueId, shopper.ConsumerId, grant)); // grants are single-use
    }

    [SkippableFact]
    public async Task An_expired_grant_is_refused()
    {
        DockerEngine.Require();
        var (queueId, shopper) = await ShopperInQueueAsync();
        await Emulator.AdvanceClockAsync(TimeSpan.FromSeconds(1));
        var grant = await GrantAsync(queueId, shopper);

        await Emulator.AdvanceClockAsync(TimeSpan.FromMinutes(6)); // past admissionExpirationSeconds (300)
        Assert.Null(await new CheckoutService(ServerClient()).PlaceOrderAsync(queueId, shopper.ConsumerId, grant));
    }

    private sealed record Shopper(string ConsumerId, HttpClient Browser);

    private async Task<(string QueueId, Shopper Shopper)> ShopperInQueueAsync()
    {
        var admin = ServerClient(Emulator.GetAdminBaseAddress());
        var sequences = await admin.GetFromJsonAsync<JsonObject>("/sequences");
        var sequenceId = sequences!["data"]![0]!["id"]!.GetValue<string>();
        var queue = await (await admin.PostAsJsonAsync("/queues", new { sequenceId, name = "Drop", admitRate = 60, admissionExpirationSeconds = 300 }))
            .EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonObject>();
        var queueId = queue!["id"]!.GetValue<string>();

        // The shopper signs in by email; the code comes from the emulator's inbox.
        var browser = new HttpClient { BaseAddress = Emulator.GetConsumerBaseAddress() };
        browser.DefaultRequestHeaders.Add("X-Publishable-Key", Emulator.PublishableKey);
        const string email = "shopper@example.test";
        (await browser.PostAsJsonAsync("/auth/otp/request", new { email })).EnsureSuccessStatusCode();
        var code = (await Emulator.GetLatestEmailAsync(email))!.Code;
        var session = await (await browser.PostAsJsonAsync("/auth/otp/verify", new { email, code }))
            .EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonObject>();
        browser.DefaultRequestHeaders.Add("Authorization", "Bearer " + session!["accessToken"]!.GetValue<string>());

        (await browser.PostAsync($"/queues/{queueId}/enter", null)).EnsureSuccessStatusCode();
        return (queueId, new Shopper(session["session"]!["consumerId"]!.GetValue<string>(), browser));
    }

    private static async Task<string> GrantAsync(string queueId, Shopper shopper)
    {
        var status = await shopper.Browser.GetFromJsonAsync<JsonObject>($"/queues/{queueId}/status");
        Assert.Equal("GRANTED", status!["status"]!.GetValue<string>());
        return status["admissionGrant"]!.GetValue<string>();
    }

    private HttpClient ServerClient(Uri? baseAddress = null)
    {
        var c = new HttpClient { BaseAddress = baseAddress ?? Emulator.GetConsumerBaseAddress() };
        c.DefaultRequestHeaders.Add("Authorization", "Bearer " + Emulator.SecretKey);
        return c;
    }
}
