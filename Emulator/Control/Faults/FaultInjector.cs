using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Fanfare.Emulator.Infrastructure.Ids;

namespace Fanfare.Emulator.Control.Faults;

/// <summary>Which requests a <see cref="FaultRule"/> applies to; every given field must match (absent = any).</summary>
/// <param name="Api"><c>admin</c>, <c>consumer</c>, <c>beacon</c> or <c>checkout</c>.</param>
/// <param name="Method">HTTP method, case-insensitive.</param>
/// <param name="Path">The public path without <c>/api</c> or <c>/api/v1</c>: a template (<c>/queues/{id}/enter</c>) or a
/// glob (<c>/queues/*</c> one segment, <c>/auth/**</c> any depth).</param>
/// <param name="OrganizationId">The organization whose credentials the request carries.</param>
/// <param name="SandboxId">The sandbox of that organization (when the build has sandboxes).</param>
public sealed record FaultMatch(string? Api, string? Method, string? Path, string? OrganizationId, string? SandboxId);

/// <summary>What a matching request gets. Exactly one of: an HTTP answer (<see cref="Status"/>, optional body and
/// headers), a transport failure (<see cref="Type"/> <c>connection_reset</c> or <c>timeout</c>), or latency
/// (<see cref="DelaySeconds"/> or a uniform <see cref="DelayMinSeconds"/>–<see cref="DelayMaxSeconds"/>, real seconds;
/// the request then runs normally).</summary>
public sealed record FaultAction(int? Status, JsonNode? Body, Dictionary<string, string>? Headers, string? Type,
    double? DelaySeconds, double? DelayMinSeconds, double? DelayMaxSeconds);

/// <summary>A fault rule (<c>POST /_emulator/faults</c>). <see cref="Probability"/> 0–1 (default 1) is drawn from a
/// generator seeded by the rule id, so the same calls fire the same way on every run; after <see cref="Times"/> firings
/// the rule disappears. Instants are UTC ISO 8601 on the emulator clock.</summary>
public sealed record FaultRule(string Id, FaultMatch Match, FaultAction Fault, double Probability, int? Times, int Fired, string CreatedAt);

/// <summary>What the injector decided for one request.</summary>
public sealed record FaultDecision(FaultRule Rule, double DelaySeconds);

/// <summary>
/// The fault and latency injection engine: an ordered rule list, matched against each emulated API request (never the
/// control plane or <c>/health</c>). Kept in memory only: reset clears it.
/// </summary>
public sealed class FaultInjector(IdGenerator ids)
{
    public static readonly string[] Apis = ["admin", "consumer", "beacon", "checkout"];
    public static readonly string[] TransportTypes = ["connection_reset", "timeout"];

    private readonly object _sync = new();
    private readonly List<Entry> _rules = [];

    private sealed class Entry(FaultRule rule, Regex? path)
    {
        public FaultRule Rule = rule;
        public readonly Regex? Path = path;
        public readonly Random Random = new(StableSeed(rule.Id));
    }

    /// <summary>True while any rule exists (the middleware's fast path).</summary>
    public bool Any { get { lock (_sync) return _rules.Count > 0; } }

    public FaultRule Add(FaultMatch match, FaultAction fault, double probability, int? times, DateTimeOffset now)
    {
        var rule = new FaultRule(ids.NewPrefixed("flt_"), match, fault, probability, times, 0, Infrastructure.Json.Iso(now));
        lock (_sync) _rules.Add(new Entry(rule, match.Path is null ? null : PathPattern(match.Path)));
        return rule;
    }

    public IReadOnlyList<FaultRule> List() { lock (_sync) return _rules.Select(e => e.Rule).ToList(); }

    public FaultRule? Get(string id) { lock (_sync) return _rules.FirstOrDefault(e => e.Rule.Id == id)?.Rule; }

    public bool Remove(string id) { lock (_sync) return _rules.RemoveAll(e => e.Rule.Id == id) > 0; }

    public void Clear() { lock (_sync) _rules.Clear(); }

    /// <summary>The first rule that matches and fires for this request, counting the firing; null for none.</summary>
    public FaultDecision? Decide(string api, string method, string path, Func<string?> organizationId, Func<string?, string?> sandboxOf)
    {
        lock (_sync)
        {
            foreach (var e in _rules)
            {
                var m = e.Rule.Match;
                if (m.Api is not null && !string.Equals(m.Api, api, StringComparison.OrdinalIgnoreCase)) continue;
                if (m.Method is not null && !string.Equals(m.Method, method, StringComparison.OrdinalIgnoreCase)) continue;
                if (e.Path is not null && !e.Path.IsMatch(path)) continue;
                if (m.OrganizationId is not null || m.SandboxId is not null)
                {
                    var org = organizationId();
                    if (m.OrganizationId is not null && m.OrganizationId != org) continue;
                    if (m.SandboxId is not null && m.SandboxId != sandboxOf(org)) continue;
                }
                if (e.Rule.Probability < 1 && e.Random.NextDouble() >= e.Rule.Probability) continue;
                e.Rule = e.Rule with { Fired = e.Rule.Fired + 1 };
                var rule = e.Rule;
                if (rule.Times is { } t && rule.Fired >= t) _rules.Remove(e);
                var f = rule.Fault;
                var delay = f.DelaySeconds ?? (f.DelayMinSeconds is { } lo && f.DelayMaxSeconds is { } hi ? lo + e.Random.NextDouble() * (hi - lo) : 0);
                return new FaultDecision(rule, delay);
            }
            return null;
        }
    }

    /// <summary><c>{id}</c> and <c>*</c> match one segment, <c>**</c> any number; the rest literally; a trailing slash is ignored.</summary>
    public static Regex PathPattern(string pattern)
    {
        var p = "/" + pattern.Trim().Trim('/');
        var rx = new System.Text.StringBuilder("^");
        for (int i = 0; i < p.Length; i++)
        {
            if (p[i] == '*' && i + 1 < p.Length && p[i + 1] == '*') { rx.Append(".*"); i++; }
            else if (p[i] == '*') rx.Append("[^/]+");
            else if (p[i] == '{') { var end = p.IndexOf('}', i); if (end < 0) end = p.Length - 1; rx.Append("[^/]+"); i = end; }
            else rx.Append(Regex.Escape(p[i].ToString()));
        }
        rx.Append("/?$");
        return new Regex(rx.ToString(), RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50));
    }

    private static int StableSeed(string s)
    {
        unchecked
        {
            int h = (int)2166136261;
            foreach (var c in s) h = (h ^ c) * 16777619;
            return h;
        }
    }
}
