using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Commerce.Checkout;

/// <summary>Payment statuses of a checkout session.</summary>
public static class PaymentStatuses
{
    public const string RequiresPayment = "requires_payment", Succeeded = "succeeded", Failed = "failed", Cancelled = "cancelled", Expired = "expired";
}

/// <summary>
/// The payment of one checkout session (<c>POST /checkout</c> → <c>paymentId</c>), settled on the emulator's checkout
/// page (Pay / Decline / Cancel) or by <c>POST /_emulator/payments/{paymentId}/succeed|fail</c>. A failed attempt keeps the
/// session open (the consumer may pay again until <see cref="ExpiresAt"/>).
/// </summary>
public sealed class Payment : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public string OrderId { get; set; } = "";
    public string Status { get; set; } = PaymentStatuses.RequiresPayment;
    public string Amount { get; set; } = "0.00";
    public string CurrencyCode { get; set; } = "USD";
    public string SuccessUrl { get; set; } = "";
    public string CancelUrl { get; set; } = "";
    public string CheckoutUrl { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset Deadline { get; set; }
    public DateTimeOffset? SucceededAt { get; set; }
    public DateTimeOffset? LastFailedAt { get; set; }
    public int FailedAttempts { get; set; }
}

/// <summary>A refund of a paid order (<c>POST /payments/refunds</c>); <see cref="Amount"/> is a decimal string.</summary>
public sealed class Refund : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public string OrderId { get; set; } = "";
    public string PaymentId { get; set; } = "";
    public string Amount { get; set; } = "0.00";
    public string CurrencyCode { get; set; } = "USD";
    public string? Reason { get; set; }
    public string Status { get; set; } = "succeeded";
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>The first answer to a checkout-port call with an <c>idempotencyKey</c>; the same key answers it again.</summary>
public sealed class IdempotencyRecord : IDocument
{
    /// <summary><c>{organizationId}:{operation}:{key}</c>.</summary>
    public string Id { get; set; } = "";
    /// <summary>The request body as first sent (canonical JSON); the same key with another body is a 409.</summary>
    public string Request { get; set; } = "";
    public JsonObject Response { get; set; } = [];
}

/// <summary>checkout-api.json <c>POST /checkout</c> 200 (all required strings).</summary>
public sealed record CheckoutSessionJson(string OrderId, string PaymentId, string CheckoutUrl, string ExpiresAt, string Deadline);

/// <summary>checkout-api.json <c>POST /payments/cancellations</c> 200.</summary>
public sealed record CancellationJson(bool Success);

/// <summary>The <c>refund</c> object of <c>POST /payments/refunds</c> (the contract says only "object").</summary>
public sealed record RefundJson(string Id, string OrderId, string PaymentId, string Amount, string CurrencyCode, string? Reason, string Status, string CreatedAt);

/// <summary>checkout-api.json <c>POST /payments/refunds</c> 200.</summary>
public sealed record RefundResultJson(bool Success, RefundJson? Refund);

/// <summary>Source-generated serialization of the checkout shapes (camelCase, nulls written).</summary>
[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(CheckoutSessionJson))]
[JsonSerializable(typeof(CancellationJson))]
[JsonSerializable(typeof(RefundResultJson))]
[JsonSerializable(typeof(JsonObject))]
public sealed partial class CheckoutJson : JsonSerializerContext;
