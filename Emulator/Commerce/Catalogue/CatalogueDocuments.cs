using System.Text.Json.Nodes;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Commerce.Catalogue;

/// <summary>The audit fields every catalogue document carries (admin-part3.md: <c>createdAt, createdBy, archived, updatedAt?, updatedBy?</c>).</summary>
public abstract class CatalogueDocument : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public bool Archived { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public DateTimeOffset? UpdatedAt { get; set; }
    public string? UpdatedBy { get; set; }
}

/// <summary>A product (admin-part3.md <c>Product</c>). <see cref="Archived"/> is what <c>DELETE /products/{id}</c> sets.</summary>
public sealed class Product : CatalogueDocument
{
    public string Name { get; set; } = "";
    public string Url { get; set; } = "";
    public string? Description { get; set; }
    public string? Handle { get; set; }
    public JsonObject? Metadata { get; set; }
    public string? DefaultVariantId { get; set; }
    public ProductSyncSource? PrimarySyncSource { get; set; }
    public string? PrimarySyncSourceId { get; set; }
    public string? PrimaryExternalId { get; set; }
    public string? PrimarySourceVendor { get; set; }
    public DateTimeOffset? PrimaryLastSyncedAt { get; set; }
}

/// <summary>admin-part3.md <c>SyncSource</c> (a product's <c>primarySyncSource</c>; upsert key of <c>POST /products</c>).</summary>
public sealed class ProductSyncSource
{
    public string Id { get; set; } = "";
    public string SyncSource { get; set; } = "";
    public string SyncSourceId { get; set; } = "";
    public DateTimeOffset? LastSyncedAt { get; set; }
    public JsonObject? SourceData { get; set; }
    public string? SyncStatus { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public DateTimeOffset? UpdatedAt { get; set; }
    public string? UpdatedBy { get; set; }
}

/// <summary>An option/value pair assigned to a variant.</summary>
public sealed class OptionAssignment
{
    public string OptionId { get; set; } = "";
    public string ValueId { get; set; } = "";
}

/// <summary>
/// A sellable unit (admin-part3.md <c>ProductVariant</c>). <see cref="Price"/> is a decimal string.
/// <see cref="ReservedQuantity"/> (not in the contract) is what open checkout sessions hold: for <c>deny</c> the units a
/// new checkout may take are <c>inventoryQuantity − reserved</c>; a paid order moves them out of <c>inventoryQuantity</c>.
/// </summary>
public sealed class ProductVariant : CatalogueDocument
{
    public string ProductId { get; set; } = "";
    public string Sku { get; set; } = "";
    public string Price { get; set; } = "0.00";
    public int InventoryQuantity { get; set; }
    public string InventoryPolicy { get; set; } = InventoryPolicies.Deny;
    public JsonObject? Metadata { get; set; }
    public int ReservedQuantity { get; set; }
    public List<OptionAssignment> Options { get; set; } = [];
}

public static class InventoryPolicies
{
    public const string Untracked = "untracked", Deny = "deny", Continue = "continue";
    public static readonly string[] All = [Untracked, Deny, Continue];
}

/// <summary>admin-part3.md <c>MediaAsset</c>.</summary>
public sealed class MediaAsset : CatalogueDocument
{
    public string Name { get; set; } = "";
    public string MimeType { get; set; } = "image/png";
    public string? AltText { get; set; }
    public string? Description { get; set; }
    public string? SourceUrl { get; set; }
    public string? ThumbnailUrl { get; set; }
    public string? PublicUrl { get; set; }
    public string? UploadUrl { get; set; }

    public static readonly string[] MimeTypes = ["image/jpeg", "image/jpg", "image/png", "image/gif", "image/webp", "video/mp4", "video/webm", "video/quicktime"];
}

/// <summary>The join row of a product and a media asset (admin-part3.md <c>ProductMediaAsset</c>).</summary>
public sealed class ProductMediaAssetLink : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public string ProductId { get; set; } = "";
    public string MediaAssetId { get; set; } = "";
    public int Position { get; set; }
    public string Purpose { get; set; } = "PRODUCT";
}

/// <summary>The join row of a variant and a media asset (admin-part3.md <c>VariantMediaAsset</c>).</summary>
public sealed class VariantMediaAssetLink : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public string VariantId { get; set; } = "";
    public string MediaAssetId { get; set; } = "";
    public int Position { get; set; }
}

/// <summary>admin-part4.md <c>VariantOption</c> (e.g. <c>size</c>, <c>color</c>).</summary>
public sealed class VariantOption : CatalogueDocument
{
    public string Name { get; set; } = "";
    public string DisplayName { get; set; } = "";
    public bool IsRestricted { get; set; }
    public int? SortOrder { get; set; }
}

/// <summary>admin-part4.md <c>VariantOptionValue</c>.</summary>
public sealed class VariantOptionValue : CatalogueDocument
{
    public string OptionId { get; set; } = "";
    public string Value { get; set; } = "";
    public string DisplayValue { get; set; } = "";
    public string? ColorHex { get; set; }
    public bool IsCentrallyManaged { get; set; }
    public int? SortOrder { get; set; }
}

/// <summary>admin-part3.md <c>ProductVariantOptionAssignment</c> (an option assigned to a product; no id in the contract).</summary>
public sealed class ProductOptionAssignment : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public string ProductId { get; set; } = "";
    public string OptionId { get; set; } = "";
    public bool Required { get; set; }
    public int? SortOrder { get; set; }
}
