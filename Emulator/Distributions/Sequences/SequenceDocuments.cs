using System.Text.Json.Nodes;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Distributions.Grants;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Distributions.Sequences;

/// <summary>A weighted product of a sequence (mystery-box configuration). Shape: admin-part4.md <c>SequenceProduct</c>.</summary>
public sealed class SequenceProduct : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public string SequenceId { get; set; } = "";
    public string ProductId { get; set; } = "";
    /// <summary>1..1000.</summary>
    public int Weight { get; set; }
    public bool Archived { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public DateTimeOffset? UpdatedAt { get; set; }
    public string? UpdatedBy { get; set; }

    public JsonObject ToJson() => new()
    {
        ["id"] = Id, ["organizationId"] = OrganizationId, ["createdAt"] = Json.Iso(CreatedAt), ["createdBy"] = CreatedBy,
        ["archived"] = Archived, ["updatedAt"] = Json.Iso(UpdatedAt), ["updatedBy"] = UpdatedBy,
        ["sequenceId"] = SequenceId, ["productId"] = ProductId, ["weight"] = Weight,
    };
}

/// <summary>A per-person order limit of a sequence. Shape: admin-part4.md <c>SequenceOrderLimit</c>.</summary>
public sealed class SequenceOrderLimit : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public string SequenceId { get; set; } = "";
    public string ProductId { get; set; } = "";
    public string? ProductVariantId { get; set; }
    /// <summary>≥ 1.</summary>
    public int MaxQuantity { get; set; }
    /// <summary>1..2592000 (30 days), or null = all time.</summary>
    public int? TimeWindowSeconds { get; set; }
    /// <summary><c>rolling</c> | <c>calendar</c> | null.</summary>
    public string? TimeWindowType { get; set; }
    public bool Archived { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public DateTimeOffset? UpdatedAt { get; set; }
    public string? UpdatedBy { get; set; }

    public JsonObject ToJson() => new()
    {
        ["id"] = Id, ["organizationId"] = OrganizationId, ["createdAt"] = Json.Iso(CreatedAt), ["createdBy"] = CreatedBy,
        ["archived"] = Archived, ["updatedAt"] = Json.Iso(UpdatedAt), ["updatedBy"] = UpdatedBy,
        ["sequenceId"] = SequenceId, ["productId"] = ProductId, ["maxQuantity"] = MaxQuantity,
        ["productVariantId"] = ProductVariantId, ["timeWindowSeconds"] = TimeWindowSeconds, ["timeWindowType"] = TimeWindowType,
    };
}

/// <summary>
/// Decides whether a consumer has reached a sequence's per-person order limit (the 409 <c>DISTRIBUTION_ORDER_LIMIT</c>
/// of <c>POST /waitlists/{id}/enter</c>). The emulator counts the consumer's <b>completed admission grants</b> in the
/// sequence as orders (quantity = the completion's <c>metadata.quantity</c> when it is a positive number, else 1), within
/// the limit's window: <c>rolling</c> = the last <c>timeWindowSeconds</c>; <c>calendar</c> = the current window of that
/// length aligned to the Unix epoch (86400 ⇒ the UTC day); no window = all time. Every limit of the sequence applies to
/// every order (orders carry no product); the first limit reached is returned.
/// </summary>
public sealed class OrderLimits(DocumentStore store, ClockResolver clocks)
{
    public SequenceOrderLimit? Reached(string organizationId, string sequenceId, string consumerId)
    {
        var limits = store.Where<SequenceOrderLimit>(l => l.OrganizationId == organizationId && l.SequenceId == sequenceId && !l.Archived);
        if (limits.Count == 0) return null;
        var now = clocks.For(organizationId).GetUtcNow();
        var orders = store.Where<AdmissionGrant>(g => g.OrganizationId == organizationId && g.SequenceId == sequenceId
            && g.ConsumerId == consumerId && g.Status == "completed" && g.CompletedAt is not null);
        foreach (var limit in limits)
        {
            DateTimeOffset? from = null;
            if (limit.TimeWindowSeconds is int w && w > 0)
            {
                if (limit.TimeWindowType == "calendar")
                {
                    var unix = now.ToUnixTimeSeconds();
                    from = DateTimeOffset.FromUnixTimeSeconds(unix - unix % w);
                }
                else from = now.AddSeconds(-w);
            }
            var quantity = orders.Where(g => from is null || g.CompletedAt >= from).Sum(Quantity);
            if (quantity >= limit.MaxQuantity) return limit;
        }
        return null;
    }

    private static int Quantity(AdmissionGrant g) =>
        RequestChecks.AsNumber(g.CompletionMetadata?["quantity"]) is double q && q >= 1 ? (int)q : 1;
}
