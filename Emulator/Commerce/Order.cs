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
}

/// <summary>One line of an <see cref="Order"/>; <see cref="UnitPrice"/> is a decimal string.</summary>
public sealed class OrderItem
{
    public string ProductId { get; set; } = "";
    public string? VariantId { get; set; }
    public int Quantity { get; set; }
    public string UnitPrice { get; set; } = "0.00";
}
