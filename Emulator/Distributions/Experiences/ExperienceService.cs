using System.Text.Json;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Distributions;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Distributions.Sequences;
using Fanfare.Emulator.Distributions.Waitlists;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Ids;
using Fanfare.Emulator.Infrastructure.Store;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.Distributions.Experiences;

/// <summary>The experience fields of a create/update body (admin-part2.md <c>POST /experiences</c>, admin-part3.md <c>PUT</c>).</summary>
public sealed class ExperienceFields
{
    public string? Name, TimeZone, AccessCode;
    public JsonObject? Theme, I18n;
    public JsonArray? Products;
    public bool HasTimeZone, HasAccessCode, HasTheme, HasI18n, HasProducts;

    public static readonly string[] ThemeKeys =
        ["background", "danger", "fontFamily", "fontHeading", "headerImageUrl", "logoUrl", "muted", "primary", "secondary", "success", "surface", "text", "variant", "warning"];
    public static readonly string[] ThemeVariants = ["default", "retro", "rounded", "clean"];

    public static ExperienceFields Read(BodyReader body, bool create)
    {
        var f = new ExperienceFields
        {
            Name = body.String("name", required: create, minLength: 1),
            TimeZone = body.String("timeZone", nullable: true, minLength: 1),
            AccessCode = body.String("accessCode", nullable: true),
            Theme = body.Object("theme", nullable: true),
            I18n = body.Object("i18n", nullable: true),
            Products = body.Array("products", nullable: true),
            HasTimeZone = body.Has("timeZone"), HasAccessCode = body.Has("accessCode"), HasTheme = body.Has("theme"),
            HasI18n = body.Has("i18n"), HasProducts = body.Has("products"),
        };
        if (f.Theme is not null)
        {
            var theme = BodyReader.Parse(f.Theme.ToJsonString());
            foreach (var key in ThemeKeys.Where(k => k != "variant")) theme.String(key);
            theme.Enum("variant", ThemeVariants);
            body.Absorb(theme, [RequestChecks.Step(body.Root, "theme")]);
        }
        if (f.I18n is not null)
            foreach (var (locale, messages) in f.I18n)
            {
                var ok = messages is JsonObject m && m.All(kv => RequestChecks.AsString(kv.Value) is not null);
                if (!ok) body.AddIssue("i18n", "record", "Record<string, Record<string, string>>", messages,
                    $"Invalid type: i18n.{locale} must be an object of strings", "schema");
            }
        if (f.Products is not null)
            for (int i = 0; i < f.Products.Count; i++)
            {
                var p = RequestChecks.Nested(f.Products[i]);
                p.Uuid("productId", required: true);
                p.Uuid("productVariantId", nullable: true);
                body.Absorb(p, [RequestChecks.Step(body.Root, "products"), RequestChecks.Step(f.Products, i)]);
            }
        return f;
    }
}

/// <summary>
/// Experiences (behavior.md §3.1): containers of sequences, whose timing is derived from their distributions
/// (<c>openAt</c> = earliest <c>openAt</c>; <c>closeAt</c> = latest of <c>closeAt</c>/<c>drawAt</c>/<c>settleAt</c>).
/// <c>POST /experiences</c> may create one nested <c>sequence</c> with nested distributions, each handed to its type's
/// engine (<see cref="IDistributionEngine.Create"/>); every issue of every nested body is reported at once (paths under
/// <c>sequence.queues[0]…</c>) and nothing is kept when any is invalid. Deleting archives the experience and cascades to
/// its sequences (see <see cref="SequenceService.Archive"/>).
/// </summary>
public sealed class ExperienceService(DocumentStore store, IdGenerator ids, ClockResolver clocks, DistributionRegistry registry,
    DistributionLifecycle lifecycle, SequenceService sequences, WaitlistEngine waitlists, Commerce.Catalogue.CatalogueService catalogue)
{
    public const string NotFound = "Experience not found";

    private DateTimeOffset Now(string orgId) => clocks.For(orgId).GetUtcNow();

    public Experience? Find(string organizationId, string? id) =>
        store.Get<Experience>(id) is { } e && e.OrganizationId == organizationId && !e.Archived ? e : null;

    public Experience Require(string organizationId, string? id) => Find(organizationId, id) ?? throw ApiErrors.NotFoundError(NotFound);

    public List<Experience> List(string organizationId) => store.Where<Experience>(e => e.OrganizationId == organizationId && !e.Archived);

    /// <summary>
    /// <c>POST /experiences</c>. Validates the whole body (experience, nested sequence, every nested distribution through
    /// its engine) and throws one 400 with all issues; a nested array whose type has no engine in this build is an issue
    /// too. Nothing is kept when any part is invalid.
    /// </summary>
    public Experience Create(Organization org, BodyReader body, string actor, string? experienceId = null)
    {
        var f = ExperienceFields.Read(body, create: true);
        var seqObj = body.Object("sequence", nullable: true);
        var seqPrefix = new JsonArray(RequestChecks.Step(body.Root, "sequence"));
        if (seqObj is not null) body.Absorb(CheckSequence(seqObj, null), seqPrefix);
        body.ThrowIfInvalid();
        return store.Transaction(() =>
        {
            var e = CreateBare(org, f, actor, experienceId);
            if (seqObj is null) return e;
            try { AddSequence(org, e, seqObj, actor, seqPrefix); }
            catch (ApiException)
            {
                store.Delete<Experience>(e.Id);
                throw;
            }
            return e;
        });
    }

    /// <summary>Stores an experience from already-validated fields.</summary>
    public Experience CreateBare(Organization org, ExperienceFields f, string actor, string? experienceId = null)
    {
        var e = new Experience
        {
            Id = experienceId ?? ids.NewUuid("experience"), OrganizationId = org.Id, Name = f.Name!, TimeZone = f.TimeZone,
            AccessCode = f.AccessCode, Theme = f.Theme, I18n = f.I18n, CreatedAt = Now(org.Id), CreatedBy = actor,
        };
        e.Products = ProductsJson(e, f.Products);
        store.Put(e);
        return e;
    }

    /// <summary>The issues of a nested sequence body (its own fields, <c>sequenceProducts</c>, arrays of unknown types).
    /// With <paramref name="warn"/> (seed), arrays of types without an engine are reported there and dropped instead.</summary>
    private BodyReader CheckSequence(JsonObject seqObj, Action<string>? warn)
    {
        var seqBody = BodyReader.Parse(seqObj.ToJsonString());
        SequenceFields.Read(seqBody, create: true, withExperienceId: false);
        var products = seqBody.Array("sequenceProducts", nullable: true);
        if (products is not null)
            for (int i = 0; i < products.Count; i++)
            {
                var p = RequestChecks.Nested(products[i]);
                p.Uuid("productId", required: true);
                p.Int("weight", required: true, min: 1, max: 1000);
                seqBody.Absorb(p, [RequestChecks.Step(seqBody.Root, "sequenceProducts"), RequestChecks.Step(products, i)]);
            }
        foreach (var key in NestedKeys())
        {
            var arr = seqBody.Array(key, nullable: true);
            if (arr is { Count: > 0 } && registry.Engines.All(e => e.NestedKey != key))
            {
                if (warn is not null) { warn($"no engine serves {key} in this build; {arr.Count} skipped"); seqObj.Remove(key); }
                else seqBody.AddIssue(key, "distribution_type", "a distribution type this emulator build serves", arr,
                    $"Invalid type: no {key} engine is available in this emulator build");
            }
        }
        return seqBody;
    }

    /// <summary>
    /// Creates one sequence of <paramref name="e"/> from a nested body, with its products and nested distributions (each
    /// through its engine). Throws one 400 with every issue, paths under <paramref name="prefix"/>, after undoing what it
    /// stored. With <paramref name="warn"/> (seed), invalid distributions and unknown types are reported there and skipped.
    /// </summary>
    public Sequence AddSequence(Organization org, Experience e, JsonObject seqObj, string actor, JsonArray prefix,
        string? sequenceId = null, Action<string>? warn = null)
    {
        var seqBody = CheckSequence(seqObj, warn);
        if (seqBody.HasIssues)
        {
            var outer = BodyReader.Parse("{}");
            outer.Absorb(seqBody, prefix);
            outer.ThrowIfInvalid();
        }
        var sf = SequenceFields.Read(BodyReader.Parse(seqObj.ToJsonString()), create: true, withExperienceId: false);
        return store.Transaction(() =>
        {
            var seq = sequences.Create(org, sf, e.Id, actor, sequenceId);
            var created = new List<IDocument>();
            foreach (var (productId, weight) in SequenceProductsOf(seqObj))
                created.Add(sequences.AddProduct(seq, productId, weight, actor));
            var issues = BodyReader.Parse("{}");
            ApiException? fatal = null;
            foreach (var engine in OrderedEngines())
            {
                if (fatal is not null || seqObj[engine.NestedKey] is not JsonArray arr) continue;
                for (int i = 0; i < arr.Count && fatal is null; i++)
                {
                    var item = RequestChecks.Nested(arr[i]);
                    item.Root.Remove("sequenceId");
                    var path = (JsonArray)prefix.DeepClone();
                    path.Add(RequestChecks.Step(seqObj, engine.NestedKey));
                    path.Add(RequestChecks.Step(arr, i));
                    DistributionBase? d = null;
                    try
                    {
                        if (!item.HasIssues) d = engine.Create(org, seq, item, actor);
                    }
                    catch (ApiException ex) when (ex.Status == 400 && ex.Body?["issues"] is JsonArray thrown)
                    {
                        foreach (var issue in thrown.OfType<JsonObject>())
                            item.Add(new ValidationIssue(Str(issue["kind"]), Str(issue["type"]), Str(issue["expected"]), Str(issue["received"]),
                                Str(issue["message"]), issue["path"] is JsonArray ip ? (JsonArray)ip.DeepClone() : []));
                    }
                    catch (ApiException ex) { fatal = ex; }
                    if (item.HasIssues && warn is not null)
                    {
                        warn($"{engine.NestedKey}[{i}] skipped: " + string.Join("; ", item.Issues().Select(x => Str(x["message"]))));
                        if (d is not null) { lifecycle.Untrack(d); store.DeleteAny(d); }
                        continue;
                    }
                    if (d is not null) created.Add(d);
                    issues.Absorb(item, path);
                }
            }
            if (issues.HasIssues || fatal is not null)
            {
                // Roll back everything this call stored, then report every issue.
                foreach (var doc in created)
                {
                    if (doc is DistributionBase d) lifecycle.Untrack(d);
                    store.DeleteAny(doc);
                }
                store.Delete<Sequence>(seq.Id);
                if (fatal is not null) throw fatal;
                issues.ThrowIfInvalid();
            }
            return seq;
        });
    }

    /// <summary>Engines in the order of the contract's nested keys, then any other registered type.</summary>
    private IEnumerable<IDistributionEngine> OrderedEngines() =>
        registry.Engines.OrderBy(e => Array.IndexOf(SequenceService.NestedKeys, e.NestedKey) is var i && i < 0 ? int.MaxValue : i);

    private IEnumerable<string> NestedKeys() => SequenceService.NestedKeys.Union(registry.Engines.Select(e => e.NestedKey));

    private static string Str(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var x) ? x : n?.ToJsonString() ?? "";

    private static IEnumerable<(string, int)> SequenceProductsOf(JsonObject seq)
    {
        foreach (var p in seq["sequenceProducts"] as JsonArray ?? [])
            if (p is JsonObject o && RequestChecks.AsString(o["productId"]) is { } id && RequestChecks.AsNumber(o["weight"]) is double w)
                yield return (id, (int)w);
    }

    private JsonArray? ProductsJson(Experience e, JsonArray? products)
    {
        if (products is null) return null;
        var arr = new JsonArray();
        int position = 0;
        foreach (var p in products.OfType<JsonObject>())
            arr.Add(new JsonObject
            {
                ["id"] = ids.NewUuid("experience-product"), ["organizationId"] = e.OrganizationId, ["experienceId"] = e.Id,
                ["productId"] = RequestChecks.AsString(p["productId"]), ["position"] = position++,
                ["product"] = null, ["productVariant"] = null, ["productVariantId"] = RequestChecks.AsString(p["productVariantId"]),
            });
        return arr;
    }

    /// <summary>admin-part3.md <c>PUT /experiences/{id}</c>: <c>name</c>, <c>timeZone</c>, <c>theme</c>, <c>i18n</c>, <c>products</c>
    /// (and the emulator's <c>accessCode</c>).</summary>
    public Experience Update(Experience e, BodyReader body, string actor)
    {
        var f = ExperienceFields.Read(body, create: false);
        body.ThrowIfInvalid();
        return store.Transaction(() =>
        {
            if (f.Name is not null) e.Name = f.Name;
            if (f.HasTimeZone) e.TimeZone = f.TimeZone;
            if (f.HasAccessCode) e.AccessCode = f.AccessCode;
            if (f.HasTheme) e.Theme = f.Theme;
            if (f.HasI18n) e.I18n = f.I18n;
            if (f.HasProducts) e.Products = ProductsJson(e, f.Products);
            e.UpdatedAt = Now(e.OrganizationId);
            e.UpdatedBy = actor;
            store.Put(e);
            return e;
        });
    }

    /// <summary>DELETE: archives the experience and its sequences (their distributions and waitlists too).</summary>
    public Experience Archive(Experience e, string actor)
    {
        return store.Transaction(() =>
        {
            foreach (var s in sequences.List(e.OrganizationId, e.Id)) sequences.Archive(s, actor);
            e.Archived = true;
            e.UpdatedAt = Now(e.OrganizationId);
            e.UpdatedBy = actor;
            store.Put(e);
            return e;
        });
    }

    /// <summary>Every live distribution of the experience's live sequences.</summary>
    public List<(IDistributionEngine Engine, DistributionBase Distribution)> Distributions(Experience e) =>
        sequences.List(e.OrganizationId, e.Id).SelectMany(s => sequences.Distributions(e.OrganizationId, s.Id)).ToList();

    /// <summary>Derived timing: earliest <c>openAt</c>, latest of <c>closeAt</c>/<c>drawAt</c>/<c>settleAt</c> (null when none is set).</summary>
    public (DateTimeOffset? OpenAt, DateTimeOffset? CloseAt) Timing(Experience e)
    {
        DateTimeOffset? open = null, close = null;
        foreach (var (engine, d) in Distributions(e))
        {
            if (d.OpenAt is { } o && (open is null || o < open)) open = o;
            foreach (var t in Ends(engine, d))
                if (close is null || t > close) close = t;
        }
        return (open, close);
    }

    /// <summary>A distribution's closing instants: <c>closeAt</c>, <c>drawAt</c>, <c>settleAt</c>. The last two as its JSON shape
    /// has them (milliseconds): read from the typed fields of draws and auctions, from the JSON of any other type.</summary>
    public static IEnumerable<DateTimeOffset> Ends(IDistributionEngine engine, DistributionBase d)
    {
        if (d.CloseAt is { } c) yield return c;
        switch (d)
        {
            case Draws.DrawDistribution draw: yield return Millis(draw.DrawAt); break;
            case Auctions.AuctionDistribution auction: yield return Millis(auction.SettleAt); break;
            case Queues.QueueDistribution or TimedReleases.TimedReleaseDistribution or Appointments.AppointmentDistribution: break;
            default:
                var json = engine.ToJson(d);
                foreach (var key in new[] { "drawAt", "settleAt" })
                    if (ParseIso(json[key]) is { } t) yield return t;
                break;
        }
    }

    /// <summary>The instant as <see cref="Json.Iso(DateTimeOffset)"/> writes it and <see cref="ParseIso"/> reads it back: UTC,
    /// truncated to the millisecond.</summary>
    private static DateTimeOffset Millis(DateTimeOffset t)
    {
        var ticks = t.UtcTicks;
        return new DateTimeOffset(ticks - ticks % TimeSpan.TicksPerMillisecond, TimeSpan.Zero);
    }

    public static DateTimeOffset? ParseIso(JsonNode? n) =>
        RequestChecks.AsString(n) is { } s && DateTimeOffset.TryParse(s, System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.RoundtripKind | System.Globalization.DateTimeStyles.AssumeUniversal, out var t) ? t.ToUniversalTime() : null;

    /// <summary>admin-part2.md/admin-part3.md <c>Experience</c>; with <paramref name="withSequences"/> the list/create shape
    /// (sequences with their relations).</summary>
    public JsonObject ToJson(Experience e, Organization org, bool withSequences)
    {
        var (open, close) = Timing(e);
        var o = new JsonObject
        {
            ["id"] = e.Id, ["organizationId"] = e.OrganizationId, ["createdAt"] = Json.Iso(e.CreatedAt), ["createdBy"] = e.CreatedBy,
            ["archived"] = e.Archived, ["name"] = e.Name, ["timeZone"] = e.TimeZone ?? org.TimeZone,
            ["closeAt"] = Json.Iso(close), ["i18n"] = e.I18n?.DeepClone(), ["openAt"] = Json.Iso(open),
            ["products"] = catalogue.ResolveExperienceProducts(e.Products), ["theme"] = e.Theme?.DeepClone(),
            ["updatedAt"] = Json.Iso(e.UpdatedAt), ["updatedBy"] = e.UpdatedBy,
        };
        if (withSequences)
            o["sequences"] = new JsonArray(sequences.List(e.OrganizationId, e.Id).Select(s => (JsonNode)sequences.ToJson(s, relations: true)).ToArray());
        return o;
    }

    /// <summary>
    /// consumer-part2.md <c>GET /experiences/{experienceId}</c> <c>Experience</c>: no access codes, no audit fields;
    /// sequences by priority with their live distributions (each type's JSON minus the admin audit fields), <c>color</c>,
    /// <c>waitlist: {id, capacity} | null</c> and <c>timedReleases</c> (the older page's fields, kept as a union).
    /// </summary>
    private readonly StoreReadCache<(string Org, string Mode, string Experience, JsonSerializerOptions Options), byte[]> _consumerBytes = new(store, 1000);

    /// <summary>
    /// <see cref="ConsumerJson"/> serialized with <paramref name="options"/> (the HTTP JSON options), cached until the store
    /// changes (<see cref="StoreReadCache{TKey,TValue}"/>): the consumer experience is a function of stored documents only
    /// (no clock), so any write — an admin edit, a new distribution, a product update, a reset — is seen on the next read.
    /// </summary>
    public byte[] ConsumerJsonUtf8(Experience e, Organization org, JsonSerializerOptions options) =>
        _consumerBytes.Get((org.Id, DocumentStore.Mode, e.Id, options), () => JsonSerializer.SerializeToUtf8Bytes(ConsumerJson(e, org), options));

    public JsonObject ConsumerJson(Experience e, Organization org)
    {
        // One hold of the store lock for the whole read (the lock is reentrant): every lookup below re-enters it instead of
        // queueing for it again behind concurrent requests, and the answer is one consistent state.
        lock (store.Sync) return ConsumerJsonLocked(e, org);
    }

    private JsonObject ConsumerJsonLocked(Experience e, Organization org)
    {
        var (open, close) = Timing(e);
        var seqs = sequences.ByPriority(e.OrganizationId, e.Id);
        var o = new JsonObject
        {
            ["id"] = e.Id, ["name"] = e.Name, ["timeZone"] = e.TimeZone ?? org.TimeZone, ["currencyCode"] = org.CurrencyCode,
            ["closeAt"] = Json.Iso(close), ["openAt"] = Json.Iso(open),
            ["hasProtectedSequences"] = e.AccessCode is { Length: > 0 } || seqs.Any(s => s.AccessCode is { Length: > 0 }),
            ["i18n"] = e.I18n?.DeepClone(), ["products"] = catalogue.ResolveExperienceProducts(e.Products), ["theme"] = e.Theme?.DeepClone(),
        };
        var arr = new JsonArray();
        foreach (var s in seqs)
        {
            var so = new JsonObject
            {
                ["id"] = s.Id, ["name"] = s.Name, ["priority"] = s.Priority, ["color"] = s.Color,
                ["audienceId"] = s.AudienceId, ["experienceId"] = s.ExperienceId, ["productSelectionMode"] = s.ProductSelectionMode,
            };
            foreach (var key in SequenceService.NestedKeys) so[key] = new JsonArray();
            foreach (var (engine, d) in sequences.Distributions(s.OrganizationId, s.Id))
            {
                var dj = engine.NestedConsumerJson(org, d);
                if (so[engine.NestedKey] is not JsonArray list) so[engine.NestedKey] = list = [];
                list.Add(dj);
            }
            var w = waitlists.ForSequence(s.OrganizationId, s.Id);
            so["waitlist"] = w is null ? null : new JsonObject { ["id"] = w.Id, ["capacity"] = w.Capacity };
            arr.Add(so);
        }
        o["sequences"] = arr;
        return o;
    }

    /// <summary>
    /// admin-part3.md <c>GET /experiences/{id}/metrics</c>: per sequence id, <c>audienceName</c> (null: the emulator keeps no
    /// audiences), <c>audienceSize</c> (0), <c>waitlistSize</c> (active entries) and <c>waitlistSize1d</c>…<c>5d</c>,
    /// <c>5plus</c>: active entries by age in whole days (entered &lt; 1 day ago, 1–2 days … 5 days or more).
    /// </summary>
    public JsonObject Metrics(Experience e)
    {
        var now = Now(e.OrganizationId);
        var result = new JsonObject();
        foreach (var s in sequences.List(e.OrganizationId, e.Id))
        {
            var entries = waitlists.ForSequence(e.OrganizationId, s.Id) is { } w
                ? waitlists.Entries(w).Where(x => WaitlistStatus.IsActive(x.Status)).ToList() : [];
            var buckets = new int[6];
            foreach (var x in entries) buckets[Math.Clamp((int)Math.Floor((now - x.EnteredAt).TotalDays), 0, 5)]++;
            result[s.Id] = new JsonObject
            {
                ["audienceName"] = null, ["audienceSize"] = 0, ["waitlistSize"] = entries.Count,
                ["waitlistSize1d"] = buckets[0], ["waitlistSize2d"] = buckets[1], ["waitlistSize3d"] = buckets[2],
                ["waitlistSize4d"] = buckets[3], ["waitlistSize5d"] = buckets[4], ["waitlistSize5plus"] = buckets[5],
            };
        }
        return new JsonObject { ["sequences"] = result };
    }
}
