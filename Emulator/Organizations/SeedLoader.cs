using System.Text.Json;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure.Ids;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Organizations;

/// <summary>
/// Loads the seed file (format: <c>seed/README.md</c>) into an empty store: organizations with their derived keys, then
/// each feature module's section of every organization (consumers, experiences, webhook endpoints …).
/// The file is <see cref="EmulatorOptions.SeedFile"/> (flag <c>--seed</c>, env <c>Emulator__SeedFile</c>) or the
/// embedded <c>seed/default.json</c>.
/// </summary>
public sealed class SeedLoader(
    EmulatorOptions options, DocumentStore store, IdGenerator ids, EmulatorClock clock,
    IEnumerable<IFeatureModule> modules, IServiceProvider services, ILogger<SeedLoader> log)
{
    private JsonObject? _seed;

    /// <summary>The parsed seed (read once, then kept).</summary>
    public JsonObject Seed => _seed ??= Read();

    /// <summary>The bundled <c>seed/default.json</c> (what a sandbox created with <c>"seed":"default"</c> loads).</summary>
    public static JsonObject Bundled()
    {
        using var s = typeof(SeedLoader).Assembly.GetManifestResourceStream("Fanfare.Emulator.seed.default.json")
            ?? throw new InvalidOperationException("embedded seed/default.json is missing");
        using var r = new StreamReader(s);
        return Parse(r.ReadToEnd());
    }

    private static JsonObject Parse(string text) =>
        JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }) as JsonObject
            ?? throw new InvalidOperationException("the seed file must hold a JSON object");

    private JsonObject Read()
    {
        string text;
        if (!string.IsNullOrWhiteSpace(options.SeedFile))
        {
            text = File.ReadAllText(options.SeedFile);
            log.LogInformation("Seed: {File}", Path.GetFullPath(options.SeedFile));
        }
        else
        {
            using var s = typeof(SeedLoader).Assembly.GetManifestResourceStream("Fanfare.Emulator.seed.default.json")
                ?? throw new InvalidOperationException("embedded seed/default.json is missing");
            using var r = new StreamReader(s);
            text = r.ReadToEnd();
        }
        return JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }) as JsonObject
            ?? throw new InvalidOperationException("the seed file must hold a JSON object");
    }

    /// <summary>Sets the deterministic seed; called on every start, before anything is generated.</summary>
    public void Configure() => ids.SetSeed(Seed["randomSeed"]?.GetValue<string>() ?? "fanfare-emulator");

    /// <summary>Loads the seed into the (empty) store.</summary>
    public void Apply()
    {
        Configure();
        ids.ResetSeedScopes();
        ApplyOrganizations(Seed, null, clock.GetUtcNow());
    }

    /// <summary>
    /// Loads <paramref name="seed"/>'s organizations for a sandbox named <paramref name="sandbox"/>: every key and id is
    /// derived from the sandbox name mixed with the organization's name (a rerun gets the same keys; nothing collides with
    /// the default organizations), the seed's own fixed ids are re-derived the same way, and <paramref name="now"/> is the
    /// sandbox clock's time. Returns the organizations created.
    /// </summary>
    public List<Organization> ApplySandbox(JsonObject seed, string sandbox, DateTimeOffset now, Action<List<Organization>>? beforeSections = null)
    {
        seed = (JsonObject)seed.DeepClone();
        RederiveIds(seed, sandbox);
        return ApplyOrganizations(seed, sandbox, now, beforeSections);
    }

    /// <summary>Replaces every <c>"id"</c> value of the seed, and every string equal to one (references), by an id
    /// derived from the sandbox name and it.</summary>
    private static void RederiveIds(JsonObject seed, string sandbox)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        void Collect(JsonNode? n)
        {
            if (n is JsonObject o)
                foreach (var (k, v) in o)
                {
                    if (k == "id" && v is JsonValue jv && jv.TryGetValue<string>(out var id)) map.TryAdd(id, IdGenerator.DeriveUuid("sandbox-seed-id", sandbox + "\n" + id));
                    else Collect(v);
                }
            else if (n is JsonArray a) foreach (var x in a) Collect(x);
        }
        JsonNode? Rewrite(JsonNode? n)
        {
            switch (n)
            {
                case JsonObject o:
                    foreach (var k in o.Select(p => p.Key).ToList())
                    {
                        var v = o[k];
                        var r = Rewrite(v);
                        if (!ReferenceEquals(r, v)) o[k] = r;
                    }
                    return o;
                case JsonArray a:
                    for (var i = 0; i < a.Count; i++)
                    {
                        var v = a[i];
                        var r = Rewrite(v);
                        if (!ReferenceEquals(r, v)) a[i] = r;
                    }
                    return a;
                case JsonValue jv when jv.TryGetValue<string>(out var s) && map.TryGetValue(s, out var to):
                    return JsonValue.Create(to);
                default: return n;
            }
        }
        Collect(seed);
        if (map.Count > 0) Rewrite(seed);
    }

    private List<Organization> ApplyOrganizations(JsonObject seedDoc, string? sandbox, DateTimeOffset now, Action<List<Organization>>? beforeSections = null)
    {
        return store.Transaction(() =>
        {
            var created = new List<Organization>();
            foreach (var node in seedDoc["organizations"] as JsonArray ?? [])
            {
                if (node is not JsonObject o || o["name"]?.GetValue<string>() is not { Length: > 0 } name) continue;
                var org = sandbox is null
                    ? Organization.Create(name, o["id"]?.GetValue<string>(), now)
                    // A sandbox's organization is named "{name} ({sandbox})" so that whatever the feature modules derive
                    // from the organization's name (seeded products, experiences …) is its own, never the default's.
                    : Organization.Create($"{name} ({sandbox})", null, now, derivedFrom: "sandbox\n" + sandbox + "\n" + name);
                if (o["slug"]?.GetValue<string>() is { } slug) org.Slug = sandbox is null ? slug : slug + "-" + Organization.Slugify(sandbox);
                if (o["timeZone"]?.GetValue<string>() is { } tz) org.TimeZone = tz;
                if (o["currencyCode"]?.GetValue<string>() is { } cur) org.CurrencyCode = cur;
                if (o["countryCode"]?.GetValue<string>() is { } cc) org.CountryCode = cc;
                org.Seed = (JsonObject)o.DeepClone();
                if (sandbox is not null && store.Get<Organization>(org.Id) is not null)
                    throw new InvalidOperationException($"organization {name} appears twice in the seed");
                store.Put(org);
                created.Add(org);
            }
            beforeSections?.Invoke(created);
            // Each organization's data belongs to one mode: its "mode", else the seed's, else test (behavior.md §1.3).
            var seedMode = seedDoc["mode"]?.GetValue<string>();
            var scope = sandbox is null ? "" : $"sandbox/{sandbox}/";
            foreach (var module in modules)
                foreach (var org in sandbox is null ? store.All<Organization>() : created)
                    using (DocumentStore.UseMode(org.Seed?["mode"]?.GetValue<string>() ?? seedMode))
                    using (ids.SeedScope($"{scope}{org.Name}/{module.GetType().Name}"))
                        module.ApplySeed(services, org, org.Seed ?? [], seedDoc);
            return created;
        });
    }
}
