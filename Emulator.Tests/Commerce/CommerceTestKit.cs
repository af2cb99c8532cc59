using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Distributions;
using Fanfare.Emulator.Tests.Infrastructure;
using static Fanfare.Emulator.Tests.Infrastructure.HttpClientExtensions;

namespace Fanfare.Emulator.Tests.Commerce;

/// <summary>Shared steps of the commerce tests: seeded catalogue ids, an admitted queue guest, a checkout body.</summary>
public static class CommerceTestKit
{
    /// <summary>Seeded (seed/default.json): Court Classic Sneaker, its size-9 and size-10 variants (149.99, 25 each, deny).</summary>
    public const string Sneaker = "0190f000-0000-7000-8000-000000000101", Sneaker9 = "0190f000-0000-7000-8000-000000000201",
        Sneaker10 = "0190f000-0000-7000-8000-000000000202", Hoodie = "0190f000-0000-7000-8000-000000000105", HoodieM = "0190f000-0000-7000-8000-000000000206";

    public sealed record Admitted(OrgKeys Org, string QueueId, string SequenceId, Guest Guest, string Token, DateTimeOffset GrantExpiresAt, DateTimeOffset Now);

    /// <summary>Reset, freeze the clock, a queue (admission 300 s), one guest entered and admitted 1 s later.</summary>
    public static async Task<Admitted> AdmittedGuestAsync(this EmulatorServer emu, int admissionSeconds = 300)
    {
        await emu.ResetAsync();
        var now = await emu.FreezeClockAsync(new DateTimeOffset(2030, 1, 1, 9, 0, 0, TimeSpan.Zero));
        var org = await emu.DemoOrgAsync();
        var sequenceId = emu.CreateSequence(org);
        var q = (await emu.Admin.PostJsonAsync("/queues", new JsonObject
        {
            ["sequenceId"] = sequenceId, ["name"] = "Launch queue", ["admitRate"] = 60, ["admissionExpirationSeconds"] = admissionSeconds,
        }, Sk(org.SecretKey))).EnsureStatus(200);
        var queueId = q["id"].GetValue<string>();
        var guest = await emu.GuestOfAsync(org);
        (await emu.Consumer.PostJsonAsync($"/queues/{queueId}/enter", null, guest.Headers)).EnsureStatus(200);
        await emu.AdvanceClockAsync(1);
        var status = (await emu.Consumer.GetAsync($"/queues/{queueId}/status", guest.Headers)).EnsureStatus(200);
        Assert.Equal("GRANTED", status["status"].GetValue<string>());
        return new Admitted(org, queueId, sequenceId, guest, status["admissionToken"].GetValue<string>(),
            DateTimeOffset.Parse(status["expiresAt"].GetValue<string>()), now.AddSeconds(1));
    }

    public static JsonObject CheckoutBody(this Admitted a, string? key = null, int quantity = 1, string variantId = Sneaker9, string productId = Sneaker) => new()
    {
        ["admissionToken"] = a.Token, ["distributionId"] = a.QueueId, ["productId"] = productId, ["variantId"] = variantId,
        ["quantity"] = quantity, ["currencyCode"] = "USD", ["successUrl"] = "https://merchant.example/success",
        ["cancelUrl"] = "https://merchant.example/cancel", ["idempotencyKey"] = key ?? Guid.NewGuid().ToString(),
    };

    public static Task<ApiResponse> CheckoutAsync(this EmulatorServer emu, Admitted a, JsonObject body) =>
        emu.Checkout.PostJsonAsync("/checkout", body, Sk(a.Org.SecretKey));

    public static async Task<JsonNode> OrderAsync(this EmulatorServer emu, string orderId) => await emu.Control.GetJsonAsync("/_emulator/orders/" + orderId);

    public static async Task<JsonNode> VariantAsync(this EmulatorServer emu, OrgKeys org, string productId, string variantId) =>
        await emu.Admin.GetJsonAsync($"/products/{productId}/variants/{variantId}", Sk(org.SecretKey));

    /// <summary>Outbox events of a type about one order (the seed's consumer history records its own <c>order.completed</c>
    /// events, so a test looks at its own order's events only).</summary>
    public static List<Fanfare.Emulator.Infrastructure.Events.OutboxEvent> OrderEvents(this EmulatorServer emu, string type, string orderId) =>
        emu.Events(type).Where(e => e.Data["orderId"]?.GetValue<string>() == orderId).ToList();

    /// <summary>A client on the checkout port that does not follow redirects (the page's buttons answer 302).</summary>
    public static HttpClient NoRedirectCheckout(this EmulatorServer emu) =>
        new(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri($"http://127.0.0.1:{emu.CheckoutPort}") };
}
