using System.Text.Json.Nodes;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Distributions;
using Fanfare.Emulator.Distributions.Waitlists;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Ids;
using Fanfare.Emulator.Infrastructure.Store;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.Distributions.Sequences;

/// <summary>The sequence fields of a create/update body (admin-part4.md <c>POST/PUT /sequences</c>, the nested
/// <c>sequence</c> of <c>POST /experiences</c>). <c>Has*</c> says whether the key was present (PUT semantics).</summary>
public sealed class SequenceFields
{
    public string? Name;
    public bool HasAccessCode, HasAudienceId, HasColor, HasExperienceId, HasPriority, HasProductSelectionMode;
    public string? AccessCode, AudienceId, Color, ExperienceId, ProductSelectionMode;
    public double? Priority;

    public static readonly string[] SelectionModes = ["USER_SELECTED", "SYSTEM_ASSIGNED"];

    /// <summary>Reads the fields; <paramref name="create"/> makes <c>name</c> required and <c>color</c>/<c>priority</c> nullable.</summary>
    public static SequenceFields Read(BodyReader body, bool create, bool withExperienceId)
    {
        var f = new SequenceFields
        {
            Name = body.String("name", required: create, minLength: 1),
            AccessCode = body.String("accessCode", nullable: true),
            AudienceId = body.Uuid("audienceId", nullable: true),
            Color = body.String("color", nullable: create, minLength: 1),
            Priority = body.Number("priority", nullable: create),
            ProductSelectionMode = body.Enum("productSelectionMode", SelectionModes, nullable: true),
            HasAccessCode = body.Has("accessCode"), HasAudienceId = body.Has("audienceId"), HasColor = body.Has("color"),
            HasPriority = body.Has("priority"), HasProductSelectionMode = body.Has("productSelectionMode"),
        };
        if (withExperienceId)
        {
            f.ExperienceId = body.Uuid("experienceId", nullable: true);
            f.HasExperienceId = body.Has("experienceId");
        }
        return f;
    }
}

/// <summary>
/// Sequences (behavior.md §3.1: access paths inside an experience, evaluated by descending <c>priority</c>) with their
/// weighted products, order limits and waitlist. Deleting archives the sequence, its distributions (their schedules are
/// cancelled) and its waitlist. No HTTP here.
/// </summary>
public sealed class SequenceService(DocumentStore store, IdGenerator ids, ClockResolver clocks, DistributionRegistry registry,
    DistributionLifecycle lifecycle, WaitlistEngine waitlists, Commerce.Catalogue.CatalogueService catalogue)
{
    public const string NotFound = "Sequence not found";

    /// <summary>Default colours, by the sequence's rank in its experience.</summary>
    public static readonly string[] Palette = ["#6366F1", "#F59E0B", "#10B981", "#EF4444", "#3B82F6", "#8B5CF6", "#EC4899", "#14B8A6"];

    /// <summary>The nested distribution keys every sequence shape carries, even when no engine of that type is loaded.</summary>
    public static readonly string[] NestedKeys = ["queues", "draws", "auctions", "appointments", "timedReleases"];

    private DateTimeOffset Now(string orgId) => clocks.For(orgId).GetUtcNow();

    public Sequence? Find(string organizationId, string? id) =>
        store.Get<Sequence>(id) is { } s && s.OrganizationId == organizationId && !s.Archived ? s : null;

    public Sequence Require(string organizationId, string? id) => Find(organizationId, id) ?? throw ApiErrors.NotFoundError(NotFound);

    public List<Sequence> List(string organizationId, string? experienceId = null) =>
        store.Where<Sequence>(s => s.OrganizationId == organizationId && !s.Archived && (experienceId is null || s.ExperienceId == experienceId));

    /// <summary>The experience's live sequences, highest priority first (routing order; ties by creation).</summary>
    public List<Sequence> ByPriority(string organizationId, string experienceId) =>
        List(organizationId, experienceId).Select((s, i) => (s, i)).OrderByDescending(x => x.s.Priority).ThenBy(x => x.i).Select(x => x.s).ToList();

    /// <summary>Live distributions of a sequence, every registered type.</summary>
    public List<(IDistributionEngine Engine, DistributionBase Distribution)> Distributions(string organizationId, string sequenceId) =>
        registry.ForSequence(organizationId, sequenceId).Where(x => !x.Distribution.Archived).ToList();

    public Sequence Create(Organization org, SequenceFields f, string? experienceId, string actor, string? id = null)
    {
        return store.Transaction(() =>
        {
            var rank = experienceId is null ? 0 : List(org.Id, experienceId).Count;
            var s = new Sequence
            {
                Id = id ?? ids.NewUuid("sequence"), OrganizationId = org.Id, ExperienceId = experienceId ?? "", Name = f.Name ?? "",
                Priority = f.Priority ?? 0, AudienceId = f.AudienceId, AccessCode = f.AccessCode,
                ProductSelectionMode = f.ProductSelectionMode, Color = f.Color ?? Palette[rank % Palette.Length],
                CreatedAt = Now(org.Id), CreatedBy = actor,
            };
            store.Put(s);
            return s;
        });
    }

    /// <summary>PUT: applies the present fields; moving it to another experience moves its distributions along.</summary>
    public Sequence Update(Sequence s, SequenceFields f, string actor)
    {
        return store.Transaction(() =>
        {
            if (f.Name is not null) s.Name = f.Name;
            if (f.HasAccessCode) s.AccessCode = f.AccessCode;
            if (f.HasAudienceId) s.AudienceId = f.AudienceId;
            if (f.HasColor && f.Color is not null) s.Color = f.Color;
            if (f.HasPriority && f.Priority is not null) s.Priority = f.Priority.Value;
            if (f.HasProductSelectionMode) s.ProductSelectionMode = f.ProductSelectionMode;
            if (f.HasExperienceId && (f.ExperienceId ?? "") != s.ExperienceId)
            {
                s.ExperienceId = f.ExperienceId ?? "";
                foreach (var (_, d) in registry.ForSequence(s.OrganizationId, s.Id))
                {
                    d.ExperienceId = s.ExperienceId;
                    store.Put(d);
                }
            }
            s.UpdatedAt = Now(s.OrganizationId);
            s.UpdatedBy = actor;
            store.Put(s);
            return s;
        });
    }

    /// <summary>DELETE: archives the sequence, its distributions (schedules cancelled) and its waitlist.</summary>
    public Sequence Archive(Sequence s, string actor)
    {
        return store.Transaction(() =>
        {
            var now = Now(s.OrganizationId);
            foreach (var (_, d) in registry.ForSequence(s.OrganizationId, s.Id))
            {
                if (d.Archived) continue;
                d.Archived = true;
                d.UpdatedAt = now;
                d.UpdatedBy = actor;
                store.Put(d);
                lifecycle.Untrack(d);
            }
            if (waitlists.ForSequence(s.OrganizationId, s.Id) is { } w) waitlists.Archive(w, actor);
            s.Archived = true;
            s.UpdatedAt = now;
            s.UpdatedBy = actor;
            store.Put(s);
            return s;
        });
    }

    /// <summary>admin-part4.md <c>Sequence</c> (<paramref name="relations"/> false) or <c>SequenceWithRelations</c>.</summary>
    public JsonObject ToJson(Sequence s, bool relations)
    {
        var o = new JsonObject
        {
            ["id"] = s.Id, ["organizationId"] = s.OrganizationId, ["createdAt"] = Json.Iso(s.CreatedAt), ["createdBy"] = s.CreatedBy,
            ["archived"] = s.Archived, ["updatedAt"] = Json.Iso(s.UpdatedAt), ["updatedBy"] = s.UpdatedBy,
            ["name"] = s.Name, ["priority"] = s.Priority, ["color"] = s.Color ?? Palette[0],
            ["accessCode"] = s.AccessCode, ["audienceId"] = s.AudienceId,
            ["experienceId"] = s.ExperienceId.Length == 0 ? null : s.ExperienceId, ["productSelectionMode"] = s.ProductSelectionMode,
        };
        if (!relations) return o;
        o["announcements"] = new JsonArray();
        foreach (var key in NestedKeys) o[key] = new JsonArray();
        foreach (var (engine, d) in Distributions(s.OrganizationId, s.Id))
        {
            if (o[engine.NestedKey] is not JsonArray arr) o[engine.NestedKey] = arr = [];
            arr.Add(engine.ToJson(d));
        }
        o["waitlist"] = waitlists.ForSequence(s.OrganizationId, s.Id)?.ToJson();
        return o;
    }

    // ---------------------------------------------------------------- products

    public List<SequenceProduct> Products(Sequence s) => store.Where<SequenceProduct>(p => p.SequenceId == s.Id && !p.Archived);

    private void RequireCatalogueProduct(Sequence s, string productId)
    {
        if (catalogue.FindProduct(s.OrganizationId, productId) is not { Archived: false })
            throw ApiErrors.NotFoundError(Commerce.Catalogue.CatalogueService.ProductNotFound);
    }

    public SequenceProduct RequireProduct(Sequence s, string productId) =>
        Products(s).FirstOrDefault(p => p.ProductId == productId) ?? throw ApiErrors.NotFoundError("Sequence product not found");

    /// <summary>Adds a weighted product; the same product twice is a 400 <c>unique</c> issue on <c>productId</c>; a product
    /// that is not an active product of the organization's catalogue is a 404 <c>Product not found</c>.</summary>
    public SequenceProduct AddProduct(Sequence s, string productId, int weight, string actor)
    {
        RequireCatalogueProduct(s, productId);
        return store.Transaction(() =>
        {
            if (Products(s).Any(p => p.ProductId == productId))
                throw Validation.Single("productId", "unique", "unique", "\"" + productId + "\"", "validation.unique");
            var p = new SequenceProduct
            {
                Id = ids.NewUuid("sequence-product"), OrganizationId = s.OrganizationId, SequenceId = s.Id, ProductId = productId,
                Weight = weight, CreatedAt = Now(s.OrganizationId), CreatedBy = actor,
            };
            store.Put(p);
            return p;
        });
    }

    /// <summary>Bulk upsert: the list becomes exactly <paramref name="items"/> (kept products keep their ids).</summary>
    public List<SequenceProduct> ReplaceProducts(Sequence s, IReadOnlyList<(string ProductId, int Weight)> items, string actor)
    {
        foreach (var (productId, _) in items) RequireCatalogueProduct(s, productId); // all checked before anything changes
        return store.Transaction(() =>
        {
            var existing = Products(s).ToDictionary(p => p.ProductId);
            foreach (var p in existing.Values.Where(p => items.All(i => i.ProductId != p.ProductId)))
                store.Delete<SequenceProduct>(p.Id);
            var result = new List<SequenceProduct>();
            foreach (var (productId, weight) in items.DistinctBy(i => i.ProductId))
            {
                if (existing.TryGetValue(productId, out var p)) result.Add(UpdateProduct(p, weight, actor));
                else result.Add(AddProduct(s, productId, weight, actor));
            }
            return result;
        });
    }

    public SequenceProduct UpdateProduct(SequenceProduct p, int? weight, string actor)
    {
        return store.Transaction(() =>
        {
            if (weight is int w) p.Weight = w;
            p.UpdatedAt = Now(p.OrganizationId);
            p.UpdatedBy = actor;
            store.Put(p);
            return p;
        });
    }

    public SequenceProduct DeleteProduct(SequenceProduct p)
    {
        store.Delete<SequenceProduct>(p.Id);
        return p;
    }

    // ---------------------------------------------------------------- order limits

    public List<SequenceOrderLimit> OrderLimits(Sequence s) => store.Where<SequenceOrderLimit>(l => l.SequenceId == s.Id && !l.Archived);

    public SequenceOrderLimit RequireOrderLimit(Sequence s, string limitId) =>
        OrderLimits(s).FirstOrDefault(l => l.Id == limitId) ?? throw ApiErrors.NotFoundError("Order limit not found");

    public SequenceOrderLimit AddOrderLimit(Sequence s, string productId, string? variantId, int maxQuantity, int? windowSeconds, string? windowType, string actor)
    {
        var l = new SequenceOrderLimit
        {
            Id = ids.NewUuid("order-limit"), OrganizationId = s.OrganizationId, SequenceId = s.Id, ProductId = productId,
            ProductVariantId = variantId, MaxQuantity = maxQuantity, TimeWindowSeconds = windowSeconds, TimeWindowType = windowType,
            CreatedAt = Now(s.OrganizationId), CreatedBy = actor,
        };
        store.Put(l);
        return l;
    }

    public SequenceOrderLimit UpdateOrderLimit(SequenceOrderLimit l, BodyReader body, int? maxQuantity, int? windowSeconds, string? windowType, string actor)
    {
        return store.Transaction(() =>
        {
            if (maxQuantity is int m) l.MaxQuantity = m;
            if (body.Has("timeWindowSeconds")) l.TimeWindowSeconds = windowSeconds;
            if (body.Has("timeWindowType")) l.TimeWindowType = windowType;
            l.UpdatedAt = Now(l.OrganizationId);
            l.UpdatedBy = actor;
            store.Put(l);
            return l;
        });
    }

    public SequenceOrderLimit DeleteOrderLimit(SequenceOrderLimit l)
    {
        store.Delete<SequenceOrderLimit>(l.Id);
        return l;
    }
}
