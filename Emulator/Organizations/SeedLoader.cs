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
        store.Transaction(() =>
        {
            var now = clock.GetUtcNow();
            foreach (var node in Seed["organizations"] as JsonArray ?? [])
            {
                if (node is not JsonObject o || o["name"]?.GetValue<string>() is not { Length: > 0 } name) continue;
                var org = Organization.Create(name, o["id"]?.GetValue<string>(), now);
                if (o["slug"]?.GetValue<string>() is { } slug) org.Slug = slug;
                if (o["timeZone"]?.GetValue<string>() is { } tz) org.TimeZone = tz;
                if (o["currencyCode"]?.GetValue<string>() is { } cur) org.CurrencyCode = cur;
                if (o["countryCode"]?.GetValue<string>() is { } cc) org.CountryCode = cc;
                org.Seed = (JsonObject)o.DeepClone();
                store.Put(org);
            }
            // Each organization's data belongs to one mode: its "mode", else the seed's, else test (behavior.md §1.3).
            var seedMode = Seed["mode"]?.GetValue<string>();
            foreach (var module in modules)
                foreach (var org in store.All<Organization>())
                    using (DocumentStore.UseMode(org.Seed?["mode"]?.GetValue<string>() ?? seedMode))
                    using (ids.SeedScope($"{org.Name}/{module.GetType().Name}"))
                        module.ApplySeed(services, org, org.Seed ?? [], Seed);
        });
    }
}
