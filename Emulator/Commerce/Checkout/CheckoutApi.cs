using System.Net;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Auth;
using Fanfare.Emulator.Commerce.Catalogue;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Scheduling;

namespace Fanfare.Emulator.Commerce.Checkout;

/// <summary>
/// The Checkout API (checkout port 4805; checkout-api.json, behavior.md §10.1), secret key:
/// <list type="bullet">
/// <item><c>POST /checkout</c> <c>{admissionToken, distributionId, productId, variantId, quantity, currencyCode, successUrl,
/// cancelUrl, idempotencyKey}</c> → <c>{orderId, paymentId, checkoutUrl, expiresAt, deadline}</c>.</item>
/// <item><c>POST /payments/cancellations</c> <c>{orderId, idempotencyKey, reason?}</c> → <c>{success}</c>.</item>
/// <item><c>POST /payments/refunds</c> <c>{orderId, amount, idempotencyKey, reason?}</c> → <c>{success, refund}</c>.</item>
/// </list>
/// The same <c>idempotencyKey</c> answers the first response again and changes nothing. The emulator serves the
/// <c>checkoutUrl</c> page (<c>GET /pay/{paymentId}</c>, checkout port) with Pay / Decline / Cancel buttons, and the
/// control plane <c>POST /_emulator/payments/{paymentId}/succeed|fail</c>, <c>GET /_emulator/orders?consumerId=&amp;status=</c>,
/// <c>GET /_emulator/orders/{id}</c>.
/// </summary>
public sealed class CheckoutApi : IFeatureModule
{
    public int Order => 220;

    public void AddServices(IServiceCollection services, EmulatorOptions options)
    {
        services.AddSingleton<CheckoutEngine>();
        services.AddSingleton<IJobHandler, CheckoutLapseJob>();
    }

    public void MapEndpoints(EmulatorRoutes routes)
    {
        var c = routes.Checkout;
        var J = CheckoutJson.Default;

        c.MapPost("/checkout", async Task<IResult> (HttpRequest req, Caller caller, CheckoutEngine engine) =>
        {
            var org = caller.RequireSecret();
            var body = await BodyReader.ReadAsync(req, required: true);
            var token = body.String("admissionToken", required: true, minLength: 1);
            var distributionId = body.Uuid("distributionId", required: true);
            var productId = body.Uuid("productId", required: true);
            var variantId = body.Uuid("variantId", required: true);
            var quantity = body.Int("quantity", required: true, min: 1, max: 10_000);
            var currency = body.String("currencyCode", required: true, minLength: 1);
            var successUrl = body.String("successUrl", required: true, minLength: 1);
            var cancelUrl = body.String("cancelUrl", required: true, minLength: 1);
            var key = body.String("idempotencyKey", required: true, minLength: 1);
            if (currency is not null && !string.Equals(currency, org.CurrencyCode, StringComparison.Ordinal))
                body.AddIssue("currencyCode", "value", "\"" + org.CurrencyCode + "\"", body.Root["currencyCode"],
                    $"Invalid currency: Expected \"{org.CurrencyCode}\" (the organization's currency) but received \"{currency}\"");
            body.ThrowIfInvalid();
            var request = new CheckoutRequest(token!, distributionId!, productId!, variantId!, quantity!.Value, currency!, successUrl!, cancelUrl!, key!);
            var baseUrl = $"{req.Scheme}://{req.Host}";
            var answer = engine.Once(org, "checkout", key!, body.Root, () =>
                System.Text.Json.JsonSerializer.SerializeToNode(engine.Create(org, request, baseUrl), J.CheckoutSessionJson)!.AsObject());
            return TypedResults.Json(System.Text.Json.JsonSerializer.Deserialize(answer, J.CheckoutSessionJson)!, J.CheckoutSessionJson);
        }).Produces<CheckoutSessionJson>(200, "application/json").WithTags("Checkout").WithName("postCheckout").WithSummary("Create a checkout session for an admitted participant");

        c.MapPost("/payments/cancellations", async Task<IResult> (HttpRequest req, Caller caller, CheckoutEngine engine) =>
        {
            var org = caller.RequireSecret();
            var body = await BodyReader.ReadAsync(req, required: true);
            var orderId = body.Uuid("orderId", required: true);
            var key = body.Uuid("idempotencyKey", required: true);
            var reason = body.String("reason");
            body.ThrowIfInvalid();
            var answer = engine.Once(org, "cancellation", key!, body.Root, () =>
            {
                engine.Cancel(org, orderId!, reason);
                return System.Text.Json.JsonSerializer.SerializeToNode(new CancellationJson(true), J.CancellationJson)!.AsObject();
            });
            return TypedResults.Json(System.Text.Json.JsonSerializer.Deserialize(answer, J.CancellationJson)!, J.CancellationJson);
        }).Produces<CancellationJson>(200, "application/json").WithTags("Payments").WithName("postPaymentsCancellations").WithSummary("Cancel an order (a paid one is refunded in full and emits order.cancelled)");

        c.MapPost("/payments/refunds", async Task<IResult> (HttpRequest req, Caller caller, CheckoutEngine engine) =>
        {
            var org = caller.RequireSecret();
            var body = await BodyReader.ReadAsync(req, required: true);
            var orderId = body.Uuid("orderId", required: true);
            var amountText = body.String("amount", required: true, format: "decimal");
            var key = body.Uuid("idempotencyKey", required: true);
            var reason = body.String("reason");
            body.ThrowIfInvalid();
            var answer = engine.Once(org, "refund", key!, body.Root, () =>
            {
                var order = engine.RequireOrder(org.Id, orderId!);
                CheckoutEngine.RequireRefundable(order);
                var amount = Money.Parse(amountText);
                var max = CheckoutEngine.Refundable(order);
                if (amount <= 0 || amount > max)
                    throw Validation.Single("amount", amount <= 0 ? "min_value" : "max_value", amount <= 0 ? ">0" : "<=" + Money.Format(max), "\"" + amountText + "\"",
                        amount <= 0 ? $"Invalid value: Expected >0 but received \"{amountText}\""
                                    : $"Invalid value: Expected <={Money.Format(max)} (paid minus refunded) but received \"{amountText}\"");
                var refund = engine.RefundOrder(org, order, amount, reason);
                return System.Text.Json.JsonSerializer.SerializeToNode(new RefundResultJson(true, CheckoutEngine.RefundJson(refund)), J.RefundResultJson)!.AsObject();
            });
            return TypedResults.Json(System.Text.Json.JsonSerializer.Deserialize(answer, J.RefundResultJson)!, J.RefundResultJson);
        }).Produces<RefundResultJson>(200, "application/json").WithTags("Payments").WithName("postPaymentsRefunds").WithSummary("Refund a paid order, in full or in part (never more than paid minus refunded)");

        // ---- the hosted checkout page (what checkoutUrl opens)
        c.MapGet("/pay/{paymentId}", (string paymentId, CheckoutEngine engine) =>
        {
            var p = engine.RequirePayment(paymentId);
            var o = engine.RequireOrder(p.OrganizationId, p.OrderId);
            return Results.Content(Page(p, o), "text/html; charset=utf-8");
        }).WithTags("Checkout page").WithSummary("The emulator's hosted checkout page (Pay / Decline / Cancel)");

        c.MapPost("/pay/{paymentId}/{action}", (string paymentId, string action, CheckoutEngine engine) =>
        {
            var p = engine.RequirePayment(paymentId);
            switch (action)
            {
                case "pay": engine.Succeed(paymentId); return Results.Redirect(WithOrder(p.SuccessUrl, p.OrderId), permanent: false, preserveMethod: false);
                case "decline": engine.Fail(paymentId); return Results.Redirect("/pay/" + paymentId, false);
                case "cancel": engine.CancelFromPage(paymentId); return Results.Redirect(WithOrder(p.CancelUrl, p.OrderId), false);
                default: throw ApiErrors.NotFoundError(ApiErrors.NotFound);
            }
        }).WithTags("Checkout page").WithSummary("A button of the hosted checkout page: pay | decline | cancel (303 to successUrl / the page / cancelUrl)");

        // ---- control plane
        routes.Control.MapPost("/payments/{paymentId}/succeed", (string paymentId, CheckoutEngine engine) =>
            Results.Json(engine.ToJson(engine.Succeed(paymentId)))).WithTags("Commerce").WithSummary("The payment succeeds (as Pay on the checkout page)");
        routes.Control.MapPost("/payments/{paymentId}/fail", (string paymentId, CheckoutEngine engine) =>
            Results.Json(engine.ToJson(engine.Fail(paymentId)))).WithTags("Commerce").WithSummary("The payment attempt fails (the session and the admission stay valid)");
        routes.Control.MapGet("/orders", (string? consumerId, string? status, CheckoutEngine engine) =>
            Results.Json(new JsonObject { ["orders"] = new JsonArray(engine.Orders(consumerId, status).Select(o => (JsonNode)engine.ToJson(o)).ToArray()) }))
            .WithTags("Commerce").WithSummary("Orders, newest first (?consumerId=, ?status=)");
        routes.Control.MapGet("/orders/{id}", (string id, CheckoutEngine engine, Infrastructure.Store.DocumentStore store) =>
            Results.Json(engine.ToJson(store.Get<Order>(id) ?? throw ApiErrors.NotFoundError(CheckoutEngine.OrderNotFound))))
            .WithTags("Commerce").WithSummary("One order: items, amounts, payment, refunds, status");
    }

    private static string WithOrder(string url, string orderId) => url + (url.Contains('?') ? "&" : "?") + "orderId=" + Uri.EscapeDataString(orderId);

    private static string Page(Payment p, Order o)
    {
        string H(string? s) => WebUtility.HtmlEncode(s ?? "");
        var items = string.Concat(o.Items.Select(i => $"<tr><td>{H(i.ProductName)}</td><td>{H(i.Sku)}</td><td>{i.Quantity}</td><td>{H(i.UnitPrice)} {H(o.CurrencyCode)}</td></tr>"));
        var open = o.Status == OrderStatuses.Pending && p.Status is PaymentStatuses.RequiresPayment or PaymentStatuses.Failed;
        var notice = p.Status == PaymentStatuses.Failed ? "<p id=\"notice\" class=\"err\">The payment was declined. You can try again.</p>" : "";
        var buttons = open
            ? $"""
              <form method="post" action="/pay/{H(p.Id)}/pay"><button id="pay" type="submit">Pay {H(p.Amount)} {H(p.CurrencyCode)}</button></form>
              <form method="post" action="/pay/{H(p.Id)}/decline"><button id="decline" type="submit">Decline (simulate a failed payment)</button></form>
              <form method="post" action="/pay/{H(p.Id)}/cancel"><button id="cancel" type="submit">Cancel</button></form>
              """
            : $"<p id=\"status\">This checkout session is {H(p.Status == PaymentStatuses.Succeeded ? "paid" : o.Status)}.</p>";
        return $$"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Fanfare Emulator — Checkout</title>
            <style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto}table{width:100%;border-collapse:collapse}td,th{padding:.3rem;border-bottom:1px solid #ddd;text-align:left}form{display:inline-block;margin:.5rem .5rem 0 0}button{padding:.5rem 1rem}.err{color:#b00}</style>
            </head><body>
            <h1>Checkout</h1>
            <p>Order <code id="order-id">{{H(o.Id)}}</code> · payment <code id="payment-id">{{H(p.Id)}}</code></p>
            <table><tr><th>Product</th><th>SKU</th><th>Qty</th><th>Price</th></tr>{{items}}</table>
            <p>Total: <strong id="total">{{H(p.Amount)}} {{H(p.CurrencyCode)}}</strong> · pay before <time id="expires-at">{{Json.Iso(p.ExpiresAt)}}</time></p>
            {{notice}}
            {{buttons}}
            <p><small>Served by the Fanfare Emulator. No money moves.</small></p>
            </body></html>
            """;
    }
}
