using System.Text;
using System.Text.Json.Nodes;

namespace Fanfare.Emulator.Bench;

/// <summary>
/// <c>checkout</c>: on a private emulator with its clock frozen, a queue in the seeded "Sneaker Drop — Queue" sequence
/// (which sells the seeded Court Classic Sneaker), <c>--checkout-consumers</c> (2000) guests entered and admitted at once
/// (<c>POST /_emulator/queues/{id}/admit</c>), their admission tokens read (setup, untimed), the size-9 variant restocked
/// to 1,000,000 units; then one <c>POST /checkout</c> per admitted consumer, concurrently (requests/s, latency).
/// <b>Checked</b>: every checkout 200 with five non-empty fields, distinct order ids, and the variant's
/// <c>GET …/variants/available</c> still listing it (reservations counted); a failure prints <c>CHECK FAILED</c>.
/// </summary>
public sealed class CheckoutScenario : IScenario
{
    public string Name => "checkout";
    public string Description => "--checkout-consumers admitted grants, one concurrent POST /checkout each (checked)";

    private const string Product = "0190f000-0000-7000-8000-000000000101", Variant = "0190f000-0000-7000-8000-000000000201";

    public async Task<IReadOnlyList<Row>> RunAsync(BenchContext context)
    {
        var o = context.Options;
        var n = o.CheckoutConsumers;
        var workers = o.Concurrency;
        await using var emu = await EmulatorProcess.StartAsync(o);
        using var consumer = emu.Client(emu.ConsumerPort, workers);
        using var admin = emu.Client(emu.AdminPort, 4);
        using var checkout = emu.Client(emu.CheckoutPort, workers);
        var org = JsonNode.Parse(await admin.GetStringAsync("/_emulator/organizations"))!["organizations"]![0]!;
        var pk = org["publishableKey"]!.GetValue<string>();
        var sk = org["secretKey"]!.GetValue<string>();
        admin.DefaultRequestHeaders.Authorization = new("Bearer", sk);
        checkout.DefaultRequestHeaders.Authorization = new("Bearer", sk);
        await Http.SendJsonAsync(admin, HttpMethod.Post, "/_emulator/clock/freeze", "{}");
        await Http.SendJsonAsync(admin, HttpMethod.Patch, $"/api/products/{Product}/variants/{Variant}/inventory", "{\"inventoryQuantity\":1000000}");
        var sequences = (JsonArray)(await Http.SendJsonAsync(admin, HttpMethod.Get, "/api/sequences?first=100", null))["data"]!;
        var sequenceId = (sequences.FirstOrDefault(s => s?["queues"] is JsonArray { Count: > 0 }) ?? sequences[0])!["id"]!.GetValue<string>();
        var queueId = (await Http.SendJsonAsync(admin, HttpMethod.Post, "/api/queues", new JsonObject
        {
            ["sequenceId"] = sequenceId, ["name"] = "Bench checkout queue", ["admitRate"] = 60, ["admissionExpirationSeconds"] = 3600, ["supportsGuest"] = true,
        }.ToJsonString()))["id"]!.GetValue<string>();

        // setup (untimed): guests, entries, admission, tokens
        var access = new string[n];
        await Load.RunEachAsync(workers, n, async (i, ct) => { access[i] = await QueueFixture.GuestAsync(consumer, pk, ct); return 200; });
        await Load.RunEachAsync(workers, n, async (i, ct) => (await QueueFixture.EnterAsync(consumer, pk, queueId, access[i], ct)).Code);
        await Http.SendJsonAsync(admin, HttpMethod.Post, $"/_emulator/queues/{queueId}/admit", $"{{\"count\":{n}}}");
        var grants = new string?[n];
        await Load.RunEachAsync(workers, n, async (i, ct) =>
        {
            using var req = new HttpRequestMessage(HttpMethod.Get, $"/api/queues/{queueId}/status");
            req.Headers.Add("X-Publishable-Key", pk);
            req.Headers.Authorization = new("Bearer", access[i]);
            using var res = await consumer.SendAsync(req, ct);
            grants[i] = JsonNode.Parse(await res.Content.ReadAsStringAsync(ct))?["admissionGrant"]?.GetValue<string>();
            return (int)res.StatusCode;
        });
        if (grants.Any(g => g is null)) throw new BenchCheckFailedException($"checkout: {grants.Count(g => g is null)} of {n} consumers were not admitted");

        // timed: one POST /checkout per grant
        var orders = new string?[n];
        var result = await Load.RunEachAsync(workers, n, async (i, ct) =>
        {
            var body = new JsonObject
            {
                ["admissionToken"] = grants[i], ["distributionId"] = queueId, ["productId"] = Product, ["variantId"] = Variant, ["quantity"] = 1,
                ["currencyCode"] = "USD", ["successUrl"] = "https://merchant.example/ok", ["cancelUrl"] = "https://merchant.example/cancel",
                ["idempotencyKey"] = $"bench-{i}",
            }.ToJsonString();
            using var req = new HttpRequestMessage(HttpMethod.Post, "/api/checkout") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            using var res = await checkout.SendAsync(req, ct);
            var text = await res.Content.ReadAsStringAsync(ct);
            if (res.IsSuccessStatusCode && JsonNode.Parse(text) is JsonObject j
                && new[] { "orderId", "paymentId", "checkoutUrl", "expiresAt", "deadline" }.All(k => j[k]?.GetValue<string>() is { Length: > 0 }))
                orders[i] = j["orderId"]!.GetValue<string>();
            return (int)res.StatusCode;
        });
        var ok = orders.Count(x => x is not null);
        var distinct = orders.Where(x => x is not null).Distinct().Count();
        if (ok != n || distinct != n || result.Errors > 0)
            throw new BenchCheckFailedException($"checkout: {ok} of {n} checkouts answered 200 with the five fields, {distinct} distinct orders, {result.Errors} transport errors");
        var rows = new List<Row>(result.Rows(Name, $"POST /checkout ×{n}"))
        {
            new(Name, "check: every checkout 200, distinct orders", n, "orders", "one per admitted consumer, reserved against a deny-policy variant"),
        };
        return rows;
    }
}
