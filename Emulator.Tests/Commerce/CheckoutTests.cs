using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Distributions;
using Fanfare.Emulator.Tests.Infrastructure;
using Fanfare.Emulator.Tests.Webhooks;
using static Fanfare.Emulator.Tests.Infrastructure.HttpClientExtensions;
using static Fanfare.Emulator.Tests.Commerce.CommerceTestKit;

namespace Fanfare.Emulator.Tests.Commerce;

/// <summary>The purchase over HTTP on a frozen clock: guest → queue → admitted → checkout → pay → order webhooks → grant
/// completed, and its failure paths (expired / used / foreign grant, sold out, payment failed, lapse, refund, cancellation).</summary>
public sealed class CheckoutTests(BareEmulatorServer emu) : IClassFixture<BareEmulatorServer>
{
    private static readonly string[] SessionFields = ["orderId", "paymentId", "checkoutUrl", "expiresAt", "deadline"];

    [Fact]
    public async Task Guest_is_admitted_checks_out_pays_on_the_page_and_the_order_completes_the_grant()
    {
        var a = await emu.AdmittedGuestAsync();
        var key = Guid.NewGuid().ToString();
        var session = (await emu.CheckoutAsync(a, a.CheckoutBody(key, quantity: 2))).EnsureStatus(200);
        // checkout-api.json: the five required strings, nothing else
        Assert.Equal(SessionFields.OrderBy(x => x), session.Json!.AsObject().Select(p => p.Key).OrderBy(x => x));
        foreach (var f in SessionFields) Assert.Equal(System.Text.Json.JsonValueKind.String, session[f].GetValueKind());
        Assert.Equal(a.GrantExpiresAt, DateTimeOffset.Parse(session["deadline"].GetValue<string>()));
        Assert.Equal(a.GrantExpiresAt.AddMinutes(1), DateTimeOffset.Parse(session["expiresAt"].GetValue<string>()));
        var orderId = session["orderId"].GetValue<string>();
        var paymentId = session["paymentId"].GetValue<string>();

        // the same idempotencyKey answers the first response and creates nothing new
        var again = (await emu.CheckoutAsync(a, a.CheckoutBody(key, quantity: 2))).EnsureStatus(200);
        Assert.Equal(session.Text, again.Text);
        Assert.Single((await emu.Control.GetJsonAsync($"/_emulator/orders?consumerId={a.Guest.Id}"))["orders"]!.AsArray());
        Assert.Equal(409, (await emu.CheckoutAsync(a, a.CheckoutBody(key, quantity: 1))).Code); // same key, other body

        var pending = await emu.OrderAsync(orderId);
        Assert.Equal("pending", pending["status"]!.GetValue<string>());
        Assert.Equal("299.98", pending["totalAmount"]!.GetValue<string>());

        // the hosted page (checkoutUrl) with its buttons
        var url = new Uri(session["checkoutUrl"].GetValue<string>());
        Assert.Equal(emu.CheckoutPort, url.Port);
        var page = await emu.Checkout.GetAsync(url.PathAndQuery, (IDictionary<string, string>?)null);
        Assert.Equal(200, page.Code);
        Assert.Contains("id=\"pay\"", page.Text);
        Assert.Contains("id=\"cancel\"", page.Text);
        Assert.Contains("299.98", page.Text);

        using var browser = emu.NoRedirectCheckout();
        var pay = await browser.PostAsync(url.PathAndQuery + "/pay", new FormUrlEncodedContent([]));
        Assert.Equal(302, (int)pay.StatusCode);
        Assert.Equal($"https://merchant.example/success?orderId={orderId}", pay.Headers.Location!.ToString());

        var done = await emu.OrderAsync(orderId);
        Assert.Equal("completed", done["status"]!.GetValue<string>());
        Assert.Equal("succeeded", done["payment"]!["status"]!.GetValue<string>());
        Assert.Equal(paymentId, done["payment"]!["id"]!.GetValue<string>());
        Assert.Equal(a.Now.ToString("O")[..19], done["completedAt"]!.GetValue<string>()[..19]);

        // order.created then order.completed with the §7.4 payloads
        var created = emu.OrderEvents("order.created", orderId).Single();
        var completed = emu.OrderEvents("order.completed", orderId).Single();
        Assert.True(string.CompareOrdinal(created.Id, completed.Id) != 0);
        Assert.Equal(["amount", "consumerId", "createdAt", "currencyCode", "experienceId", "items", "orderId", "sequenceId"], created.Data.Select(p => p.Key).OrderBy(k => k, StringComparer.Ordinal));
        Assert.Equal("299.98", created.Data["amount"]!.GetValue<string>());
        Assert.Equal(a.SequenceId, created.Data["sequenceId"]!.GetValue<string>());
        Assert.Equal(emu.ExperienceOf(a.SequenceId), created.Data["experienceId"]!.GetValue<string>());
        var item = created.Data["items"]![0]!;
        Assert.Equal(Sneaker, item["productId"]!.GetValue<string>());
        Assert.Equal(Sneaker9, item["variantId"]!.GetValue<string>());
        Assert.Equal(2, item["quantity"]!.GetValue<int>());
        Assert.Equal(["amount", "completedAt", "consumerId", "currencyCode", "orderId"], completed.Data.Select(p => p.Key).OrderBy(k => k, StringComparer.Ordinal));
        Assert.Equal(orderId, completed.Data["orderId"]!.GetValue<string>());
        Assert.Equal("USD", completed.Data["currencyCode"]!.GetValue<string>());

        // the admission grant is used: validate false, complete 409, queue.consumer.completed names the order
        var validate = new JsonObject { ["consumerId"] = a.Guest.Id, ["token"] = a.Token };
        Assert.False((await emu.Consumer.PostJsonAsync($"/queues/{a.QueueId}/validate", validate, Sk(a.Org.SecretKey))).EnsureStatus(200).Json!.GetValue<bool>());
        Assert.Equal(409, (await emu.Consumer.PostJsonAsync($"/queues/{a.QueueId}/complete", new JsonObject { ["consumerId"] = a.Guest.Id }, Sk(a.Org.SecretKey))).Code);
        Assert.Equal(orderId, emu.Events("queue.consumer.completed").Single().Data["orderId"]!.GetValue<string>());

        // stock committed, metrics from the real order
        Assert.Equal(23, (await emu.VariantAsync(a.Org, Sneaker, Sneaker9))["inventoryQuantity"]!.GetValue<int>());
        var metrics = await emu.Admin.GetJsonAsync($"/products/{Sneaker}/metrics", Sk(a.Org.SecretKey));
        Assert.Equal("299.98", metrics["revenue"]!.GetValue<string>());
        Assert.Equal(1, metrics["orderCount"]!.GetValue<int>());
        Assert.Equal(2, metrics["unitsSold"]!.GetValue<int>());

        // a used grant cannot check out again
        var reuse = await emu.CheckoutAsync(a, a.CheckoutBody());
        Assert.Equal(403, reuse.Code);
        Assert.Equal("ADMISSION_USED", reuse["code"].GetValue<string>());
        Assert.Equal("Invalid admission", reuse["error"].GetValue<string>());

        // refunds: partial, too much (400, nothing changes), the rest; the same key changes nothing twice
        var refundKey = Guid.NewGuid().ToString();
        var r1 = (await emu.Checkout.PostJsonAsync("/payments/refunds", new JsonObject { ["orderId"] = orderId, ["amount"] = "100.00", ["idempotencyKey"] = refundKey, ["reason"] = "damaged" }, Sk(a.Org.SecretKey))).EnsureStatus(200);
        Assert.True(r1["success"].GetValue<bool>());
        Assert.Equal("100.00", r1["refund"]["amount"].GetValue<string>());
        var r1again = (await emu.Checkout.PostJsonAsync("/payments/refunds", new JsonObject { ["orderId"] = orderId, ["amount"] = "100.00", ["idempotencyKey"] = refundKey, ["reason"] = "damaged" }, Sk(a.Org.SecretKey))).EnsureStatus(200);
        Assert.Equal(r1.Text, r1again.Text);
        var partial = await emu.OrderAsync(orderId);
        Assert.Equal("partially_refunded", partial["status"]!.GetValue<string>());
        Assert.Equal("100.00", partial["refundedAmount"]!.GetValue<string>());
        Assert.Single(partial["refunds"]!.AsArray());
        var tooMuch = await emu.Checkout.PostJsonAsync("/payments/refunds", new JsonObject { ["orderId"] = orderId, ["amount"] = "200.00", ["idempotencyKey"] = Guid.NewGuid().ToString() }, Sk(a.Org.SecretKey));
        Assert.Equal(400, tooMuch.Code);
        Assert.Equal("validation_error", tooMuch["error"].GetValue<string>());
        Assert.Equal("100.00", (await emu.OrderAsync(orderId))["refundedAmount"]!.GetValue<string>());
        (await emu.Checkout.PostJsonAsync("/payments/refunds", new JsonObject { ["orderId"] = orderId, ["amount"] = "199.98", ["idempotencyKey"] = Guid.NewGuid().ToString() }, Sk(a.Org.SecretKey))).EnsureStatus(200);
        var refunded = await emu.OrderAsync(orderId);
        Assert.Equal("refunded", refunded["status"]!.GetValue<string>());
        Assert.Equal("299.98", refunded["refundedAmount"]!.GetValue<string>());
        Assert.Equal("0.00", (await emu.Admin.GetJsonAsync($"/products/{Sneaker}/metrics", Sk(a.Org.SecretKey)))["revenue"]!.GetValue<string>());
        Assert.Equal(409, (await emu.Checkout.PostJsonAsync("/payments/refunds", new JsonObject { ["orderId"] = orderId, ["amount"] = "1.00", ["idempotencyKey"] = Guid.NewGuid().ToString() }, Sk(a.Org.SecretKey))).Code);
        // the admission is not restored
        Assert.False((await emu.Consumer.PostJsonAsync($"/queues/{a.QueueId}/validate", validate, Sk(a.Org.SecretKey))).EnsureStatus(200).Json!.GetValue<bool>());
    }

    [Fact]
    public async Task Expired_grant_is_refused_and_changes_nothing()
    {
        var a = await emu.AdmittedGuestAsync(admissionSeconds: 60);
        await emu.AdvanceClockAsync(61);
        var r = await emu.CheckoutAsync(a, a.CheckoutBody());
        Assert.Equal(403, r.Code);
        Assert.Equal("ADMISSION_EXPIRED", r["code"].GetValue<string>());
        Assert.Empty((await emu.Control.GetJsonAsync($"/_emulator/orders?consumerId={a.Guest.Id}"))["orders"]!.AsArray());
        Assert.Equal(25, (await emu.VariantAsync(a.Org, Sneaker, Sneaker9))["inventoryQuantity"]!.GetValue<int>());
    }

    [Fact]
    public async Task Bad_input_foreign_grant_and_unknown_catalogue_ids_are_clear_4xx()
    {
        var a = await emu.AdmittedGuestAsync();
        var missing = await emu.Checkout.PostJsonAsync("/checkout", new JsonObject { ["quantity"] = "two" }, Sk(a.Org.SecretKey));
        Assert.Equal(400, missing.Code);
        Assert.Equal("validation_error", missing["error"].GetValue<string>());
        Assert.True(missing["issues"].AsArray().Count >= 8);

        var wrongCurrency = a.CheckoutBody(); wrongCurrency["currencyCode"] = "EUR";
        Assert.Equal(400, (await emu.CheckoutAsync(a, wrongCurrency)).Code);

        var forged = a.CheckoutBody(); forged["admissionToken"] = a.Token[..^4] + "AAAA";
        var f = await emu.CheckoutAsync(a, forged);
        Assert.Equal(403, f.Code);
        Assert.Equal("ADMISSION_INVALID", f["code"].GetValue<string>());

        var otherDistribution = a.CheckoutBody(); otherDistribution["distributionId"] = Guid.NewGuid().ToString();
        Assert.Equal(404, (await emu.CheckoutAsync(a, otherDistribution)).Code);

        var unknownProduct = a.CheckoutBody(productId: Guid.NewGuid().ToString());
        var up = await emu.CheckoutAsync(a, unknownProduct);
        Assert.Equal(404, up.Code);
        Assert.Equal("Product not found", up["error"].GetValue<string>());
        var wrongVariant = a.CheckoutBody(variantId: HoodieM);
        Assert.Equal("Product variant not found", (await emu.CheckoutAsync(a, wrongVariant))["error"].GetValue<string>());

        Assert.Equal(401, (await emu.Checkout.PostJsonAsync("/checkout", a.CheckoutBody(), Pk(a.Org.PublishableKey))).Code);
        Assert.Empty((await emu.Control.GetJsonAsync($"/_emulator/orders?consumerId={a.Guest.Id}"))["orders"]!.AsArray());
    }

    [Fact]
    public async Task Sold_out_is_a_409_and_reservations_count_against_stock()
    {
        var a = await emu.AdmittedGuestAsync();
        (await emu.Admin.SendJsonAsync(HttpMethod.Patch, $"/products/{Sneaker}/variants/{Sneaker9}/inventory", new JsonObject { ["inventoryQuantity"] = 1 }, Sk(a.Org.SecretKey))).EnsureStatus(200);
        var r = await emu.CheckoutAsync(a, a.CheckoutBody(quantity: 2));
        Assert.Equal(409, r.Code);
        Assert.Equal("SOLD_OUT", r["code"].GetValue<string>());
        Assert.Equal("Insufficient inventory", r["error"].GetValue<string>());
        Assert.Empty((await emu.Control.GetJsonAsync($"/_emulator/orders?consumerId={a.Guest.Id}"))["orders"]!.AsArray());

        (await emu.CheckoutAsync(a, a.CheckoutBody(quantity: 1))).EnsureStatus(200);
        // the one unit is reserved: no longer available
        var available = await emu.Admin.GetJsonAsync($"/products/{Sneaker}/variants/available", Sk(a.Org.SecretKey));
        Assert.DoesNotContain(available.AsArray(), v => v!["id"]!.GetValue<string>() == Sneaker9);
        Assert.Contains(available.AsArray(), v => v!["id"]!.GetValue<string>() == Sneaker10);
    }

    [Fact]
    public async Task Failed_payment_keeps_the_admission_valid_and_a_retry_can_pay()
    {
        var a = await emu.AdmittedGuestAsync();
        var s = (await emu.CheckoutAsync(a, a.CheckoutBody())).EnsureStatus(200);
        var paymentId = s["paymentId"].GetValue<string>();
        var failed = (await emu.Control.PostJsonAsync($"/_emulator/payments/{paymentId}/fail")).EnsureStatus(200);
        Assert.Equal("pending", failed["status"].GetValue<string>());
        Assert.Equal("failed", failed["payment"]["status"].GetValue<string>());
        Assert.Empty(emu.OrderEvents("order.created", s["orderId"].GetValue<string>()));
        var validate = new JsonObject { ["consumerId"] = a.Guest.Id, ["token"] = a.Token };
        Assert.True((await emu.Consumer.PostJsonAsync($"/queues/{a.QueueId}/validate", validate, Sk(a.Org.SecretKey))).EnsureStatus(200).Json!.GetValue<bool>());
        var page = await emu.Checkout.GetAsync(new Uri(s["checkoutUrl"].GetValue<string>()).PathAndQuery, (IDictionary<string, string>?)null);
        Assert.Contains("declined", page.Text);

        var paid = (await emu.Control.PostJsonAsync($"/_emulator/payments/{paymentId}/succeed")).EnsureStatus(200);
        Assert.Equal("completed", paid["status"].GetValue<string>());
        Assert.Single(emu.OrderEvents("order.completed", s["orderId"].GetValue<string>()));
        Assert.Equal(409, (await emu.Control.PostJsonAsync($"/_emulator/payments/{paymentId}/succeed")).Code);
    }

    [Fact]
    public async Task Unpaid_session_lapses_at_expiresAt_on_the_clock_and_releases_the_reservation()
    {
        var a = await emu.AdmittedGuestAsync(admissionSeconds: 120);
        var s = (await emu.CheckoutAsync(a, a.CheckoutBody(quantity: 3))).EnsureStatus(200);
        var orderId = s["orderId"].GetValue<string>();
        var expiresAt = DateTimeOffset.Parse(s["expiresAt"].GetValue<string>());
        await emu.AdvanceClockAsync((expiresAt - a.Now).TotalSeconds - 1);
        Assert.Equal("pending", (await emu.OrderAsync(orderId))["status"]!.GetValue<string>());
        await emu.AdvanceClockAsync(1);
        var lapsed = await emu.OrderAsync(orderId);
        Assert.Equal("cancelled", lapsed["status"]!.GetValue<string>());
        Assert.Equal("expired", lapsed["cancelReason"]!.GetValue<string>());
        Assert.Equal("expired", lapsed["payment"]!["status"]!.GetValue<string>());
        Assert.Empty(emu.Events("order.cancelled")); // never announced: no order.created, no order.cancelled
        Assert.Equal(409, (await emu.Control.PostJsonAsync($"/_emulator/payments/{s["paymentId"].GetValue<string>()}/succeed")).Code);
        // the reservation is back: a fresh admitted guest can buy all 25
        var b = await emu.AdmittedGuestAsync();
        (await emu.CheckoutAsync(b, b.CheckoutBody(quantity: 25))).EnsureStatus(200);
    }

    [Fact]
    public async Task Cancelling_a_paid_order_refunds_it_restocks_and_emits_order_cancelled_without_restoring_the_admission()
    {
        var a = await emu.AdmittedGuestAsync();
        var s = (await emu.CheckoutAsync(a, a.CheckoutBody())).EnsureStatus(200);
        var orderId = s["orderId"].GetValue<string>();
        // a merchant endpoint subscribed to order.*: the events go out through the outbox as webhook deliveries
        await emu.CreateEndpointAsync(a.Org.SecretKey, "http://127.0.0.1:9/orders-hook", ["order.created", "order.completed", "order.cancelled"]);
        (await emu.Control.PostJsonAsync($"/_emulator/payments/{s["paymentId"].GetValue<string>()}/succeed")).EnsureStatus(200);
        Assert.Equal(24, (await emu.VariantAsync(a.Org, Sneaker, Sneaker9))["inventoryQuantity"]!.GetValue<int>());
        var key = Guid.NewGuid().ToString();
        var body = new JsonObject { ["orderId"] = orderId, ["idempotencyKey"] = key, ["reason"] = "customer_requested" };
        Assert.True((await emu.Checkout.PostJsonAsync("/payments/cancellations", body, Sk(a.Org.SecretKey))).EnsureStatus(200)["success"].GetValue<bool>());
        (await emu.Checkout.PostJsonAsync("/payments/cancellations", body, Sk(a.Org.SecretKey))).EnsureStatus(200); // same key: same answer
        var o = await emu.OrderAsync(orderId);
        Assert.Equal("cancelled", o["status"]!.GetValue<string>());
        Assert.Equal(o["totalAmount"]!.GetValue<string>(), o["refundedAmount"]!.GetValue<string>());
        var cancelled = emu.OrderEvents("order.cancelled", orderId).Single();
        Assert.Equal(["cancelledAt", "consumerId", "orderId", "reason"], cancelled.Data.Select(p => p.Key).OrderBy(k => k, StringComparer.Ordinal));
        Assert.Equal("customer_requested", cancelled.Data["reason"]!.GetValue<string>());
        Assert.Equal(25, (await emu.VariantAsync(a.Org, Sneaker, Sneaker9))["inventoryQuantity"]!.GetValue<int>());
        var delivered = (await emu.DeliveriesAsync()).Select(d => d!["eventType"]!.GetValue<string>()).ToList();
        Assert.Contains("order.created", delivered);
        Assert.Contains("order.completed", delivered);
        Assert.Contains("order.cancelled", delivered);
        var again = await emu.Checkout.PostJsonAsync("/payments/cancellations", new JsonObject { ["orderId"] = orderId, ["idempotencyKey"] = Guid.NewGuid().ToString() }, Sk(a.Org.SecretKey));
        Assert.Equal(409, again.Code);
        Assert.Equal(404, (await emu.Checkout.PostJsonAsync("/payments/cancellations", new JsonObject { ["orderId"] = Guid.NewGuid().ToString(), ["idempotencyKey"] = Guid.NewGuid().ToString() }, Sk(a.Org.SecretKey))).Code);
        Assert.Equal(403, (await emu.CheckoutAsync(a, a.CheckoutBody()))["code"].GetValue<string>() == "ADMISSION_USED" ? 403 : 0);
    }

    [Fact]
    public async Task Cancel_on_the_page_closes_the_session_and_redirects_to_cancelUrl()
    {
        var a = await emu.AdmittedGuestAsync();
        var s = (await emu.CheckoutAsync(a, a.CheckoutBody())).EnsureStatus(200);
        using var browser = emu.NoRedirectCheckout();
        var r = await browser.PostAsync(new Uri(s["checkoutUrl"].GetValue<string>()).PathAndQuery + "/cancel", new FormUrlEncodedContent([]));
        Assert.Equal(302, (int)r.StatusCode);
        Assert.StartsWith("https://merchant.example/cancel?orderId=", r.Headers.Location!.ToString());
        Assert.Equal("cancelled", (await emu.OrderAsync(s["orderId"].GetValue<string>()))["status"]!.GetValue<string>());
        // the admission is still valid: a new checkout works
        (await emu.CheckoutAsync(a, a.CheckoutBody())).EnsureStatus(200);
    }
}
