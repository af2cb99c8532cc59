using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Fanfare.Emulator.Commerce.Catalogue;

// Response shapes of the catalogue operations (admin-part3.md products/variants/media/metrics, admin-part4.md
// GET /products/search and /variant-options). Fields the contract marks `T | null` are written as null (never omitted),
// like the rest of the emulator; instants are UTC ISO 8601 strings (Json.Iso), money is a decimal string.

/// <summary>admin-part3.md <c>SyncSource</c>.</summary>
public sealed record SyncSourceJson(string Id, string OrganizationId, string CreatedAt, string CreatedBy, bool Archived,
    string? UpdatedAt, string? UpdatedBy, string SyncSource, string SyncSourceId, string? LastSyncedAt, JsonObject? SourceData, string? SyncStatus);

/// <summary>admin-part3.md <c>MediaAsset</c>.</summary>
public sealed record MediaAssetJson(string Id, string OrganizationId, string CreatedAt, string CreatedBy, bool Archived,
    string? UpdatedAt, string? UpdatedBy, string Name, string MimeType, string? AltText, string? Description,
    string? PublicUrl, string? SourceUrl, string? ThumbnailUrl, string? UploadUrl);

/// <summary>admin-part3.md <c>ProductMediaAsset</c> (all required).</summary>
public sealed record ProductMediaAssetJson(string Id, string OrganizationId, int Position, string Purpose, string ProductId,
    string MediaAssetId, MediaAssetJson MediaAsset);

/// <summary>admin-part3.md <c>PUT /products/{productId}/media-assets/{assetId}</c> 200 (the join row without the asset).</summary>
public sealed record ProductMediaAssetRowJson(string Id, string MediaAssetId, string OrganizationId, int Position, string ProductId, string Purpose);

/// <summary>admin-part3.md <c>VariantMediaAsset</c>.</summary>
public sealed record VariantMediaAssetJson(string Id, string OrganizationId, int Position, string VariantId, string MediaAssetId, MediaAssetJson MediaAsset);

/// <summary>One entry of <c>ProductVariantWithOptions.options</c>.</summary>
public sealed record VariantOptionRefJson(string OptionId, string OptionName, string ValueId, string Value);

/// <summary>admin-part3.md <c>ProductVariant</c> (no <c>options</c>).</summary>
public sealed record ProductVariantJson(string Id, string OrganizationId, string CreatedAt, string CreatedBy, bool Archived,
    string? UpdatedAt, string? UpdatedBy, string ProductId, string Sku, string Price, int InventoryQuantity, string InventoryPolicy,
    JsonObject? Metadata, string? PrimaryExternalId, string? PrimaryLastSyncedAt, string? PrimarySourceVendor, string? PrimarySyncSourceId);

/// <summary>admin-part3.md <c>ProductVariantWithOptions</c> (<c>options</c> required).</summary>
public sealed record ProductVariantWithOptionsJson(string Id, string OrganizationId, string CreatedAt, string CreatedBy, bool Archived,
    string? UpdatedAt, string? UpdatedBy, string ProductId, string Sku, string Price, int InventoryQuantity, string InventoryPolicy,
    JsonObject? Metadata, string? PrimaryExternalId, string? PrimaryLastSyncedAt, string? PrimarySourceVendor, string? PrimarySyncSourceId,
    List<VariantOptionRefJson> Options);

/// <summary>admin-part3.md <c>Product</c> (also admin-part4.md <c>ProductWithRelations</c> of <c>GET /products/search</c>).</summary>
public sealed record ProductJson(string Id, string OrganizationId, string CreatedAt, string CreatedBy, bool Archived,
    string? UpdatedAt, string? UpdatedBy, string Name, string Url, string? DefaultVariantId, string? Description, string? Handle,
    JsonObject? Metadata, string? PrimaryExternalId, string? PrimaryLastSyncedAt, string? PrimarySourceVendor, string? PrimarySyncSourceId,
    SyncSourceJson? PrimarySyncSource, List<ProductMediaAssetJson>? ProductMediaAssets, List<ProductVariantWithOptionsJson>? Variants);

/// <summary>admin-part3.md <c>ProductBase</c> (the reduced product of <c>PUT</c>/<c>DELETE /products/{productId}</c>).</summary>
public sealed record ProductBaseJson(string Id, string OrganizationId, string CreatedAt, string CreatedBy, bool Archived,
    string? UpdatedAt, string? UpdatedBy, string Name, string Url, string? Description, string? Handle, JsonObject? Metadata,
    string? PrimaryExternalId, string? PrimaryLastSyncedAt, string? PrimarySourceVendor, string? PrimarySyncSourceId);

/// <summary>The cursor envelope's <c>pageInfo</c> (behavior.md §6; both required, nullable).</summary>
public sealed record PageInfoJson(string? StartCursor, string? EndCursor);

/// <summary>admin-part3.md <c>GET /products</c> 200.</summary>
public sealed record ProductPageJson(List<ProductJson> Data, PageInfoJson PageInfo);

/// <summary>admin-part3.md <c>GET /products/{productId}/metrics</c> 200 (computed from this emulator's completed orders).</summary>
public sealed record ProductMetricsJson(string Revenue, int OrderCount, int UnitsSold, string? LastOrderAt);

/// <summary><c>{success: boolean}</c>.</summary>
public sealed record SuccessJson(bool Success);

/// <summary><c>{message: string}</c> (admin-part4.md archive answers of variant options and values).</summary>
public sealed record MessageJson(string Message);

/// <summary>admin-part4.md <c>VariantOptionValue</c>.</summary>
public sealed record VariantOptionValueJson(string Id, string OrganizationId, string CreatedAt, string CreatedBy, bool Archived,
    string? UpdatedAt, string? UpdatedBy, string OptionId, string Value, string DisplayValue, string? ColorHex, bool IsCentrallyManaged, int? SortOrder);

/// <summary>admin-part4.md <c>VariantOption</c> (no <c>values</c>).</summary>
public sealed record VariantOptionJson(string Id, string OrganizationId, string CreatedAt, string CreatedBy, bool Archived,
    string? UpdatedAt, string? UpdatedBy, string Name, string DisplayName, bool IsRestricted, int? SortOrder);

/// <summary>admin-part4.md <c>VariantOptionWithValues</c>.</summary>
public sealed record VariantOptionWithValuesJson(string Id, string OrganizationId, string CreatedAt, string CreatedBy, bool Archived,
    string? UpdatedAt, string? UpdatedBy, string Name, string DisplayName, bool IsRestricted, int? SortOrder, List<VariantOptionValueJson> Values);

/// <summary>admin-part4.md <c>GET /variant-options</c> and <c>PUT /variant-options/reorder</c> 200.</summary>
public sealed record VariantOptionListJson(List<VariantOptionWithValuesJson> Options, int Total);

/// <summary>admin-part3.md <c>ProductVariantOptionAssignment</c> (no id).</summary>
public sealed record ProductOptionAssignmentJson(string OrganizationId, string ProductId, string OptionId, bool Required, int? SortOrder,
    VariantOptionJson Option, List<VariantOptionValueJson> Values);

/// <summary>admin-part3.md <c>GET|POST /products/{productId}/variant-options</c> 200.</summary>
public sealed record ProductOptionAssignmentsJson(List<ProductOptionAssignmentJson> Assignments);

/// <summary>
/// Source-generated serialization of the commerce shapes: camelCase, nulls written (the contract's <c>T | null</c>).
/// Endpoints answer with <c>TypedResults.Json(value, CommerceJson.Default.X)</c> so <c>/openapi</c> shows the schemas.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(ProductJson))]
[JsonSerializable(typeof(List<ProductJson>))]
[JsonSerializable(typeof(ProductBaseJson))]
[JsonSerializable(typeof(ProductPageJson))]
[JsonSerializable(typeof(ProductVariantJson))]
[JsonSerializable(typeof(List<ProductVariantJson>))]
[JsonSerializable(typeof(ProductVariantWithOptionsJson))]
[JsonSerializable(typeof(List<ProductVariantWithOptionsJson>))]
[JsonSerializable(typeof(MediaAssetJson))]
[JsonSerializable(typeof(List<ProductMediaAssetJson>))]
[JsonSerializable(typeof(ProductMediaAssetRowJson))]
[JsonSerializable(typeof(VariantMediaAssetJson))]
[JsonSerializable(typeof(List<VariantMediaAssetJson>))]
[JsonSerializable(typeof(ProductMetricsJson))]
[JsonSerializable(typeof(SuccessJson))]
[JsonSerializable(typeof(MessageJson))]
[JsonSerializable(typeof(VariantOptionJson))]
[JsonSerializable(typeof(VariantOptionValueJson))]
[JsonSerializable(typeof(List<VariantOptionValueJson>))]
[JsonSerializable(typeof(VariantOptionWithValuesJson))]
[JsonSerializable(typeof(List<VariantOptionWithValuesJson>))]
[JsonSerializable(typeof(VariantOptionListJson))]
[JsonSerializable(typeof(ProductOptionAssignmentsJson))]
[JsonSerializable(typeof(JsonObject))]
public sealed partial class CommerceJson : JsonSerializerContext;
