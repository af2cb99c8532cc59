using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Commerce;

/// <summary>Order statuses (behavior.md §10.1, §7.4).</summary>
public static class OrderStatuses
{
    public const string Pending = "pending", Completed = "completed", Cancelled = "cancelled", Refunded = "refunded", PartiallyRefunded = "partially_refunded";
}

/// <summary>
/// An order made by <c>POST /checkout</c> (checkout port). Orders have no public read operation; the control plane
/// shows them (<c>GET /_emulator/orders</c>). Consumers, audiences, loyalty and analytics read these documents.
/// Money is a decimal string (<c>"149.99"</c>); instants are UTC on the emulator clock.
/// </summary>
public sealed class Order : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public string Environment { get; set; } = "test";
    public string ConsumerId { get; set; } = "";
    public string? ExperienceId { get; set; }
    public string? SequenceId { get; set; }
    public string? DistributionId { get; set; }
    public string Status { get; set; } = OrderStatuses.Pending;
    /// <summary>Sum of the items, decimal string.</summary>
    public string TotalAmount { get; set; } = "0.00";
    /// <summary>Refunded so far, decimal string (never more than paid).</summary>
    public string RefundedAmount { get; set; } = "0.00";
    public string CurrencyCode { get; set; } = "USD";
    public List<OrderItem> Items { get; set; } = [];
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
    public DateTimeOffset? CancelledAt { get; set; }
    /// <summary>Why it was cancelled: the cancellation's <c>reason</c> (default <c>customer_requested</c>),
    /// <c>expired</c> (the checkout session lapsed unpaid), <c>superseded</c> (a newer checkout for the same admission).</summary>
    public string? CancelReason { get; set; }
    /// <summary><c>queue</c>, <c>draw</c>, … of <see cref="DistributionId"/>.</summary>
    public string? DistributionType { get; set; }
    /// <summary>The admission grant the checkout consumed (completed when the order is paid).</summary>
    public string? AdmissionGrantId { get; set; }
    /// <summary>The checkout session's payment (<see cref="Checkout.Payment"/>).</summary>
    public string? PaymentId { get; set; }
    /// <summary>When the unpaid checkout session lapses (admission deadline + 60 s buffer, behavior.md §10.1).</summary>
    public DateTimeOffset? ExpiresAt { get; set; }
    /// <summary>The admission grant's deadline (its <c>expiresAt</c>).</summary>
    public DateTimeOffset? Deadline { get; set; }
    /// <summary>True once <c>order.created</c> was recorded (at payment success).</summary>
    public bool Announced { get; set; }
}

/// <summary>One line of an <see cref="Order"/>; <see cref="UnitPrice"/> is a decimal string.</summary>
public sealed class OrderItem
{
    public string ProductId { get; set; } = "";
    public string? VariantId { get; set; }
    public int Quantity { get; set; }
    public string UnitPrice { get; set; } = "0.00";
    /// <summary>The product's name and the variant's SKU at the time of the order.</summary>
    public string? ProductName { get; set; }
    public string? Sku { get; set; }
}
