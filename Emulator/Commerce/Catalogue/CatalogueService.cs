using System.Globalization;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Distributions;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Distributions.Sequences;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Ids;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Commerce.Catalogue;

/// <summary>A variant in a create body (admin-part3.md <c>POST /products</c> <c>variants[]</c>, <c>POST …/variants</c>).</summary>
public sealed record VariantInput(string Sku, string Price, int InventoryQuantity, string InventoryPolicy, JsonObject? Metadata,
    List<OptionAssignment>? OptionAssignments, List<(string OptionName, string Value)>? OptionValues);

/// <summary>A new media asset in a body (<c>mediaAsset</c>).</summary>
public sealed record MediaAssetInput(string Name, string MimeType, string? AltText, string? Description, string? SourceUrl, string? ThumbnailUrl);

/// <summary>A sync source in a body (<c>primarySyncSource</c>).</summary>
public sealed record SyncSourceInput(string SyncSource, string SyncSourceId, DateTimeOffset? LastSyncedAt, JsonObject? SourceData, string? SyncStatus);

/// <summary><c>POST /products</c> body, read.</summary>
public sealed class ProductInput
{
    public string Name = "", Url = "";
    public string? Description, Handle, DefaultVariantId;
    public JsonObject? Metadata;
    public SyncSourceInput? SyncSource;
    public List<(MediaAssetInput Asset, int Position, string Purpose)>? MediaAssets;
    public List<string>? VariantOptionIds;
    public List<VariantInput>? Variants;
}

/// <summary>A variant option value in a body (<c>initialValues[]</c>, <c>values[]</c>).</summary>
public sealed record OptionValueInput(string Value, string DisplayValue, string? ColorHex, int? SortOrder);

/// <summary>
/// The catalogue engine (no HTTP): products, variants, inventory, media assets, variant options and values, and the
/// contract JSON of each. Every mutation runs in one store transaction after its checks, so a refused call changes nothing.
/// Errors: 404 <c>Product not found</c>, <c>Product variant not found</c>, <c>Media asset not found</c>,
/// <c>Variant option not found</c>, <c>Variant option value not found</c>; 409 <c>Product is sold by an open sequence</c>
/// (archiving what an open distribution's sequence or experience sells; the contract declares no 409, see README).
/// </summary>
public sealed class CatalogueService(DocumentStore store, IdGenerator ids, ClockResolver clocks, IServiceProvider services)
{
    public const string ProductNotFound = "Product not found", VariantNotFound = "Product variant not found",
        MediaNotFound = "Media asset not found", OptionNotFound = "Variant option not found", ValueNotFound = "Variant option value not found";

    private DateTimeOffset Now(string orgId) => clocks.For(orgId).GetUtcNow();

    // ------------------------------------------------------------------ lookups

    public Product RequireProduct(string orgId, string id) =>
        store.Get<Product>(id) is { } p && p.OrganizationId == orgId ? p : throw ApiErrors.NotFoundError(ProductNotFound);

    public Product? FindProduct(string orgId, string? id) => store.Get<Product>(id) is { } p && p.OrganizationId == orgId ? p : null;

    public ProductVariant RequireVariant(Product p, string variantId) =>
        store.Get<ProductVariant>(variantId) is { } v && v.ProductId == p.Id && !v.Archived ? v : throw ApiErrors.NotFoundError(VariantNotFound);

    public ProductVariant? FindVariant(string orgId, string? id) => store.Get<ProductVariant>(id) is { } v && v.OrganizationId == orgId ? v : null;

    public List<ProductVariant> Variants(string productId) => store.Where<ProductVariant>(v => v.ProductId == productId && !v.Archived);

    /// <summary>Products of an organization in creation order; <paramref name="archived"/> null = active only.</summary>
    public List<Product> Products(string orgId, bool archived = false) => store.Where<Product>(p => p.OrganizationId == orgId && p.Archived == archived);

    /// <summary>Units a new checkout may take now (<c>int.MaxValue</c> when not limited by stock).</summary>
    public static int Available(ProductVariant v) => v.InventoryPolicy == InventoryPolicies.Deny ? Math.Max(0, v.InventoryQuantity - v.ReservedQuantity) : int.MaxValue;

    // ------------------------------------------------------------------ products

    /// <summary><c>POST /products</c>: creates, or with a <c>primarySyncSource</c> already known updates that product (upsert).</summary>
    public Product CreateProduct(string orgId, ProductInput input, string actor)
    {
        // checks first: referenced options and values exist
        foreach (var id in input.VariantOptionIds ?? []) RequireOption(orgId, id);
        foreach (var v in input.Variants ?? []) CheckAssignments(orgId, v.OptionAssignments);
        return store.Transaction(() =>
        {
            var now = Now(orgId);
            var existing = input.SyncSource is { } s
                ? store.First<Product>(p => p.OrganizationId == orgId && p.PrimarySyncSource is { } ps && ps.SyncSource == s.SyncSource && ps.SyncSourceId == s.SyncSourceId)
                : null;
            var p = existing ?? new Product { Id = ids.NewUuid("product"), OrganizationId = orgId, CreatedAt = now, CreatedBy = actor };
            if (existing is not null) { p.UpdatedAt = now; p.UpdatedBy = actor; p.Archived = false; }
            p.Name = input.Name; p.Url = input.Url; p.Description = input.Description; p.Handle = input.Handle; p.Metadata = input.Metadata?.DeepClone().AsObject();
            if (input.SyncSource is { } src)
            {
                var ss = p.PrimarySyncSource ?? new ProductSyncSource { Id = ids.NewUuid("sync-source"), CreatedAt = now, CreatedBy = actor };
                if (p.PrimarySyncSource is not null) { ss.UpdatedAt = now; ss.UpdatedBy = actor; }
                ss.SyncSource = src.SyncSource; ss.SyncSourceId = src.SyncSourceId; ss.LastSyncedAt = src.LastSyncedAt;
                ss.SourceData = src.SourceData?.DeepClone().AsObject(); ss.SyncStatus = src.SyncStatus ?? "PENDING";
                p.PrimarySyncSource = ss;
                p.PrimarySyncSourceId = ss.Id; p.PrimaryExternalId = src.SyncSourceId; p.PrimarySourceVendor = src.SyncSource; p.PrimaryLastSyncedAt = src.LastSyncedAt;
            }
            store.Put(p);
            foreach (var (asset, position, purpose) in input.MediaAssets ?? [])
                LinkProductAsset(p, CreateAsset(orgId, asset, actor), position, purpose);
            foreach (var optionId in input.VariantOptionIds ?? [])
                AssignOption(p, optionId, null, null);
            var existingBySku = Variants(p.Id).ToDictionary(v => v.Sku, StringComparer.Ordinal);
            foreach (var vi in input.Variants ?? [])
            {
                if (existingBySku.TryGetValue(vi.Sku, out var ev))
                {
                    ev.Price = vi.Price; ev.InventoryQuantity = vi.InventoryQuantity; ev.InventoryPolicy = vi.InventoryPolicy;
                    ev.Metadata = vi.Metadata?.DeepClone().AsObject(); ev.UpdatedAt = now; ev.UpdatedBy = actor;
                    ev.Options = ResolveAssignments(p, vi, actor);
                    store.Put(ev);
                }
                else AddVariant(p, vi, actor);
            }
            if (input.DefaultVariantId is not null) p.DefaultVariantId = input.DefaultVariantId;
            else if (p.DefaultVariantId is null || FindVariant(orgId, p.DefaultVariantId) is not { Archived: false })
                p.DefaultVariantId = Variants(p.Id).FirstOrDefault()?.Id;
            store.Put(p);
            return p;
        });
    }

    /// <summary><c>PUT /products/{id}</c>: only the fields present change.</summary>
    public Product UpdateProduct(Product p, JsonObject body, string actor)
    {
        return store.Transaction(() =>
        {
            if (body.ContainsKey("name")) p.Name = body["name"]!.GetValue<string>();
            if (body.ContainsKey("url")) p.Url = body["url"]!.GetValue<string>();
            if (body.ContainsKey("description")) p.Description = RequestChecks.AsString(body["description"]);
            if (body.ContainsKey("handle")) p.Handle = RequestChecks.AsString(body["handle"]);
            if (body.ContainsKey("metadata")) p.Metadata = body["metadata"]?.DeepClone() as JsonObject;
            p.UpdatedAt = Now(p.OrganizationId); p.UpdatedBy = actor;
            store.Put(p);
            return p;
        });
    }

    /// <summary><c>DELETE /products/{id}</c>: archives (refused while an open distribution sells it).</summary>
    public Product ArchiveProduct(Product p, string actor)
    {
        RefuseIfSold(p.OrganizationId, p.Id, null);
        return store.Transaction(() =>
        {
            p.Archived = true; p.UpdatedAt = Now(p.OrganizationId); p.UpdatedBy = actor;
            store.Put(p);
            return p;
        });
    }

    /// <summary>
    /// 409 when a sequence with an open distribution (timing <c>active</c> on the clock) sells the product (its weighted
    /// products, or — when it has none — its experience's products). The contract is silent; the emulator refuses rather
    /// than strand admitted consumers at checkout.
    /// </summary>
    private void RefuseIfSold(string orgId, string productId, string? variantId)
    {
        var registry = services.GetRequiredService<DistributionRegistry>();
        var now = Now(orgId);
        foreach (var seq in store.Where<Sequence>(s => s.OrganizationId == orgId && !s.Archived))
        {
            if (!registry.ForSequence(orgId, seq.Id).Any(x => !x.Distribution.Archived && x.Distribution.IsOpen(now))) continue;
            var sells = SellableProducts(seq);
            var hit = sells.Any(x => x.ProductId == productId && (variantId is null || x.VariantId is null || x.VariantId == variantId));
            if (hit)
                throw ApiErrors.Conflict("Product is sold by an open sequence",
                    $"Sequence {seq.Id} has an open distribution selling this {(variantId is null ? "product" : "variant")}; close it or remove the product from the sequence first.");
        }
    }

    /// <summary>What a sequence sells: its weighted products, else its experience's products (productId, variantId?).</summary>
    public List<(string ProductId, string? VariantId)> SellableProducts(Sequence seq)
    {
        var weighted = store.Where<SequenceProduct>(sp => sp.SequenceId == seq.Id && !sp.Archived);
        if (weighted.Count > 0) return weighted.Select(sp => (sp.ProductId, (string?)null)).ToList();
        var e = store.Get<Experience>(seq.ExperienceId);
        return (e?.Products ?? []).OfType<JsonObject>()
            .Select(o => (RequestChecks.AsString(o["productId"]) ?? "", RequestChecks.AsString(o["productVariantId"])))
            .Where(x => x.Item1.Length > 0).ToList();
    }

    /// <summary><c>GET /products/search</c>: active products whose name, handle, description or a variant's SKU contains
    /// <paramref name="q"/> (case-insensitive); all active products when <paramref name="q"/> is empty.</summary>
    public List<Product> Search(string orgId, string? q)
    {
        var all = Products(orgId);
        if (string.IsNullOrWhiteSpace(q)) return all;
        bool Has(string? s) => s is not null && s.Contains(q, StringComparison.OrdinalIgnoreCase);
        return all.Where(p => Has(p.Name) || Has(p.Handle) || Has(p.Description) || Variants(p.Id).Any(v => Has(v.Sku))).ToList();
    }

    /// <summary>
    /// <c>GET /products/{id}/metrics</c> from this emulator's own paid orders (status <c>completed</c>,
    /// <c>partially_refunded</c> or <c>refunded</c>): <c>orderCount</c> orders containing the product, <c>unitsSold</c>
    /// units, <c>revenue</c> = the product's line totals minus its share of each order's refunds, <c>lastOrderAt</c> the
    /// newest <c>completedAt</c>.
    /// </summary>
    public ProductMetricsJson Metrics(Product p)
    {
        decimal revenue = 0; int orders = 0, units = 0; DateTimeOffset? last = null;
        foreach (var o in store.Where<Order>(o => o.OrganizationId == p.OrganizationId && o.CompletedAt is not null
                     && o.Status is OrderStatuses.Completed or OrderStatuses.PartiallyRefunded or OrderStatuses.Refunded))
        {
            var lines = o.Items.Where(i => i.ProductId == p.Id).ToList();
            if (lines.Count == 0) continue;
            orders++;
            units += lines.Sum(i => i.Quantity);
            var gross = lines.Sum(i => Money.Parse(i.UnitPrice) * i.Quantity);
            var total = Money.Parse(o.TotalAmount);
            var refunded = Money.Parse(o.RefundedAmount);
            revenue += total > 0 ? gross - Math.Round(refunded * gross / total, 2) : gross;
            if (last is null || o.CompletedAt > last) last = o.CompletedAt;
        }
        return new ProductMetricsJson(Money.Format(revenue), orders, units, Json.Iso(last));
    }

    // ------------------------------------------------------------------ variants

    private void CheckAssignments(string orgId, List<OptionAssignment>? assignments)
    {
        foreach (var a in assignments ?? [])
        {
            RequireOption(orgId, a.OptionId);
            RequireValue(orgId, a.OptionId, a.ValueId);
        }
    }

    private List<OptionAssignment> ResolveAssignments(Product p, VariantInput vi, string actor)
    {
        var result = (vi.OptionAssignments ?? []).Select(a => new OptionAssignment { OptionId = a.OptionId, ValueId = a.ValueId }).ToList();
        foreach (var (optionName, value) in vi.OptionValues ?? [])
        {
            var option = store.First<VariantOption>(o => o.OrganizationId == p.OrganizationId && !o.Archived && string.Equals(o.Name, optionName, StringComparison.OrdinalIgnoreCase))
                ?? CreateOption(p.OrganizationId, optionName, optionName, false, null, [], actor);
            var val = GetOrCreateValue(option, value, value, actor, restrictedCheck: false);
            result.Add(new OptionAssignment { OptionId = option.Id, ValueId = val.Id });
            if (!store.Where<ProductOptionAssignment>(x => x.ProductId == p.Id && x.OptionId == option.Id).Any()) AssignOption(p, option.Id, null, null);
        }
        return result.DistinctBy(a => a.OptionId).ToList();
    }

    /// <summary><c>POST /products/{id}/variants</c> (and variants of <c>POST /products</c>). A SKU already used by an active
    /// variant of the organization is a 400 <c>unique</c> issue, checked by the caller via <see cref="SkuTaken"/>.</summary>
    public ProductVariant AddVariant(Product p, VariantInput vi, string actor)
    {
        CheckAssignments(p.OrganizationId, vi.OptionAssignments);
        return store.Transaction(() =>
        {
            var v = new ProductVariant
            {
                Id = ids.NewUuid("variant"), OrganizationId = p.OrganizationId, ProductId = p.Id, CreatedAt = Now(p.OrganizationId), CreatedBy = actor,
                Sku = vi.Sku, Price = vi.Price, InventoryQuantity = vi.InventoryQuantity, InventoryPolicy = vi.InventoryPolicy,
                Metadata = vi.Metadata?.DeepClone().AsObject(),
            };
            v.Options = ResolveAssignments(p, vi, actor);
            store.Put(v);
            if (p.DefaultVariantId is null) { p.DefaultVariantId = v.Id; store.Put(p); }
            return v;
        });
    }

    public bool SkuTaken(string orgId, string sku, string? exceptVariantId = null) =>
        store.First<ProductVariant>(v => v.OrganizationId == orgId && !v.Archived && v.Sku == sku && v.Id != exceptVariantId) is not null;

    /// <summary><c>PUT /products/{id}/variants/{variantId}</c>: only present fields change.</summary>
    public ProductVariant UpdateVariant(ProductVariant v, string? sku, string? price, int? quantity, string? policy, JsonObject body, string actor)
    {
        return store.Transaction(() =>
        {
            if (sku is not null) v.Sku = sku;
            if (price is not null) v.Price = price;
            if (quantity is not null) v.InventoryQuantity = quantity.Value;
            if (policy is not null) v.InventoryPolicy = policy;
            if (body.ContainsKey("metadata")) v.Metadata = body["metadata"]?.DeepClone() as JsonObject;
            v.UpdatedAt = Now(v.OrganizationId); v.UpdatedBy = actor;
            store.Put(v);
            return v;
        });
    }

    /// <summary><c>PATCH …/inventory</c>: sets <c>inventoryQuantity</c> (and <c>inventoryPolicy</c> when given).</summary>
    public ProductVariant SetInventory(ProductVariant v, int quantity, string? policy, string actor) =>
        UpdateVariant(v, null, null, quantity, policy, [], actor);

    /// <summary><c>DELETE …/variants/{variantId}</c>: archives (refused while an open distribution sells it).</summary>
    public ProductVariant ArchiveVariant(Product p, ProductVariant v, string actor)
    {
        RefuseIfSold(p.OrganizationId, p.Id, v.Id);
        return store.Transaction(() =>
        {
            v.Archived = true; v.UpdatedAt = Now(v.OrganizationId); v.UpdatedBy = actor;
            store.Put(v);
            if (p.DefaultVariantId == v.Id) { p.DefaultVariantId = Variants(p.Id).FirstOrDefault()?.Id; store.Put(p); }
            return v;
        });
    }

    /// <summary><c>PUT …/option-assignments</c>: replaces the variant's option/value pairs.</summary>
    public ProductVariant ReplaceAssignments(Product p, ProductVariant v, List<OptionAssignment> assignments, string actor)
    {
        CheckAssignments(p.OrganizationId, assignments);
        return store.Transaction(() =>
        {
            v.Options = assignments.DistinctBy(a => a.OptionId).ToList();
            foreach (var a in v.Options)
                if (!store.Where<ProductOptionAssignment>(x => x.ProductId == p.Id && x.OptionId == a.OptionId).Any()) AssignOption(p, a.OptionId, null, null);
            v.UpdatedAt = Now(v.OrganizationId); v.UpdatedBy = actor;
            store.Put(v);
            return v;
        });
    }

    // ------------------------------------------------------------------ media

    public MediaAsset CreateAsset(string orgId, MediaAssetInput a, string actor)
    {
        var m = new MediaAsset
        {
            Id = ids.NewUuid("media-asset"), OrganizationId = orgId, CreatedAt = Now(orgId), CreatedBy = actor, Name = a.Name, MimeType = a.MimeType,
            AltText = a.AltText, Description = a.Description, SourceUrl = a.SourceUrl, ThumbnailUrl = a.ThumbnailUrl, PublicUrl = a.SourceUrl,
        };
        store.Put(m);
        return m;
    }

    public MediaAsset RequireAsset(string orgId, string id) =>
        store.Get<MediaAsset>(id) is { } m && m.OrganizationId == orgId ? m : throw ApiErrors.NotFoundError(MediaNotFound);

    public List<ProductMediaAssetLink> ProductAssets(string productId) =>
        store.Where<ProductMediaAssetLink>(l => l.ProductId == productId).OrderBy(l => l.Position).ToList();

    private ProductMediaAssetLink LinkProductAsset(Product p, MediaAsset m, int position, string purpose)
    {
        var link = store.First<ProductMediaAssetLink>(l => l.ProductId == p.Id && l.MediaAssetId == m.Id)
            ?? new ProductMediaAssetLink { Id = ids.NewUuid("product-media"), OrganizationId = p.OrganizationId, ProductId = p.Id, MediaAssetId = m.Id };
        link.Position = position; link.Purpose = purpose;
        store.Put(link);
        return link;
    }

    /// <summary><c>POST /products/{id}/media-assets</c>: a new asset (or an existing one by id) linked to the product.</summary>
    public MediaAsset AddProductAsset(Product p, MediaAssetInput? asset, string? mediaAssetId, int position, string purpose, string actor)
    {
        var existing = mediaAssetId is not null ? RequireAsset(p.OrganizationId, mediaAssetId) : null;
        return store.Transaction(() =>
        {
            var m = existing ?? CreateAsset(p.OrganizationId, asset!, actor);
            LinkProductAsset(p, m, position, purpose);
            return m;
        });
    }

    /// <summary>A product's link by link id or media asset id.</summary>
    public ProductMediaAssetLink RequireProductLink(Product p, string assetId) =>
        store.First<ProductMediaAssetLink>(l => l.ProductId == p.Id && (l.Id == assetId || l.MediaAssetId == assetId))
        ?? throw ApiErrors.NotFoundError(MediaNotFound);

    public ProductMediaAssetLink UpdateProductLink(ProductMediaAssetLink link, int? position, string? purpose) =>
        store.Transaction(() =>
        {
            if (position is not null) link.Position = position.Value;
            if (purpose is not null) link.Purpose = purpose;
            store.Put(link);
            return link;
        });

    /// <summary>Removes the link (and the variants' links to that asset); the media asset itself stays.</summary>
    public void RemoveProductLink(Product p, ProductMediaAssetLink link) =>
        store.Transaction(() =>
        {
            store.Delete<ProductMediaAssetLink>(link.Id);
            var variantIds = store.Where<ProductVariant>(v => v.ProductId == p.Id).Select(v => v.Id).ToHashSet();
            foreach (var vl in store.Where<VariantMediaAssetLink>(vl => variantIds.Contains(vl.VariantId) && vl.MediaAssetId == link.MediaAssetId))
                store.Delete<VariantMediaAssetLink>(vl.Id);
        });

    /// <summary><c>PUT /products/{id}/media-assets/reorder</c>: positions 0..n-1 in the given order (ids: media asset or link
    /// ids); assets not named keep their relative order after them. Unknown ids: 404.</summary>
    public void ReorderProductAssets(Product p, List<string> order)
    {
        var links = order.Select(id => RequireProductLink(p, id)).DistinctBy(l => l.Id).ToList();
        store.Transaction(() =>
        {
            var rest = ProductAssets(p.Id).Where(l => links.All(x => x.Id != l.Id));
            int i = 0;
            foreach (var l in links.Concat(rest)) { l.Position = i++; store.Put(l); }
        });
    }

    public List<VariantMediaAssetLink> VariantAssets(string variantId) =>
        store.Where<VariantMediaAssetLink>(l => l.VariantId == variantId).OrderBy(l => l.Position).ToList();

    private ProductMediaAssetLink RequireProductAssetForVariant(Product p, string mediaAssetId) =>
        store.First<ProductMediaAssetLink>(l => l.ProductId == p.Id && l.MediaAssetId == mediaAssetId) ?? throw ApiErrors.NotFoundError(MediaNotFound);

    /// <summary><c>POST …/variants/{variantId}/media-assets</c>: the asset must be one of the product's.</summary>
    public VariantMediaAssetLink AddVariantAsset(Product p, ProductVariant v, string mediaAssetId, int position)
    {
        RequireProductAssetForVariant(p, mediaAssetId);
        return store.Transaction(() =>
        {
            var link = store.First<VariantMediaAssetLink>(l => l.VariantId == v.Id && l.MediaAssetId == mediaAssetId)
                ?? new VariantMediaAssetLink { Id = ids.NewUuid("variant-media"), OrganizationId = v.OrganizationId, VariantId = v.Id, MediaAssetId = mediaAssetId };
            link.Position = position;
            store.Put(link);
            return link;
        });
    }

    /// <summary><c>PUT …/variants/{variantId}/media-assets</c>: replaces the set (positions in the given order).</summary>
    public List<VariantMediaAssetLink> ReplaceVariantAssets(Product p, ProductVariant v, List<string> mediaAssetIds)
    {
        foreach (var id in mediaAssetIds) RequireProductAssetForVariant(p, id);
        return store.Transaction(() =>
        {
            foreach (var l in VariantAssets(v.Id)) store.Delete<VariantMediaAssetLink>(l.Id);
            int i = 0;
            foreach (var id in mediaAssetIds.Distinct())
                store.Put(new VariantMediaAssetLink { Id = ids.NewUuid("variant-media"), OrganizationId = v.OrganizationId, VariantId = v.Id, MediaAssetId = id, Position = i++ });
            return VariantAssets(v.Id);
        });
    }

    public VariantMediaAssetLink RequireVariantLink(ProductVariant v, string mediaAssetId) =>
        store.First<VariantMediaAssetLink>(l => l.VariantId == v.Id && (l.MediaAssetId == mediaAssetId || l.Id == mediaAssetId)) ?? throw ApiErrors.NotFoundError(MediaNotFound);

    public void RemoveVariantLink(VariantMediaAssetLink link) => store.Transaction(() => store.Delete<VariantMediaAssetLink>(link.Id));

    public void ReorderVariantAssets(ProductVariant v, List<string> order)
    {
        var links = order.Select(id => RequireVariantLink(v, id)).DistinctBy(l => l.Id).ToList();
        store.Transaction(() =>
        {
            var rest = VariantAssets(v.Id).Where(l => links.All(x => x.Id != l.Id));
            int i = 0;
            foreach (var l in links.Concat(rest)) { l.Position = i++; store.Put(l); }
        });
    }

    // ------------------------------------------------------------------ variant options

    public List<VariantOption> Options(string orgId) =>
        store.Where<VariantOption>(o => o.OrganizationId == orgId && !o.Archived).OrderBy(o => o.SortOrder ?? int.MaxValue).ToList();

    public VariantOption RequireOption(string orgId, string id) =>
        store.Get<VariantOption>(id) is { Archived: false } o && o.OrganizationId == orgId ? o : throw ApiErrors.NotFoundError(OptionNotFound);

    public VariantOptionValue RequireValue(string orgId, string optionId, string valueId) =>
        store.Get<VariantOptionValue>(valueId) is { Archived: false } v && v.OrganizationId == orgId && v.OptionId == optionId ? v : throw ApiErrors.NotFoundError(ValueNotFound);

    /// <summary>Active values of an option by sort order; <paramref name="centralOnly"/>: only centrally managed ones.</summary>
    public List<VariantOptionValue> Values(string optionId, bool centralOnly = false) =>
        store.Where<VariantOptionValue>(v => v.OptionId == optionId && !v.Archived && (!centralOnly || v.IsCentrallyManaged))
            .OrderBy(v => v.SortOrder ?? int.MaxValue).ToList();

    public bool OptionNameTaken(string orgId, string name, string? exceptId = null) =>
        store.First<VariantOption>(o => o.OrganizationId == orgId && !o.Archived && o.Id != exceptId && string.Equals(o.Name, name, StringComparison.OrdinalIgnoreCase)) is not null;

    public VariantOption CreateOption(string orgId, string name, string displayName, bool isRestricted, int? sortOrder, List<OptionValueInput> values, string actor) =>
        store.Transaction(() =>
        {
            var o = new VariantOption
            {
                Id = ids.NewUuid("variant-option"), OrganizationId = orgId, CreatedAt = Now(orgId), CreatedBy = actor, Name = name,
                DisplayName = displayName, IsRestricted = isRestricted, SortOrder = sortOrder ?? store.Count<VariantOption>(),
            };
            store.Put(o);
            AddValues(o, values, actor);
            return o;
        });

    public VariantOption UpdateOption(VariantOption o, string? name, string? displayName, bool? isRestricted, int? sortOrder, string actor) =>
        store.Transaction(() =>
        {
            if (name is not null) o.Name = name;
            if (displayName is not null) o.DisplayName = displayName;
            if (isRestricted is not null) o.IsRestricted = isRestricted.Value;
            if (sortOrder is not null) o.SortOrder = sortOrder;
            o.UpdatedAt = Now(o.OrganizationId); o.UpdatedBy = actor;
            store.Put(o);
            return o;
        });

    public void ArchiveOption(VariantOption o, string actor) =>
        store.Transaction(() => { o.Archived = true; o.UpdatedAt = Now(o.OrganizationId); o.UpdatedBy = actor; store.Put(o); });

    /// <summary>Centrally managed values; a value already present (case-insensitive) is kept, not duplicated.</summary>
    public List<VariantOptionValue> AddValues(VariantOption o, List<OptionValueInput> values, string actor) =>
        store.Transaction(() =>
        {
            var result = new List<VariantOptionValue>();
            var next = Values(o.Id).Count;
            foreach (var vi in values)
            {
                var existing = Values(o.Id).FirstOrDefault(x => string.Equals(x.Value, vi.Value, StringComparison.OrdinalIgnoreCase));
                if (existing is not null) { result.Add(existing); continue; }
                var v = new VariantOptionValue
                {
                    Id = ids.NewUuid("variant-option-value"), OrganizationId = o.OrganizationId, CreatedAt = Now(o.OrganizationId), CreatedBy = actor,
                    OptionId = o.Id, Value = vi.Value, DisplayValue = vi.DisplayValue, ColorHex = vi.ColorHex, IsCentrallyManaged = true,
                    SortOrder = vi.SortOrder ?? next++,
                };
                store.Put(v);
                result.Add(v);
            }
            return result;
        });

    /// <summary><c>POST /variant-options/{id}/get-or-create-value</c>: the existing value (case-insensitive) or a new,
    /// not centrally managed one. A restricted option only offers its existing values: 409 <c>Variant option is restricted</c>.</summary>
    public VariantOptionValue GetOrCreateValue(VariantOption o, string value, string displayValue, string actor, bool restrictedCheck = true)
    {
        var existing = Values(o.Id).FirstOrDefault(x => string.Equals(x.Value, value, StringComparison.OrdinalIgnoreCase));
        if (existing is not null) return existing;
        if (restrictedCheck && o.IsRestricted)
            throw ApiErrors.Conflict("Variant option is restricted", "A restricted option only accepts its centrally managed values.");
        return store.Transaction(() =>
        {
            var v = new VariantOptionValue
            {
                Id = ids.NewUuid("variant-option-value"), OrganizationId = o.OrganizationId, CreatedAt = Now(o.OrganizationId), CreatedBy = actor,
                OptionId = o.Id, Value = value, DisplayValue = displayValue, IsCentrallyManaged = false, SortOrder = Values(o.Id).Count,
            };
            store.Put(v);
            return v;
        });
    }

    public VariantOptionValue UpdateValue(VariantOptionValue v, JsonObject body, string? displayValue, string actor) =>
        store.Transaction(() =>
        {
            if (displayValue is not null) v.DisplayValue = displayValue;
            if (body.ContainsKey("colorHex")) v.ColorHex = RequestChecks.AsString(body["colorHex"]);
            if (body.ContainsKey("sortOrder")) v.SortOrder = RequestChecks.AsNumber(body["sortOrder"]) is double d ? (int)d : null;
            v.UpdatedAt = Now(v.OrganizationId); v.UpdatedBy = actor;
            store.Put(v);
            return v;
        });

    public void ArchiveValue(VariantOptionValue v, string actor) =>
        store.Transaction(() => { v.Archived = true; v.UpdatedAt = Now(v.OrganizationId); v.UpdatedBy = actor; store.Put(v); });

    /// <summary>Sort orders 0..n-1 in the given order; unknown ids 404; the others follow.</summary>
    public void ReorderValues(VariantOption o, List<string> order)
    {
        var named = order.Select(id => RequireValue(o.OrganizationId, o.Id, id)).DistinctBy(v => v.Id).ToList();
        store.Transaction(() =>
        {
            int i = 0;
            foreach (var v in named.Concat(Values(o.Id).Where(v => named.All(n => n.Id != v.Id)))) { v.SortOrder = i++; store.Put(v); }
        });
    }

    public void ReorderOptions(string orgId, List<string> order)
    {
        var named = order.Select(id => RequireOption(orgId, id)).DistinctBy(o => o.Id).ToList();
        store.Transaction(() =>
        {
            int i = 0;
            foreach (var o in named.Concat(Options(orgId).Where(o => named.All(n => n.Id != o.Id)))) { o.SortOrder = i++; store.Put(o); }
        });
    }

    /// <summary><c>POST /variant-options/apply-templates</c>: each template's option (found by name, else created) with its
    /// initial values added when missing.</summary>
    public List<VariantOption> ApplyTemplates(string orgId, List<(string Name, string DisplayName, bool? IsRestricted, List<OptionValueInput> Values)> templates, string actor) =>
        store.Transaction(() =>
        {
            var result = new List<VariantOption>();
            foreach (var t in templates)
            {
                var o = store.First<VariantOption>(x => x.OrganizationId == orgId && !x.Archived && string.Equals(x.Name, t.Name, StringComparison.OrdinalIgnoreCase));
                if (o is null) o = CreateOption(orgId, t.Name, t.DisplayName, t.IsRestricted ?? false, null, t.Values, actor);
                else AddValues(o, t.Values, actor);
                result.Add(o);
            }
            return result;
        });

    // ------------------------------------------------------------------ product option assignments

    public List<ProductOptionAssignment> Assignments(string productId) =>
        store.Where<ProductOptionAssignment>(a => a.ProductId == productId && store.Get<VariantOption>(a.OptionId) is { Archived: false })
            .OrderBy(a => a.SortOrder ?? int.MaxValue).ToList();

    public ProductOptionAssignment AssignOption(Product p, string optionId, bool? required, int? sortOrder)
    {
        var a = store.Get<ProductOptionAssignment>(p.Id + ":" + optionId)
            ?? new ProductOptionAssignment { Id = p.Id + ":" + optionId, OrganizationId = p.OrganizationId, ProductId = p.Id, OptionId = optionId, SortOrder = Assignments(p.Id).Count };
        if (required is not null) a.Required = required.Value;
        if (sortOrder is not null) a.SortOrder = sortOrder;
        store.Put(a);
        return a;
    }

    public List<ProductOptionAssignment> AssignOptions(Product p, List<(string OptionId, bool? Required, int? SortOrder)> options)
    {
        foreach (var o in options) RequireOption(p.OrganizationId, o.OptionId);
        return store.Transaction(() =>
        {
            foreach (var o in options) AssignOption(p, o.OptionId, o.Required, o.SortOrder);
            return Assignments(p.Id);
        });
    }

    public bool UnassignOption(Product p, string optionId) =>
        store.Transaction(() => store.Delete<ProductOptionAssignment>(p.Id + ":" + optionId));

    // ------------------------------------------------------------------ contract JSON

    /// <summary>An experience's <c>products</c> (admin-part3.md <c>ExperienceProduct</c>) with <c>product</c> (the full
    /// <c>Product</c>) and <c>productVariant</c> (<c>ProductVariant</c>, no options) filled from the catalogue at read time;
    /// null where the id names nothing in the catalogue.</summary>
    public JsonArray? ResolveExperienceProducts(JsonArray? products)
    {
        if (products is null) return null;
        var result = new JsonArray();
        foreach (var node in products)
        {
            if (node is not JsonObject o) { result.Add(node?.DeepClone()); continue; }
            var x = (JsonObject)o.DeepClone();
            var p = store.Get<Product>(RequestChecks.AsString(o["productId"]));
            var v = store.Get<ProductVariant>(RequestChecks.AsString(o["productVariantId"]));
            x["product"] = p is null ? null : System.Text.Json.JsonSerializer.SerializeToNode(ToJson(p), CommerceJson.Default.ProductJson);
            x["productVariant"] = v is null || p is null || v.ProductId != p.Id ? null : System.Text.Json.JsonSerializer.SerializeToNode(ToJson(v), CommerceJson.Default.ProductVariantJson);
            result.Add(x);
        }
        return result;
    }

    private static string? Iso(DateTimeOffset? t) => Json.Iso(t);

    public MediaAssetJson ToJson(MediaAsset m) => new(m.Id, m.OrganizationId, Json.Iso(m.CreatedAt), m.CreatedBy, m.Archived, Iso(m.UpdatedAt), m.UpdatedBy,
        m.Name, m.MimeType, m.AltText, m.Description, m.PublicUrl, m.SourceUrl, m.ThumbnailUrl, m.UploadUrl);

    public ProductMediaAssetJson ToJson(ProductMediaAssetLink l) => new(l.Id, l.OrganizationId, l.Position, l.Purpose, l.ProductId, l.MediaAssetId,
        ToJson(store.Get<MediaAsset>(l.MediaAssetId)!));

    public static ProductMediaAssetRowJson Row(ProductMediaAssetLink l) => new(l.Id, l.MediaAssetId, l.OrganizationId, l.Position, l.ProductId, l.Purpose);

    public VariantMediaAssetJson ToJson(VariantMediaAssetLink l) => new(l.Id, l.OrganizationId, l.Position, l.VariantId, l.MediaAssetId,
        ToJson(store.Get<MediaAsset>(l.MediaAssetId)!));

    private Product? ProductOf(ProductVariant v) => store.Get<Product>(v.ProductId);

    public ProductVariantJson ToJson(ProductVariant v)
    {
        var p = ProductOf(v);
        return new(v.Id, v.OrganizationId, Json.Iso(v.CreatedAt), v.CreatedBy, v.Archived, Iso(v.UpdatedAt), v.UpdatedBy, v.ProductId, v.Sku, v.Price,
            v.InventoryQuantity, v.InventoryPolicy, v.Metadata, p?.PrimaryExternalId is null ? null : v.Sku, Iso(p?.PrimaryLastSyncedAt), p?.PrimarySourceVendor, p?.PrimarySyncSourceId);
    }

    public ProductVariantWithOptionsJson WithOptions(ProductVariant v)
    {
        var b = ToJson(v);
        var options = new List<VariantOptionRefJson>();
        foreach (var a in v.Options)
            if (store.Get<VariantOption>(a.OptionId) is { } o && store.Get<VariantOptionValue>(a.ValueId) is { } val)
                options.Add(new VariantOptionRefJson(o.Id, o.Name, val.Id, val.Value));
        return new(b.Id, b.OrganizationId, b.CreatedAt, b.CreatedBy, b.Archived, b.UpdatedAt, b.UpdatedBy, b.ProductId, b.Sku, b.Price, b.InventoryQuantity,
            b.InventoryPolicy, b.Metadata, b.PrimaryExternalId, b.PrimaryLastSyncedAt, b.PrimarySourceVendor, b.PrimarySyncSourceId, options);
    }

    public ProductJson ToJson(Product p)
    {
        var ss = p.PrimarySyncSource is { } s
            ? new SyncSourceJson(s.Id, p.OrganizationId, Json.Iso(s.CreatedAt), s.CreatedBy, false, Iso(s.UpdatedAt), s.UpdatedBy, s.SyncSource, s.SyncSourceId,
                Iso(s.LastSyncedAt), s.SourceData, s.SyncStatus)
            : null;
        return new(p.Id, p.OrganizationId, Json.Iso(p.CreatedAt), p.CreatedBy, p.Archived, Iso(p.UpdatedAt), p.UpdatedBy, p.Name, p.Url, p.DefaultVariantId,
            p.Description, p.Handle, p.Metadata, p.PrimaryExternalId, Iso(p.PrimaryLastSyncedAt), p.PrimarySourceVendor, p.PrimarySyncSourceId, ss,
            ProductAssets(p.Id).Select(ToJson).ToList(), Variants(p.Id).Select(WithOptions).ToList());
    }

    public static ProductBaseJson Base(Product p) => new(p.Id, p.OrganizationId, Json.Iso(p.CreatedAt), p.CreatedBy, p.Archived, Iso(p.UpdatedAt), p.UpdatedBy,
        p.Name, p.Url, p.Description, p.Handle, p.Metadata, p.PrimaryExternalId, Iso(p.PrimaryLastSyncedAt), p.PrimarySourceVendor, p.PrimarySyncSourceId);

    public static VariantOptionJson ToJson(VariantOption o) => new(o.Id, o.OrganizationId, Json.Iso(o.CreatedAt), o.CreatedBy, o.Archived, Iso(o.UpdatedAt),
        o.UpdatedBy, o.Name, o.DisplayName, o.IsRestricted, o.SortOrder);

    public static VariantOptionValueJson ToJson(VariantOptionValue v) => new(v.Id, v.OrganizationId, Json.Iso(v.CreatedAt), v.CreatedBy, v.Archived,
        Iso(v.UpdatedAt), v.UpdatedBy, v.OptionId, v.Value, v.DisplayValue, v.ColorHex, v.IsCentrallyManaged, v.SortOrder);

    public VariantOptionWithValuesJson WithValues(VariantOption o) => new(o.Id, o.OrganizationId, Json.Iso(o.CreatedAt), o.CreatedBy, o.Archived,
        Iso(o.UpdatedAt), o.UpdatedBy, o.Name, o.DisplayName, o.IsRestricted, o.SortOrder, Values(o.Id).Select(ToJson).ToList());

    public VariantOptionListJson OptionList(string orgId)
    {
        var list = Options(orgId).Select(WithValues).ToList();
        return new(list, list.Count);
    }

    public ProductOptionAssignmentsJson AssignmentsJson(Product p) => new(Assignments(p.Id).Select(a =>
    {
        var o = store.Get<VariantOption>(a.OptionId)!;
        return new ProductOptionAssignmentJson(a.OrganizationId, a.ProductId, a.OptionId, a.Required, a.SortOrder, ToJson(o), Values(o.Id).Select(ToJson).ToList());
    }).ToList());
}

/// <summary>Money as the contract writes it: a decimal string (<c>"149.99"</c>), two decimals on output.</summary>
public static class Money
{
    public static decimal Parse(string? s) => decimal.TryParse(s, NumberStyles.Number, CultureInfo.InvariantCulture, out var d) ? d : 0m;
    public static bool TryParse(string? s, out decimal d) => decimal.TryParse(s, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out d);
    public static string Format(decimal d) => d.ToString("0.00######", CultureInfo.InvariantCulture);
}
