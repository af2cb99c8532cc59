using System.Text.Json.Nodes;
using Fanfare.Emulator.Auth;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Ids;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.Commerce.Catalogue;

/// <summary>
/// Admin catalogue: products, variants, inventory, media assets, metrics and search (admin-part3.md, admin-part4.md
/// <c>GET /products/search</c>), secret key, every success 200. Literal segments (<c>reorder</c>, <c>available</c>,
/// <c>search</c>) are routed before their <c>{id}</c> templates. Unknown ids: 404 <c>Product not found</c>,
/// <c>Product variant not found</c>, <c>Media asset not found</c>; bad bodies: 400 <c>validation_error</c>.
/// </summary>
public sealed class ProductsAdminApi : IFeatureModule
{
    /// <summary>Before sequences and experiences: their seed references products.</summary>
    public int Order => 35;

    public void AddServices(IServiceCollection services, EmulatorOptions options) => services.AddSingleton<CatalogueService>();

    private static readonly string[] Purposes = ["LOGO", "PRODUCT"];
    private static readonly string[] SyncStatuses = ["PENDING", "SUCCESS", "FAILED"];

    public void MapEndpoints(EmulatorRoutes routes)
    {
        var g = routes.Admin.MapGroup("/products").WithTags("Products");
        var J = CommerceJson.Default;

        g.MapGet("", (HttpRequest req, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            var archived = req.Query["archived"].FirstOrDefault() switch
            {
                null or "" or "false" => false,
                "true" => true,
                var v => throw RequestChecks.QueryIssue("archived", "picklist", "\"true\" | \"false\"", v, $"Invalid type: Expected \"true\" | \"false\" but received \"{v}\"", "schema"),
            };
            // the shared pager picks the page (ids only); the page is then written with the typed Product shape
            var page = Pagination.Page(cat.Products(org.Id, archived), p => p.Id, p => JsonValue.Create(p.Id), req.Query);
            var data = page["data"]!.AsArray().Select(n => cat.ToJson(cat.RequireProduct(org.Id, n!.GetValue<string>()))).ToList();
            return TypedResults.Json(new ProductPageJson(data,
                new PageInfoJson(RequestChecks.AsString(page["pageInfo"]!["startCursor"]), RequestChecks.AsString(page["pageInfo"]!["endCursor"]))), J.ProductPageJson);
        }).Produces<ProductPageJson>(200, "application/json").WithName("getProducts").WithSummary("List products with bidirectional cursor-based pagination (?first, ?after, ?last, ?before, ?archived=true|false)");

        g.MapPost("", async (HttpRequest req, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            var body = await BodyReader.ReadAsync(req, required: true);
            var input = ReadProduct(body, org.Id, cat);
            body.ThrowIfInvalid();
            return TypedResults.Json(cat.ToJson(cat.CreateProduct(org.Id, input, caller.Actor())), J.ProductJson);
        }).Produces<ProductJson>(200, "application/json").WithName("postProducts").WithSummary("Create or update a product (upsert when sync source provided)");

        g.MapGet("/search", (HttpRequest req, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            var q = req.Query["q"].FirstOrDefault() ?? req.Query["query"].FirstOrDefault() ?? req.Query["search"].FirstOrDefault();
            var limit = Pagination.Limit(req.Query, Pagination.MaxPageSize);
            return TypedResults.Json(cat.Search(org.Id, q).Take(limit).Select(cat.ToJson).ToList(), J.ListProductJson);
        }).Produces<List<ProductJson>>(200, "application/json").WithName("getProductsSearch").WithSummary("Search products (?q= matches name, handle, description or SKU; ?limit=)");

        g.MapGet("/{productId}", (string productId, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            return TypedResults.Json(cat.ToJson(cat.RequireProduct(org.Id, productId)), J.ProductJson);
        }).Produces<ProductJson>(200, "application/json").WithName("getProductsByProductId").WithSummary("Get a product");

        g.MapPut("/{productId}", async (string productId, HttpRequest req, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            var p = cat.RequireProduct(org.Id, productId);
            var body = await BodyReader.ReadAsync(req);
            body.String("name", minLength: 1); body.String("url", minLength: 1);
            body.String("description", nullable: true); body.String("handle", nullable: true); body.Object("metadata", nullable: true);
            body.ThrowIfInvalid();
            return TypedResults.Json(CatalogueService.Base(cat.UpdateProduct(p, body.Root, caller.Actor())), J.ProductBaseJson);
        }).Produces<ProductBaseJson>(200, "application/json").WithName("putProductsByProductId").WithSummary("Update a product (answers the reduced ProductBase)");

        g.MapDelete("/{productId}", (string productId, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            return TypedResults.Json(CatalogueService.Base(cat.ArchiveProduct(cat.RequireProduct(org.Id, productId), caller.Actor())), J.ProductBaseJson);
        }).Produces<ProductBaseJson>(200, "application/json").WithName("deleteProductsByProductId").WithSummary("Archive a product (409 while an open distribution sells it)");

        g.MapGet("/{productId}/metrics", (string productId, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            return TypedResults.Json(cat.Metrics(cat.RequireProduct(org.Id, productId)), J.ProductMetricsJson);
        }).Produces<ProductMetricsJson>(200, "application/json").WithName("getProductsByProductIdMetrics").WithSummary("Get sales metrics for a product (from this emulator's paid orders)");

        // ---- product media assets
        g.MapGet("/{productId}/media-assets", (string productId, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            return TypedResults.Json(cat.ProductAssets(cat.RequireProduct(org.Id, productId).Id).Select(cat.ToJson).ToList(), J.ListProductMediaAssetJson);
        }).Produces<List<ProductMediaAssetJson>>(200, "application/json").WithName("getProductsByProductIdMediaAssets").WithSummary("Get product media assets");

        g.MapPost("/{productId}/media-assets", async (string productId, HttpRequest req, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            var p = cat.RequireProduct(org.Id, productId);
            var body = await BodyReader.ReadAsync(req, required: true);
            var assetObj = body.Object("mediaAsset", nullable: true);
            var asset = assetObj is null ? null : ReadAsset(body, assetObj, [RequestChecks.Step(body.Root, "mediaAsset")]);
            var mediaAssetId = body.Uuid("mediaAssetId", nullable: true);
            var position = body.Int("position", required: true, min: 0);
            var purpose = body.Enum("purpose", Purposes, required: true);
            if (assetObj is null && mediaAssetId is null && !body.HasIssues)
                body.AddIssue("mediaAsset", "object", "mediaAsset or mediaAssetId", null, "Invalid type: Expected mediaAsset or mediaAssetId but received undefined", "schema");
            body.ThrowIfInvalid();
            return TypedResults.Json(cat.ToJson(cat.AddProductAsset(p, asset, assetObj is null ? mediaAssetId : null, position!.Value, purpose!, caller.Actor())), J.MediaAssetJson);
        }).Produces<MediaAssetJson>(200, "application/json").WithName("postProductsByProductIdMediaAssets").WithSummary("Create a media asset for a product");

        g.MapPut("/{productId}/media-assets/reorder", async (string productId, HttpRequest req, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            var p = cat.RequireProduct(org.Id, productId);
            var body = await BodyReader.ReadAsync(req, required: true);
            var order = UuidArray(body, "assetOrder");
            body.ThrowIfInvalid();
            cat.ReorderProductAssets(p, order!);
            return TypedResults.Json(new SuccessJson(true), J.SuccessJson);
        }).Produces<SuccessJson>(200, "application/json").WithName("putProductsByProductIdMediaAssetsReorder").WithSummary("Reorder product media assets");

        g.MapPut("/{productId}/media-assets/{assetId}", async (string productId, string assetId, HttpRequest req, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            var p = cat.RequireProduct(org.Id, productId);
            var link = cat.RequireProductLink(p, assetId);
            var body = await BodyReader.ReadAsync(req);
            var position = body.Int("position", min: 0);
            var purpose = body.String("purpose", minLength: 1);
            body.ThrowIfInvalid();
            return TypedResults.Json(CatalogueService.Row(cat.UpdateProductLink(link, position, purpose)), J.ProductMediaAssetRowJson);
        }).Produces<ProductMediaAssetRowJson>(200, "application/json").WithName("putProductsByProductIdMediaAssetsByAssetId").WithSummary("Update product media asset (position, purpose)");

        g.MapDelete("/{productId}/media-assets/{assetId}", (string productId, string assetId, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            var p = cat.RequireProduct(org.Id, productId);
            cat.RemoveProductLink(p, cat.RequireProductLink(p, assetId));
            return TypedResults.Json(new SuccessJson(true), J.SuccessJson);
        }).Produces<SuccessJson>(200, "application/json").WithName("deleteProductsByProductIdMediaAssetsByAssetId").WithSummary("Remove media asset from product");

        // ---- variants
        g.MapGet("/{productId}/variants", (string productId, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            return TypedResults.Json(cat.Variants(cat.RequireProduct(org.Id, productId).Id).Select(cat.WithOptions).ToList(), J.ListProductVariantWithOptionsJson);
        }).Produces<List<ProductVariantWithOptionsJson>>(200, "application/json").WithName("getProductsByProductIdVariants").WithSummary("Get all variants for a product");

        g.MapPost("/{productId}/variants", async (string productId, HttpRequest req, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            var p = cat.RequireProduct(org.Id, productId);
            var body = await BodyReader.ReadAsync(req, required: true);
            var bodyProductId = body.Uuid("productId", required: true);
            if (bodyProductId is not null && bodyProductId != p.Id)
                body.AddIssue("productId", "value", "\"" + p.Id + "\"", body.Root["productId"], "Invalid productId: must match the path's product");
            var v = ReadVariant(body, []);
            if (v is not null && cat.SkuTaken(org.Id, v.Sku)) Unique(body, "sku");
            body.ThrowIfInvalid();
            return TypedResults.Json(cat.ToJson(cat.AddVariant(p, v!, caller.Actor())), J.ProductVariantJson);
        }).Produces<ProductVariantJson>(200, "application/json").WithName("postProductsByProductIdVariants").WithSummary("Create a product variant (optionally with option/value assignments)");

        g.MapGet("/{productId}/variants/available", (string productId, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            return TypedResults.Json(cat.Variants(cat.RequireProduct(org.Id, productId).Id).Where(v => CatalogueService.Available(v) > 0)
                .Select(cat.ToJson).ToList(), J.ListProductVariantJson);
        }).Produces<List<ProductVariantJson>>(200, "application/json").WithName("getProductsByProductIdVariantsAvailable").WithSummary("Get available variants for a product (in stock — net of open checkout reservations — or not tracked)");

        g.MapGet("/{productId}/variants/{variantId}", (string productId, string variantId, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            return TypedResults.Json(cat.WithOptions(cat.RequireVariant(cat.RequireProduct(org.Id, productId), variantId)), J.ProductVariantWithOptionsJson);
        }).Produces<ProductVariantWithOptionsJson>(200, "application/json").WithName("getProductsByProductIdVariantsByVariantId").WithSummary("Get a specific product variant");

        g.MapPut("/{productId}/variants/{variantId}", async (string productId, string variantId, HttpRequest req, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            var v = cat.RequireVariant(cat.RequireProduct(org.Id, productId), variantId);
            var body = await BodyReader.ReadAsync(req);
            var sku = body.String("sku", minLength: 1);
            var price = body.String("price", format: "decimal");
            var qty = body.Int("inventoryQuantity");
            var policy = body.Enum("inventoryPolicy", InventoryPolicies.All);
            body.Object("metadata", nullable: true);
            if (sku is not null && cat.SkuTaken(org.Id, sku, v.Id)) Unique(body, "sku");
            body.ThrowIfInvalid();
            return TypedResults.Json(cat.ToJson(cat.UpdateVariant(v, sku, price, qty, policy, body.Root, caller.Actor())), J.ProductVariantJson);
        }).Produces<ProductVariantJson>(200, "application/json").WithName("putProductsByProductIdVariantsByVariantId").WithSummary("Update a product variant");

        g.MapDelete("/{productId}/variants/{variantId}", (string productId, string variantId, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            var p = cat.RequireProduct(org.Id, productId);
            return TypedResults.Json(cat.ToJson(cat.ArchiveVariant(p, cat.RequireVariant(p, variantId), caller.Actor())), J.ProductVariantJson);
        }).Produces<ProductVariantJson>(200, "application/json").WithName("deleteProductsByProductIdVariantsByVariantId").WithSummary("Delete (archive) a product variant (409 while an open distribution sells it)");

        g.MapPatch("/{productId}/variants/{variantId}/inventory", async (string productId, string variantId, HttpRequest req, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            var v = cat.RequireVariant(cat.RequireProduct(org.Id, productId), variantId);
            var body = await BodyReader.ReadAsync(req, required: true);
            var qty = body.Int("inventoryQuantity", required: true);
            var policy = body.Enum("inventoryPolicy", InventoryPolicies.All);
            body.ThrowIfInvalid();
            return TypedResults.Json(cat.ToJson(cat.SetInventory(v, qty!.Value, policy, caller.Actor())), J.ProductVariantJson);
        }).Produces<ProductVariantJson>(200, "application/json").WithName("patchProductsByProductIdVariantsByVariantIdInventory").WithSummary("Update variant inventory quantity (and, as an emulator extra, inventoryPolicy)");

        g.MapPut("/{productId}/variants/{variantId}/option-assignments", async (string productId, string variantId, HttpRequest req, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            var p = cat.RequireProduct(org.Id, productId);
            var v = cat.RequireVariant(p, variantId);
            var body = await BodyReader.ReadAsync(req, required: true);
            var assignments = ReadAssignments(body, required: true);
            body.ThrowIfInvalid();
            return TypedResults.Json(cat.WithOptions(cat.ReplaceAssignments(p, v, assignments!, caller.Actor())), J.ProductVariantWithOptionsJson);
        }).Produces<ProductVariantWithOptionsJson>(200, "application/json").WithName("putProductsByProductIdVariantsByVariantIdOptionAssignments").WithSummary("Replace a variant's option/value assignments");

        // ---- variant media assets
        g.MapGet("/{productId}/variants/{variantId}/media-assets", (string productId, string variantId, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            var v = cat.RequireVariant(cat.RequireProduct(org.Id, productId), variantId);
            return TypedResults.Json(cat.VariantAssets(v.Id).Select(cat.ToJson).ToList(), J.ListVariantMediaAssetJson);
        }).Produces<List<VariantMediaAssetJson>>(200, "application/json").WithName("getProductsByProductIdVariantsByVariantIdMediaAssets").WithSummary("Get all media assets for a variant");

        g.MapPost("/{productId}/variants/{variantId}/media-assets", async (string productId, string variantId, HttpRequest req, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            var p = cat.RequireProduct(org.Id, productId);
            var v = cat.RequireVariant(p, variantId);
            var body = await BodyReader.ReadAsync(req, required: true);
            var mediaAssetId = body.Uuid("mediaAssetId", required: true);
            var position = body.Int("position", required: true, min: 0);
            body.ThrowIfInvalid();
            return TypedResults.Json(cat.ToJson(cat.AddVariantAsset(p, v, mediaAssetId!, position!.Value)), J.VariantMediaAssetJson);
        }).Produces<VariantMediaAssetJson>(200, "application/json").WithName("postProductsByProductIdVariantsByVariantIdMediaAssets").WithSummary("Associate a product media asset with a variant");

        g.MapPut("/{productId}/variants/{variantId}/media-assets", async (string productId, string variantId, HttpRequest req, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            var p = cat.RequireProduct(org.Id, productId);
            var v = cat.RequireVariant(p, variantId);
            var body = await BodyReader.ReadAsync(req, required: true);
            var list = UuidArray(body, "mediaAssetIds");
            body.ThrowIfInvalid();
            return TypedResults.Json(cat.ReplaceVariantAssets(p, v, list!).Select(cat.ToJson).ToList(), J.ListVariantMediaAssetJson);
        }).Produces<List<VariantMediaAssetJson>>(200, "application/json").WithName("putProductsByProductIdVariantsByVariantIdMediaAssets").WithSummary("Replace all media assets for a variant");

        g.MapPut("/{productId}/variants/{variantId}/media-assets/reorder", async (string productId, string variantId, HttpRequest req, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            var v = cat.RequireVariant(cat.RequireProduct(org.Id, productId), variantId);
            var body = await BodyReader.ReadAsync(req, required: true);
            var order = UuidArray(body, "assetOrder");
            body.ThrowIfInvalid();
            cat.ReorderVariantAssets(v, order!);
            return TypedResults.Json(new SuccessJson(true), J.SuccessJson);
        }).Produces<SuccessJson>(200, "application/json").WithName("putProductsByProductIdVariantsByVariantIdMediaAssetsReorder").WithSummary("Reorder media assets for a variant");

        g.MapDelete("/{productId}/variants/{variantId}/media-assets/{mediaAssetId}", (string productId, string variantId, string mediaAssetId, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            var v = cat.RequireVariant(cat.RequireProduct(org.Id, productId), variantId);
            cat.RemoveVariantLink(cat.RequireVariantLink(v, mediaAssetId));
            return TypedResults.Json(new SuccessJson(true), J.SuccessJson);
        }).Produces<SuccessJson>(200, "application/json").WithName("deleteProductsByProductIdVariantsByVariantIdMediaAssetsByMediaAssetId").WithSummary("Remove a media asset from a variant (does not delete the media asset)");

        // ---- product option assignments
        g.MapGet("/{productId}/variant-options", (string productId, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            return TypedResults.Json(cat.AssignmentsJson(cat.RequireProduct(org.Id, productId)), J.ProductOptionAssignmentsJson);
        }).Produces<ProductOptionAssignmentsJson>(200, "application/json").WithName("getProductsByProductIdVariantOptions").WithSummary("Get variant options assigned to a product");

        g.MapPost("/{productId}/variant-options", async (string productId, HttpRequest req, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            var p = cat.RequireProduct(org.Id, productId);
            var body = await BodyReader.ReadAsync(req, required: true);
            var arr = body.Array("options", required: true);
            var options = new List<(string, bool?, int?)>();
            for (int i = 0; i < (arr?.Count ?? 0); i++)
            {
                var o = RequestChecks.Nested(arr![i]);
                var optionId = o.Uuid("optionId", required: true);
                var required = o.Bool("required");
                var sort = o.Int("sortOrder");
                body.Absorb(o, [RequestChecks.Step(body.Root, "options"), RequestChecks.Step(arr, i)]);
                if (optionId is not null) options.Add((optionId, required, sort));
            }
            body.ThrowIfInvalid();
            cat.AssignOptions(p, options);
            return TypedResults.Json(cat.AssignmentsJson(p), J.ProductOptionAssignmentsJson);
        }).Produces<ProductOptionAssignmentsJson>(200, "application/json").WithName("postProductsByProductIdVariantOptions").WithSummary("Assign variant options to a product");

        g.MapDelete("/{productId}/variant-options/{optionId}", (string productId, string optionId, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            var p = cat.RequireProduct(org.Id, productId);
            if (!cat.UnassignOption(p, optionId)) throw ApiErrors.NotFoundError(CatalogueService.OptionNotFound);
            return TypedResults.Json(new SuccessJson(true), J.SuccessJson);
        }).Produces<SuccessJson>(200, "application/json").WithName("deleteProductsByProductIdVariantOptionsByOptionId").WithSummary("Remove a variant option from a product");
    }

    // ------------------------------------------------------------------ body readers

    internal static void Unique(BodyReader body, string key) =>
        body.Add(new ValidationIssue("validation", "unique", "unique", Validation.Describe(body.Root[key]), "validation.unique",
            [RequestChecks.Step(body.Root, key)]));

    internal static List<string>? UuidArray(BodyReader body, string key)
    {
        var list = body.StringArray(key, required: true);
        if (list is null) return null;
        for (int i = 0; i < list.Count; i++)
            if (!Guid.TryParse(list[i], out _))
                body.Add(new ValidationIssue("validation", "uuid", "UUID", "\"" + list[i] + "\"", $"Invalid UUID: Received \"{list[i]}\"",
                    [RequestChecks.Step(body.Root, key), RequestChecks.Step(body.Root[key]!.AsArray(), i)]));
        return list;
    }

    private static MediaAssetInput? ReadAsset(BodyReader outer, JsonObject obj, JsonArray prefix)
    {
        var a = RequestChecks.Nested(obj);
        var name = a.String("name", required: true, minLength: 1);
        var mime = a.Enum("mimeType", MediaAsset.MimeTypes, required: true);
        var alt = a.String("altText", nullable: true);
        var desc = a.String("description", nullable: true);
        var src = a.String("sourceUrl", nullable: true);
        var thumb = a.String("thumbnailUrl", nullable: true);
        outer.Absorb(a, prefix);
        return name is null || mime is null ? null : new MediaAssetInput(name, mime, alt, desc, src, thumb);
    }

    internal static List<OptionAssignment>? ReadAssignments(BodyReader body, bool required)
    {
        var arr = body.Array("optionAssignments", required: required);
        if (arr is null) return null;
        var list = new List<OptionAssignment>();
        for (int i = 0; i < arr.Count; i++)
        {
            var o = RequestChecks.Nested(arr[i]);
            var optionId = o.Uuid("optionId", required: true);
            var valueId = o.Uuid("valueId", required: true);
            body.Absorb(o, [RequestChecks.Step(body.Root, "optionAssignments"), RequestChecks.Step(arr, i)]);
            if (optionId is not null && valueId is not null) list.Add(new OptionAssignment { OptionId = optionId, ValueId = valueId });
        }
        return list;
    }

    /// <summary>A variant body; issues land in <paramref name="body"/> under <paramref name="prefix"/> when nested.</summary>
    internal static VariantInput? ReadVariant(BodyReader body, JsonArray prefix)
    {
        var sku = body.String("sku", required: true, minLength: 1);
        var price = body.String("price", required: true, format: "decimal");
        var qty = body.Int("inventoryQuantity", required: true);
        var policy = body.Enum("inventoryPolicy", InventoryPolicies.All, required: true);
        var metadata = body.Object("metadata", nullable: true);
        var assignments = ReadAssignments(body, required: false);
        List<(string, string)>? optionValues = null;
        if (body.Array("optionValues") is { } ov)
        {
            optionValues = [];
            for (int i = 0; i < ov.Count; i++)
            {
                var o = RequestChecks.Nested(ov[i]);
                var n = o.String("optionName", required: true, minLength: 1);
                var val = o.String("value", required: true, minLength: 1);
                body.Absorb(o, [RequestChecks.Step(body.Root, "optionValues"), RequestChecks.Step(ov, i)]);
                if (n is not null && val is not null) optionValues.Add((n, val));
            }
        }
        if (sku is null || price is null || qty is null || policy is null) return null;
        return new VariantInput(sku, price, qty.Value, policy, metadata, assignments, optionValues);
    }

    private static ProductInput ReadProduct(BodyReader body, string orgId, CatalogueService cat)
    {
        var input = new ProductInput
        {
            Name = body.String("name", required: true, minLength: 1) ?? "",
            Url = body.String("url", required: true, minLength: 1) ?? "",
            Description = body.String("description", nullable: true),
            Handle = body.String("handle", nullable: true),
            DefaultVariantId = body.Uuid("defaultVariantId", nullable: true),
            Metadata = body.Object("metadata", nullable: true),
        };
        if (body.Object("primarySyncSource", nullable: true) is { } ss)
        {
            var s = RequestChecks.Nested(ss);
            var source = s.String("syncSource", required: true, minLength: 1);
            var sourceId = s.String("syncSourceId", required: true, minLength: 1);
            var last = s.DateTime("lastSyncedAt");
            var data = s.Object("sourceData", nullable: true);
            var status = s.Enum("syncStatus", SyncStatuses, nullable: true);
            body.Absorb(s, [RequestChecks.Step(body.Root, "primarySyncSource")]);
            if (source is not null && sourceId is not null) input.SyncSource = new SyncSourceInput(source, sourceId, last, data, status);
        }
        if (body.Array("productMediaAssets", nullable: true) is { } media)
        {
            input.MediaAssets = [];
            for (int i = 0; i < media.Count; i++)
            {
                var m = RequestChecks.Nested(media[i]);
                var prefix = new JsonArray(RequestChecks.Step(body.Root, "productMediaAssets"), RequestChecks.Step(media, i));
                var assetObj = m.Object("mediaAsset", required: true);
                var position = m.Int("position", required: true, min: 0);
                var purpose = m.String("purpose", required: true, minLength: 1);
                body.Absorb(m, prefix);
                var asset = assetObj is null ? null : ReadAsset(body, assetObj, [.. prefix.Select(x => x!.DeepClone()), RequestChecks.Step(m.Root, "mediaAsset")]);
                if (asset is not null && position is not null && purpose is not null) input.MediaAssets.Add((asset, position.Value, purpose));
            }
        }
        if (body.Array("variantOptionIds", nullable: true) is not null) input.VariantOptionIds = UuidArray(body, "variantOptionIds");
        if (body.Array("variants", nullable: true) is { } variants)
        {
            input.Variants = [];
            var skus = new HashSet<string>(StringComparer.Ordinal);
            for (int i = 0; i < variants.Count; i++)
            {
                var v = RequestChecks.Nested(variants[i]);
                var prefix = new JsonArray(RequestChecks.Step(body.Root, "variants"), RequestChecks.Step(variants, i));
                var vi = ReadVariant(v, []);
                if (vi is not null && !skus.Add(vi.Sku)) Unique(v, "sku");
                body.Absorb(v, prefix);
                if (vi is not null) input.Variants.Add(vi);
            }
            // a SKU taken by another product's active variant is a unique issue (the same product's are upserted)
            if (input.SyncSource is null)
                for (int i = 0; i < input.Variants.Count; i++)
                    if (cat.SkuTaken(orgId, input.Variants[i].Sku))
                        body.Add(new ValidationIssue("validation", "unique", "unique", "\"" + input.Variants[i].Sku + "\"", "validation.unique",
                            [RequestChecks.Step(body.Root, "variants"), RequestChecks.Step(variants, i), RequestChecks.Step(variants[i], "sku")]));
        }
        return input;
    }

    /// <summary>
    /// Seed section <c>products</c> of an organization: <c>[{id?, name, url?, handle?, description?, metadata?,
    /// variants:[{id?, sku, price, inventoryQuantity, inventoryPolicy?, optionValues?:[{optionName, value}]}]}]</c>.
    /// Ids default to name/SKU-derived UUIDs (stable across runs and resets), so experiences in the seed can reference
    /// them. An invalid entry is skipped with a logged warning.
    /// </summary>
    public void ApplySeed(IServiceProvider services, Organization org, JsonObject orgSeed, JsonObject seed)
    {
        if (orgSeed["products"] is not JsonArray list) return;
        var log = services.GetRequiredService<ILoggerFactory>().CreateLogger("Fanfare.Emulator.Seed.Products");
        var cat = services.GetRequiredService<CatalogueService>();
        var store = services.GetRequiredService<Infrastructure.Store.DocumentStore>();
        foreach (var node in list.OfType<JsonObject>())
        {
            var name = RequestChecks.AsString(node["name"]) ?? "";
            try
            {
                var x = (JsonObject)node.DeepClone();
                x["url"] ??= "https://example.com/products/" + Uri.EscapeDataString(name.ToLowerInvariant().Replace(' ', '-'));
                foreach (var v in x["variants"] as JsonArray ?? []) if (v is JsonObject vo) vo["inventoryPolicy"] ??= InventoryPolicies.Deny;
                var body = BodyReader.ParseCached(x.ToJsonString());
                var input = ReadProduct(body, org.Id, cat);
                body.ThrowIfInvalid();
                var p = cat.CreateProduct(org.Id, input, "seed");
                // stable ids: re-key the product and its variants to derived (or given) UUIDs
                store.Transaction(() =>
                {
                    var productId = RequestChecks.AsString(node["id"]) ?? IdGenerator.DeriveUuid("product", org.Name + "/" + name);
                    var variants = cat.Variants(p.Id);
                    var seedVariants = (node["variants"] as JsonArray ?? []).OfType<JsonObject>().ToList();
                    foreach (var v in variants)
                    {
                        var sv = seedVariants.FirstOrDefault(s => RequestChecks.AsString(s["sku"]) == v.Sku);
                        store.Delete<ProductVariant>(v.Id);
                        var oldId = v.Id;
                        v.Id = RequestChecks.AsString(sv?["id"]) ?? IdGenerator.DeriveUuid("variant", org.Name + "/" + name + "/" + v.Sku);
                        v.ProductId = productId;
                        store.Put(v);
                        if (p.DefaultVariantId == oldId) p.DefaultVariantId = v.Id;
                    }
                    foreach (var a in store.Where<ProductOptionAssignment>(a => a.ProductId == p.Id))
                    {
                        store.Delete<ProductOptionAssignment>(a.Id);
                        a.ProductId = productId; a.Id = productId + ":" + a.OptionId;
                        store.Put(a);
                    }
                    foreach (var l in store.Where<ProductMediaAssetLink>(l => l.ProductId == p.Id)) { l.ProductId = productId; store.Put(l); }
                    store.Delete<Product>(p.Id);
                    p.Id = productId;
                    store.Put(p);
                });
            }
            catch (ApiException ex)
            {
                log.LogWarning("Seed {Org}: product \"{Product}\" skipped: {Body}", org.Name, name, ex.Body?.ToJsonString() ?? ex.Message);
            }
        }
    }
}
