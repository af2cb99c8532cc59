using System.Text.Json.Nodes;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Commerce.Catalogue;
using Fanfare.Emulator.Distributions;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Distributions.Grants;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Events;
using Fanfare.Emulator.Infrastructure.Ids;
using Fanfare.Emulator.Infrastructure.Scheduling;
using Fanfare.Emulator.Infrastructure.Store;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.Commerce.Checkout;

/// <summary><c>POST /checkout</c> body, read and type-checked.</summary>
public sealed record CheckoutRequest(string AdmissionToken, string DistributionId, string ProductId, string VariantId, int Quantity,
    string CurrencyCode, string SuccessUrl, string CancelUrl, string IdempotencyKey);

/// <summary>
/// Checkout sessions, payments, orders, cancellations and refunds (behavior.md §10.1, §3.9, §7.4), on the emulator clock.
/// <list type="bullet">
/// <item><see cref="Create"/>: the admission token must be this distribution's active grant (403 <c>Invalid admission</c>
/// with <c>code</c> <c>ADMISSION_INVALID</c>/<c>ADMISSION_USED</c>/<c>ADMISSION_EXPIRED</c>, as <c>POST /handoffs/validate</c>);
/// the product and variant active in the catalogue (404) and sold by the distribution's sequence (409
/// <c>Product not sold by this distribution</c>); the currency the organization's (400); the sequence's order limits
/// (409 <c>Order limit exceeded</c>, code <c>ORDER_LIMIT_EXCEEDED</c>); stock for <c>deny</c> variants (409
/// <c>Insufficient inventory</c>, code <c>SOLD_OUT</c>). Then a pending order, a payment and a reservation; the session
/// lapses at <c>expiresAt</c> = the grant's <c>expiresAt</c> (<c>deadline</c>) + 60 s (15 min from now when the grant
/// never expires). A newer checkout for the same grant supersedes a pending one (its reservation is released).</item>
/// <item><see cref="Succeed"/>: order <c>completed</c>, stock committed, <c>order.created</c> then <c>order.completed</c>
/// recorded, then the grant completed (single use; <c>metadata {orderId, quantity}</c>, so the distribution's own
/// completion event carries the order id). <see cref="Fail"/>: the attempt fails, the session and the grant stay valid.</item>
/// <item><see cref="Cancel"/> (<c>POST /payments/cancellations</c>, or Cancel on the page): pending → cancelled, stock
/// released; paid → cancelled, the rest of the payment refunded and the units restocked, <c>order.cancelled</c>. Neither
/// restores the admission. <see cref="RefundOrder"/>: full or partial, never more than paid minus refunded.</item>
/// </list>
/// </summary>
public sealed class CheckoutEngine(DocumentStore store, IdGenerator ids, ClockResolver clocks, Scheduler scheduler, EventOutbox outbox,
    CatalogueService catalogue, AdmissionGrants grants, DistributionRegistry registry, OrganizationDirectory orgs)
{
    public const string LapseJobKind = "checkout.lapse";
    public const string OrderNotFound = "Order not found", PaymentNotFound = "Payment not found";
    /// <summary>The session outlives the admission deadline by this much (behavior.md §10.1 "+1 min buffer").</summary>
    public static readonly TimeSpan Buffer = TimeSpan.FromMinutes(1);
    /// <summary>Session length when the grant has no expiry.</summary>
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromMinutes(15);

    private DateTimeOffset Now(string orgId) => clocks.For(orgId).GetUtcNow();

    // ------------------------------------------------------------------ idempotency

    /// <summary>Runs <paramref name="work"/> once per (organization, operation, key): a repeat with the same body answers
    /// the stored response and changes nothing; with another body it is a 409 <c>Idempotency key reused</c>.</summary>
    public JsonObject Once(Organization org, string operation, string key, JsonObject request, Func<JsonObject> work)
    {
        var id = $"{org.Id}:{operation}:{key}";
        var canonical = request.ToJsonString();
        return store.Transaction(() =>
        {
            if (store.Get<IdempotencyRecord>(id) is { } rec)
            {
                if (rec.Request != canonical)
                    throw ApiErrors.Conflict("Idempotency key reused", "This idempotencyKey was already used with different parameters.");
                return (JsonObject)rec.Response.DeepClone();
            }
            var response = work();
            store.Put(new IdempotencyRecord { Id = id, Request = canonical, Response = (JsonObject)response.DeepClone() });
            return response;
        });
    }

    // ------------------------------------------------------------------ create

    public CheckoutSessionJson Create(Organization org, CheckoutRequest r, string checkoutBase)
    {
        var found = registry.Find(org.Id, r.DistributionId) ?? throw ApiErrors.NotFoundError("Distribution not found");
        var distribution = found.Distribution;
        // the grant: same checks (and error bodies) as POST /handoffs/validate, then it must be this distribution's
        var handoff = grants.Handoff(org, r.AdmissionToken);
        var consumerId = handoff["consumerId"]!.GetValue<string>();
        if (handoff["distributionId"]?.GetValue<string>() != distribution.Id)
            throw new ApiException(403, "Invalid admission", "The admission grant was issued for another distribution.",
                new JsonObject { ["error"] = "Invalid admission", ["code"] = "ADMISSION_INVALID", ["message"] = "The admission grant was issued for another distribution.", ["valid"] = false });
        // Handoff verified the signature, the organization, the status and the expiry; the grant must also be the
        // consumer's newest for this distribution (what …/validate checks) — without verifying the signature twice
        var grant = grants.Latest(distribution.Id, consumerId);
        if (grant is null || grant.Token != r.AdmissionToken || !grant.IsUsable(Now(org.Id)))
            throw new ApiException(403, "Invalid admission", "The admission grant is invalid.",
                new JsonObject { ["error"] = "Invalid admission", ["code"] = "ADMISSION_INVALID", ["message"] = "The admission grant is invalid.", ["valid"] = false });

        var product = catalogue.FindProduct(org.Id, r.ProductId) is { Archived: false } p ? p : throw ApiErrors.NotFoundError(CatalogueService.ProductNotFound);
        var variant = catalogue.RequireVariant(product, r.VariantId);
        var sequence = store.Get<Sequence>(distribution.SequenceId);
        if (sequence is not null)
        {
            var sells = catalogue.SellableProducts(sequence);
            if (sells.Count > 0 && !sells.Any(x => x.ProductId == product.Id && (x.VariantId is null || x.VariantId == variant.Id)))
                throw ApiErrors.Conflict("Product not sold by this distribution", "The distribution's sequence does not sell this product or variant.");
        }
        CheckOrderLimits(org, distribution.SequenceId, consumerId, product.Id, variant.Id, r.Quantity);

        return store.Transaction(() =>
        {
            var now = Now(org.Id);
            // a newer checkout for the same admission supersedes a pending one
            foreach (var old in store.Where<Order>(o => o.AdmissionGrantId == grant.Id && o.Status == OrderStatuses.Pending))
                CloseUnpaid(old, "superseded", PaymentStatuses.Cancelled, now);
            if (CatalogueService.Available(variant) < r.Quantity)
                throw new ApiException(409, "Insufficient inventory", null, new JsonObject
                {
                    ["error"] = "Insufficient inventory", ["code"] = "SOLD_OUT",
                    ["message"] = $"Only {CatalogueService.Available(variant)} unit(s) of {variant.Sku} are available.",
                });
            var deadline = grant.ExpiresAt ?? now + DefaultWindow;
            var expiresAt = deadline + Buffer;
            var amount = Money.Format(Money.Parse(variant.Price) * r.Quantity);
            var order = new Order
            {
                Id = ids.NewUuid("order"), OrganizationId = org.Id, Environment = "test", ConsumerId = consumerId,
                ExperienceId = distribution.ExperienceId, SequenceId = distribution.SequenceId, DistributionId = distribution.Id,
                DistributionType = distribution.DistributionType, AdmissionGrantId = grant.Id, Status = OrderStatuses.Pending,
                TotalAmount = amount, CurrencyCode = org.CurrencyCode, CreatedAt = now, ExpiresAt = expiresAt, Deadline = deadline,
                Items = [new OrderItem { ProductId = product.Id, VariantId = variant.Id, Quantity = r.Quantity, UnitPrice = variant.Price, ProductName = product.Name, Sku = variant.Sku }],
            };
            var payment = new Payment
            {
                Id = ids.NewUuid("payment"), OrganizationId = org.Id, OrderId = order.Id, Amount = amount, CurrencyCode = org.CurrencyCode,
                SuccessUrl = r.SuccessUrl, CancelUrl = r.CancelUrl, CreatedAt = now, ExpiresAt = expiresAt, Deadline = deadline,
            };
            payment.CheckoutUrl = checkoutBase.TrimEnd('/') + "/pay/" + payment.Id;
            order.PaymentId = payment.Id;
            if (variant.InventoryPolicy != InventoryPolicies.Untracked) { variant.ReservedQuantity += r.Quantity; store.Put(variant); }
            store.Put(order);
            store.Put(payment);
            scheduler.Schedule(LapseJobKind + ":" + order.Id, LapseJobKind, expiresAt, new JsonObject { ["orderId"] = order.Id }, org.Id);
            return new CheckoutSessionJson(order.Id, payment.Id, payment.CheckoutUrl, Json.Iso(expiresAt), Json.Iso(deadline));
        });
    }

    /// <summary>
    /// The sequence's order limits for this product (a limit with a <c>productVariantId</c> only for that variant): units of
    /// the consumer's paid orders in the sequence (completed, partially refunded or refunded; not cancelled) within the
    /// limit's window (<c>rolling</c>: the last <c>timeWindowSeconds</c>; <c>calendar</c>: the current epoch-aligned window;
    /// none: all time) plus this quantity may not exceed <c>maxQuantity</c>.
    /// </summary>
    private void CheckOrderLimits(Organization org, string sequenceId, string consumerId, string productId, string variantId, int quantity)
    {
        var limits = store.Where<Distributions.Sequences.SequenceOrderLimit>(l => l.OrganizationId == org.Id && l.SequenceId == sequenceId && !l.Archived
            && l.ProductId == productId && (l.ProductVariantId is null || l.ProductVariantId == variantId));
        if (limits.Count == 0) return;
        var now = Now(org.Id);
        var orders = store.Where<Order>(o => o.OrganizationId == org.Id && o.SequenceId == sequenceId && o.ConsumerId == consumerId && o.CompletedAt is not null
            && o.Status is OrderStatuses.Completed or OrderStatuses.PartiallyRefunded or OrderStatuses.Refunded);
        foreach (var l in limits)
        {
            DateTimeOffset? from = null;
            if (l.TimeWindowSeconds is int w && w > 0)
            {
                var unix = now.ToUnixTimeSeconds();
                from = l.TimeWindowType == "calendar" ? DateTimeOffset.FromUnixTimeSeconds(unix - unix % w) : now.AddSeconds(-w);
            }
            var bought = orders.Where(o => from is null || o.CompletedAt >= from)
                .SelectMany(o => o.Items).Where(i => i.ProductId == productId && (l.ProductVariantId is null || i.VariantId == l.ProductVariantId)).Sum(i => i.Quantity);
            if (bought + quantity > l.MaxQuantity)
                throw new ApiException(409, "Order limit exceeded", null, new JsonObject
                {
                    ["error"] = "Order limit exceeded", ["code"] = "ORDER_LIMIT_EXCEEDED", ["limitId"] = l.Id, ["maxQuantity"] = l.MaxQuantity,
                    ["message"] = $"This consumer may buy at most {l.MaxQuantity} of this product in this sequence ({bought} already bought).",
                });
        }
    }

    // ------------------------------------------------------------------ payment outcomes

    public Payment RequirePayment(string paymentId) => store.Get<Payment>(paymentId) ?? throw ApiErrors.NotFoundError(PaymentNotFound);

    public Order RequireOrder(string orgId, string orderId) =>
        store.Get<Order>(orderId) is { } o && o.OrganizationId == orgId ? o : throw ApiErrors.NotFoundError(OrderNotFound);

    private Order OrderOf(Payment p) => store.Get<Order>(p.OrderId)!;

    /// <summary>409 unless the session can still be paid.</summary>
    private void RequireOpen(Payment p, Order o)
    {
        if (p.Status == PaymentStatuses.Succeeded) throw ApiErrors.Conflict("Payment already succeeded", "This checkout session was already paid.");
        if (o.Status != OrderStatuses.Pending || p.Status is PaymentStatuses.Cancelled or PaymentStatuses.Expired)
            throw ApiErrors.Conflict("Checkout session closed", $"This checkout session is {(p.Status == PaymentStatuses.Expired ? "expired" : "cancelled")}.");
    }

    /// <summary>The payment succeeds: order completed, stock committed, <c>order.created</c> + <c>order.completed</c>, grant completed.</summary>
    public Order Succeed(string paymentId)
    {
        return store.Transaction(() =>
        {
            var p = RequirePayment(paymentId);
            var o = OrderOf(p);
            RequireOpen(p, o);
            var now = Now(o.OrganizationId);
            p.Status = PaymentStatuses.Succeeded; p.SucceededAt = now;
            o.Status = OrderStatuses.Completed; o.CompletedAt = now;
            foreach (var item in o.Items)
                if (store.Get<Catalogue.ProductVariant>(item.VariantId) is { } v && v.InventoryPolicy != InventoryPolicies.Untracked)
                {
                    v.ReservedQuantity = Math.Max(0, v.ReservedQuantity - item.Quantity);
                    v.InventoryQuantity -= item.Quantity;
                    store.Put(v);
                }
            o.Announced = true;
            store.Put(p); store.Put(o);
            scheduler.Cancel(LapseJobKind + ":" + o.Id);
            outbox.Record(o.OrganizationId, "order.created", new JsonObject
            {
                ["orderId"] = o.Id, ["consumerId"] = o.ConsumerId, ["experienceId"] = o.ExperienceId, ["sequenceId"] = o.SequenceId,
                ["createdAt"] = Json.Iso(o.CreatedAt), ["amount"] = o.TotalAmount, ["currencyCode"] = o.CurrencyCode,
                ["items"] = new JsonArray(o.Items.Select(i => (JsonNode)new JsonObject { ["productId"] = i.ProductId, ["variantId"] = i.VariantId, ["quantity"] = i.Quantity }).ToArray()),
            });
            outbox.Record(o.OrganizationId, "order.completed", new JsonObject
            {
                ["orderId"] = o.Id, ["consumerId"] = o.ConsumerId, ["completedAt"] = Json.Iso(now), ["amount"] = o.TotalAmount, ["currencyCode"] = o.CurrencyCode,
            });
            // the merchant guide's order: create the order, then complete the admission (single use)
            if (o.DistributionId is not null && orgs.ById(o.OrganizationId) is { } org)
            {
                try
                {
                    grants.Complete(org, o.DistributionId, o.ConsumerId, new JsonObject { ["orderId"] = o.Id, ["quantity"] = o.Items.Sum(i => i.Quantity) });
                }
                catch (ApiException) { /* the grant lapsed during the 60 s buffer or was completed by the merchant: the paid order stands */ }
            }
            return o;
        });
    }

    /// <summary>A payment attempt fails: the session stays open (pay again until <c>expiresAt</c>), the admission stays valid.</summary>
    public Order Fail(string paymentId)
    {
        return store.Transaction(() =>
        {
            var p = RequirePayment(paymentId);
            var o = OrderOf(p);
            RequireOpen(p, o);
            p.Status = PaymentStatuses.Failed; p.FailedAttempts++; p.LastFailedAt = Now(o.OrganizationId);
            store.Put(p);
            return o;
        });
    }

    /// <summary>An unpaid order closes: reservation released, order cancelled (no webhook: <c>order.created</c> was never sent).</summary>
    private void CloseUnpaid(Order o, string reason, string paymentStatus, DateTimeOffset now)
    {
        foreach (var item in o.Items)
            if (store.Get<Catalogue.ProductVariant>(item.VariantId) is { } v && v.InventoryPolicy != InventoryPolicies.Untracked)
            {
                v.ReservedQuantity = Math.Max(0, v.ReservedQuantity - item.Quantity);
                store.Put(v);
            }
        o.Status = OrderStatuses.Cancelled; o.CancelledAt = now; o.CancelReason = reason;
        store.Put(o);
        if (store.Get<Payment>(o.PaymentId) is { } p && p.Status is PaymentStatuses.RequiresPayment or PaymentStatuses.Failed)
        {
            p.Status = paymentStatus;
            store.Put(p);
        }
        scheduler.Cancel(LapseJobKind + ":" + o.Id);
    }

    /// <summary>Runs at <c>expiresAt</c>: an order still unpaid lapses (reason <c>expired</c>).</summary>
    internal void Lapse(string orderId)
    {
        store.Transaction(() =>
        {
            var o = store.Get<Order>(orderId);
            if (o is null || o.Status != OrderStatuses.Pending) return;
            var now = Now(o.OrganizationId);
            if (o.ExpiresAt is { } e && now < e) return;
            CloseUnpaid(o, "expired", PaymentStatuses.Expired, now);
        });
    }

    /// <summary>The consumer pressed Cancel on the checkout page.</summary>
    public Order CancelFromPage(string paymentId)
    {
        return store.Transaction(() =>
        {
            var p = RequirePayment(paymentId);
            var o = OrderOf(p);
            RequireOpen(p, o);
            CloseUnpaid(o, "customer_requested", PaymentStatuses.Cancelled, Now(o.OrganizationId));
            return o;
        });
    }

    // ------------------------------------------------------------------ cancellations and refunds

    /// <summary><c>POST /payments/cancellations</c>. 409 <c>Order already cancelled</c> / <c>Order cannot be cancelled</c> (fully refunded).</summary>
    public Order Cancel(Organization org, string orderId, string? reason)
    {
        return store.Transaction(() =>
        {
            var o = RequireOrder(org.Id, orderId);
            var now = Now(org.Id);
            if (o.Status == OrderStatuses.Cancelled) throw ApiErrors.Conflict("Order already cancelled");
            if (o.Status == OrderStatuses.Refunded) throw ApiErrors.Conflict("Order cannot be cancelled", "The order was fully refunded.");
            if (o.Status == OrderStatuses.Pending)
            {
                CloseUnpaid(o, reason ?? "customer_requested", PaymentStatuses.Cancelled, now);
                return o;
            }
            // paid: refund what remains, restock, cancel
            var remaining = Money.Parse(o.TotalAmount) - Money.Parse(o.RefundedAmount);
            if (remaining > 0) AddRefund(o, remaining, reason ?? "customer_requested", now);
            foreach (var item in o.Items)
                if (store.Get<Catalogue.ProductVariant>(item.VariantId) is { } v && v.InventoryPolicy != InventoryPolicies.Untracked)
                {
                    v.InventoryQuantity += item.Quantity;
                    store.Put(v);
                }
            o.Status = OrderStatuses.Cancelled; o.CancelledAt = now; o.CancelReason = reason ?? "customer_requested";
            o.RefundedAmount = o.TotalAmount;
            store.Put(o);
            outbox.Record(org.Id, "order.cancelled", new JsonObject
            {
                ["orderId"] = o.Id, ["consumerId"] = o.ConsumerId, ["cancelledAt"] = Json.Iso(now), ["reason"] = o.CancelReason,
            });
            return o;
        });
    }

    private Refund AddRefund(Order o, decimal amount, string? reason, DateTimeOffset now)
    {
        var r = new Refund
        {
            Id = ids.NewUuid("refund"), OrganizationId = o.OrganizationId, OrderId = o.Id, PaymentId = o.PaymentId ?? "",
            Amount = Money.Format(amount), CurrencyCode = o.CurrencyCode, Reason = reason, CreatedAt = now,
        };
        store.Put(r);
        return r;
    }

    /// <summary>Units not yet refunded of a paid order.</summary>
    public static decimal Refundable(Order o) => Money.Parse(o.TotalAmount) - Money.Parse(o.RefundedAmount);

    /// <summary><c>POST /payments/refunds</c>: 409 <c>Order is not paid</c> (pending or cancelled) / <c>Order already
    /// fully refunded</c>; an amount above <see cref="Refundable"/> is checked by the caller (400).</summary>
    public Refund RefundOrder(Organization org, Order o, decimal amount, string? reason)
    {
        return store.Transaction(() =>
        {
            var now = Now(org.Id);
            var r = AddRefund(o, amount, reason, now);
            o.RefundedAmount = Money.Format(Money.Parse(o.RefundedAmount) + amount);
            o.Status = Refundable(o) <= 0 ? OrderStatuses.Refunded : OrderStatuses.PartiallyRefunded;
            store.Put(o);
            return r;
        });
    }

    public static void RequireRefundable(Order o)
    {
        if (o.Status == OrderStatuses.Refunded) throw ApiErrors.Conflict("Order already fully refunded");
        if (o.Status is not (OrderStatuses.Completed or OrderStatuses.PartiallyRefunded))
            throw ApiErrors.Conflict("Order is not paid", $"Only paid orders can be refunded (this order is {o.Status}).");
    }

    // ------------------------------------------------------------------ control-plane JSON

    public List<Order> Orders(string? consumerId, string? status) =>
        store.Where<Order>(o => (consumerId is null || o.ConsumerId == consumerId) && (status is null || o.Status == status))
            .OrderByDescending(o => o.CreatedAt).ToList();

    /// <summary>The control plane's order view: items, amounts, payment, refunds, status.</summary>
    public JsonObject ToJson(Order o)
    {
        var p = store.Get<Payment>(o.PaymentId);
        return new JsonObject
        {
            ["id"] = o.Id, ["organizationId"] = o.OrganizationId, ["environment"] = o.Environment, ["consumerId"] = o.ConsumerId,
            ["experienceId"] = o.ExperienceId, ["sequenceId"] = o.SequenceId, ["distributionId"] = o.DistributionId, ["distributionType"] = o.DistributionType,
            ["admissionGrantId"] = o.AdmissionGrantId, ["status"] = o.Status, ["totalAmount"] = o.TotalAmount, ["refundedAmount"] = o.RefundedAmount,
            ["currencyCode"] = o.CurrencyCode,
            ["items"] = new JsonArray(o.Items.Select(i => (JsonNode)new JsonObject
            {
                ["productId"] = i.ProductId, ["variantId"] = i.VariantId, ["productName"] = i.ProductName, ["sku"] = i.Sku,
                ["quantity"] = i.Quantity, ["unitPrice"] = i.UnitPrice, ["lineTotal"] = Money.Format(Money.Parse(i.UnitPrice) * i.Quantity),
            }).ToArray()),
            ["payment"] = p is null ? null : new JsonObject
            {
                ["id"] = p.Id, ["status"] = p.Status, ["amount"] = p.Amount, ["currencyCode"] = p.CurrencyCode, ["checkoutUrl"] = p.CheckoutUrl,
                ["successUrl"] = p.SuccessUrl, ["cancelUrl"] = p.CancelUrl, ["failedAttempts"] = p.FailedAttempts,
                ["createdAt"] = Json.Iso(p.CreatedAt), ["succeededAt"] = Json.Iso(p.SucceededAt), ["lastFailedAt"] = Json.Iso(p.LastFailedAt),
            },
            ["refunds"] = new JsonArray(store.Where<Refund>(r => r.OrderId == o.Id).Select(r => (JsonNode)JsonObject(RefundJson(r))).ToArray()),
            ["createdAt"] = Json.Iso(o.CreatedAt), ["expiresAt"] = Json.Iso(o.ExpiresAt), ["deadline"] = Json.Iso(o.Deadline),
            ["completedAt"] = Json.Iso(o.CompletedAt), ["cancelledAt"] = Json.Iso(o.CancelledAt), ["cancelReason"] = o.CancelReason,
        };
    }

    public static RefundJson RefundJson(Refund r) => new(r.Id, r.OrderId, r.PaymentId, r.Amount, r.CurrencyCode, r.Reason, r.Status, Json.Iso(r.CreatedAt));

    private static JsonObject JsonObject(RefundJson r) =>
        System.Text.Json.JsonSerializer.SerializeToNode(r, CheckoutRefundTypeInfo)!.AsObject();

    private static readonly System.Text.Json.Serialization.Metadata.JsonTypeInfo<RefundJson> CheckoutRefundTypeInfo =
        (System.Text.Json.Serialization.Metadata.JsonTypeInfo<RefundJson>)CheckoutJson.Default.GetTypeInfo(typeof(RefundJson))!;
}

/// <summary>Scheduled job <c>checkout.lapse</c> (at a session's <c>expiresAt</c>).</summary>
public sealed class CheckoutLapseJob(IServiceProvider services) : IJobHandler
{
    public string Kind => CheckoutEngine.LapseJobKind;
    public Task RunAsync(ScheduledJob job, CancellationToken cancellationToken)
    {
        services.GetRequiredService<CheckoutEngine>().Lapse(job.Payload?["orderId"]?.GetValue<string>() ?? "");
        return Task.CompletedTask;
    }
}
