using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Control.Faults;
using Fanfare.Emulator.Distributions.Auctions;
using Fanfare.Emulator.Distributions.Draws;
using Fanfare.Emulator.Distributions.Grants;
using Fanfare.Emulator.Distributions.Queues;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Ids;
using Fanfare.Emulator.Infrastructure.Scheduling;
using Fanfare.Emulator.Infrastructure.Store;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.Control.Sandboxes;

/// <summary>
/// A sandbox: organizations of its own (from its seed), with keys derived from the sandbox name, and a clock of its own.
/// Kept in the store (shared across modes); its clock runs in memory (<see cref="SandboxService"/>) and its setting is
/// kept here (<see cref="Clock"/>) whenever it changes, so a restart or a snapshot gives it back.
/// </summary>
[SharedAcrossModes]
public sealed class Sandbox : IDocument
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public List<string> OrganizationIds { get; set; } = [];
    /// <summary>The seed it was created from (re-applied by <c>POST /_emulator/sandboxes/{id}/reset</c>).</summary>
    public JsonObject Seed { get; set; } = [];
    /// <summary>The initial clock: frozen at this instant, or system time when null.</summary>
    public DateTimeOffset? FrozenAt { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>The clock's current setting (mode, frozen instant, offset), written whenever it changes
    /// (<c>…/clock/freeze|advance|set|reset</c>, sandbox reset); null on a document written before this existed (the
    /// clock then starts in its initial mode).</summary>
    public ClockState? Clock { get; set; }
}

/// <summary>
/// Creates, resets and deletes sandboxes; owns their clocks (registered in <see cref="OrganizationClocks"/> so
/// <see cref="ClockResolver.For"/> gives a sandbox's organizations their sandbox's clock, and the
/// <see cref="Scheduler"/> runs their jobs on it). Also answers which sandbox an organization belongs to
/// (<see cref="ISandboxLookup"/>: fault rules' <c>match.sandboxId</c>, the request journal's <c>sandboxId</c>).
/// </summary>
public sealed class SandboxService(
    DocumentStore store, SeedLoader seeds, OrganizationClocks orgClocks, Scheduler scheduler, IdGenerator ids,
    IServiceProvider services) : ISandboxLookup
{
    public const string NotFound = "Sandbox not found";
    private readonly ConcurrentDictionary<string, EmulatorClock> _clocks = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<Type, PropertyInfo?> OrgProperty = new();

    /// <summary>The id a sandbox named <paramref name="name"/> gets (same name, same id).</summary>
    public static string IdFor(string name) => "sbx_" + IdGenerator.Base32(IdGenerator.Derive("sandbox-id", name), 20);

    public List<Sandbox> All() => store.All<Sandbox>();

    public Sandbox Get(string id) => store.Get<Sandbox>(id) ?? throw ApiErrors.NotFoundError(NotFound);

    /// <summary>The sandbox's clock (created, at its persisted setting or else its initial mode, if the emulator restarted since).</summary>
    public EmulatorClock ClockOf(Sandbox s) => _clocks.GetOrAdd(s.Id, _ =>
    {
        var c = NewClock(s);
        orgClocks.Set(s.OrganizationIds, c);
        return c;
    });

    private static EmulatorClock NewClock(Sandbox s)
    {
        var c = new EmulatorClock();
        if (s.Clock is { } state) c.Restore(state);
        else if (s.FrozenAt is { } at) c.Freeze(at);
        return c;
    }

    /// <summary>Writes the sandbox clock's current setting into its document (after every change of the clock).</summary>
    public void SaveClock(string id)
    {
        lock (store.Sync)
        {
            var s = Get(id);
            s.Clock = ClockOf(s).Capture();
            store.Put(s);
        }
    }

    /// <summary>
    /// After a snapshot import replaced the store: every sandbox's clock set from its document (the clock objects of
    /// sandboxes still there are kept, so references stay valid), the clocks of sandboxes gone forgotten.
    /// </summary>
    public void ReloadClocks()
    {
        lock (store.Sync)
        {
            var all = store.All<Sandbox>();
            foreach (var id in _clocks.Keys.Where(id => all.All(s => s.Id != id)).ToList()) _clocks.TryRemove(id, out _);
            orgClocks.Clear();
            foreach (var s in all) ReloadClock(s);
        }
    }

    /// <summary>After a snapshot import replaced one sandbox: its clock set from its document.</summary>
    public void ReloadClock(Sandbox s)
    {
        var c = _clocks.GetOrAdd(s.Id, _ => new EmulatorClock());
        c.ResetToSystem();
        if (s.Clock is { } state) c.Restore(state);
        else if (s.FrozenAt is { } at) c.Freeze(at);
        orgClocks.Set(s.OrganizationIds, c);
    }

    /// <summary>A predicate selecting what belongs to sandbox <paramref name="s"/>: the sandbox itself, its organizations
    /// and every document of theirs (both modes, scheduled work included).</summary>
    public static Func<IDocument, bool> OwnedBy(Sandbox s)
    {
        var orgIds = s.OrganizationIds.ToHashSet(StringComparer.Ordinal);
        return d => d is Sandbox x ? x.Id == s.Id : OwnedByOrganizations(d, orgIds);
    }

    private static bool OwnedByOrganizations(IDocument d, HashSet<string> orgIds) => d switch
    {
        Organization o => orgIds.Contains(o.Id),
        Sandbox => false,
        // Kinds keyed by the organization itself (client-side security, loyalty settings) or "{organizationId}:…"
        // (idempotency records) carry no OrganizationId property.
        _ => OrganizationIdOf(d) is { } org ? orgIds.Contains(org) : OwnedById(d.Id, orgIds),
    };

    public string? SandboxOf(string organizationId)
    {
        foreach (var s in store.All<Sandbox>())
            if (s.OrganizationIds.Contains(organizationId)) return s.Id;
        return null;
    }

    /// <summary>Registers the clocks of the sandboxes already in the store (start-up).</summary>
    public void Restore()
    {
        foreach (var s in store.All<Sandbox>()) ClockOf(s);
    }

    public Sandbox Create(string name, JsonObject seed, DateTimeOffset? frozenAt)
    {
        lock (store.Sync)
        {
            var id = IdFor(name);
            if (store.Get<Sandbox>(id) is not null)
                throw ApiErrors.Conflict($"A sandbox named \"{name}\" already exists");
            var sandbox = new Sandbox { Id = id, Name = name, Seed = (JsonObject)seed.DeepClone(), FrozenAt = frozenAt is { } f ? EmulatorClock.Truncate(f) : null };
            var clock = NewClock(sandbox);
            _clocks[id] = clock;
            try
            {
                store.Transaction(() =>
                {
                    Seed(sandbox, clock);
                    sandbox.CreatedAt = clock.GetUtcNow();
                    sandbox.Clock = clock.Capture();
                    store.Put(sandbox);
                });
            }
            catch
            {
                _clocks.TryRemove(id, out _);
                orgClocks.Remove(sandbox.OrganizationIds);
                scheduler.Rebuild();
                throw;
            }
            return sandbox;
        }
    }

    private void Seed(Sandbox sandbox, EmulatorClock clock)
    {
        ids.ResetSeedScopes($"sandbox/{sandbox.Name}/");
        var orgs = seeds.ApplySandbox(sandbox.Seed, sandbox.Name, clock.GetUtcNow(), created =>
        {
            foreach (var o in created)
                if (store.All<Sandbox>().Any(s => s.Id != sandbox.Id && s.OrganizationIds.Contains(o.Id)))
                    throw new InvalidOperationException("organization id collision");
            sandbox.OrganizationIds = created.Select(o => o.Id).ToList();
            orgClocks.Set(sandbox.OrganizationIds, clock);
        });
        if (orgs.Count == 0)
            throw Validation.Single("seed", "seed", "a seed with at least one organization", "seed",
                "Invalid seed: it names no organization (\"organizations\":[{\"name\":…}])");
    }

    /// <summary>Removes everything the sandbox owns (documents of its organizations in both modes, their scheduled
    /// work, the organizations); with <paramref name="keepSandbox"/> the sandbox itself stays.</summary>
    private void RemoveData(Sandbox s, bool keepSandbox)
    {
        var owned = OwnedBy(s);
        store.DeleteAll(d => d is Sandbox ? !keepSandbox && owned(d) : owned(d));
    }

    private static bool OwnedById(string id, HashSet<string> orgIds)
    {
        var colon = id.IndexOf(':');
        return orgIds.Contains(colon < 0 ? id : id[..colon]);
    }

    private static string? OrganizationIdOf(IDocument d) =>
        OrgProperty.GetOrAdd(d.GetType(), t => t.GetProperty("OrganizationId") is { PropertyType: var pt } p && pt == typeof(string) ? p : null)
            ?.GetValue(d) as string;

    /// <summary>Drops the engines' in-memory caches (pure caches, rebuilt from the store on use).</summary>
    private void DropCaches()
    {
        services.GetService<QueueEngine>()?.ResetIndex();
        services.GetService<AuctionEngine>()?.ResetCaches();
        services.GetService<DrawEngine>()?.ResetCaches();
        services.GetService<AdmissionGrants>()?.ResetIndex();
    }

    public void Delete(string id)
    {
        lock (store.Sync)
        {
            var s = Get(id);
            store.Transaction(() => RemoveData(s, keepSandbox: false));
            orgClocks.Remove(s.OrganizationIds);
            _clocks.TryRemove(s.Id, out _);
            ids.ResetSeedScopes($"sandbox/{s.Name}/");
            scheduler.Rebuild();
            DropCaches();
        }
    }

    /// <summary>Removes the sandbox's data, puts its clock back to its initial mode and re-applies its seed.</summary>
    public Sandbox Reset(string id)
    {
        lock (store.Sync)
        {
            var s = Get(id);
            var clock = ClockOf(s);
            try
            {
                store.Transaction(() =>
                {
                    RemoveData(s, keepSandbox: true);
                    clock.ResetToSystem();
                    if (s.FrozenAt is { } at) clock.Freeze(at);
                    Seed(s, clock);
                    s.Clock = clock.Capture();
                    store.Put(s);
                });
            }
            finally
            {
                scheduler.Rebuild();
                DropCaches();
            }
            return s;
        }
    }

    /// <summary>After <c>POST /_emulator/reset</c> emptied the store: no sandbox is left, nor its clock.</summary>
    public void Clear()
    {
        _clocks.Clear();
        orgClocks.Clear();
    }
}
