using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Hosting;

namespace Fanfare.Emulator.RateLimits;

/// <summary>One documented endpoint class of behavior.md §5: its per-minute limit and, for entries and bids, a per-second burst.</summary>
public sealed record RateLimitClass(string Name, int PerMinute, int? PerSecond, string Covers);

/// <summary>What a request got: the window it was counted in (for the <c>X-RateLimit-*</c> headers) and whether it is refused.</summary>
public sealed record RateLimitDecision(string Class, int Limit, int Remaining, long ResetUnixSeconds, bool Refused, int RetryAfterSeconds);

/// <summary>
/// Fixed-window request counters on the emulator clock (behavior.md §5). Windows are aligned to the clock: the minute
/// window ends at the next whole minute of emulator time, the burst window at the next whole second, so advancing the
/// clock one minute resets them. Counters are per class and per organization (the authentication class also per
/// recipient). By default every class is counted and reported but only <c>authentication</c> is enforced, so parallel
/// tests, synthetic crowds and benchmarks are not throttled by surprise; <see cref="Configure"/> changes that.
/// <para>Why not System.Threading.RateLimiting: its limiters replenish on real time (internal timers, no
/// <see cref="TimeProvider"/>), so they cannot follow a frozen or advanced emulator clock; this counter is small.</para>
/// </summary>
public sealed class RateLimiter(EmulatorOptions options, ClockResolver clocks)
{
    /// <summary>behavior.md §5 (per organization and minute; bursts per second).</summary>
    public static readonly IReadOnlyList<RateLimitClass> Documented =
    [
        new("authentication", 10, null, "POST /auth/otp/request (per recipient)"),
        new("external_authorization", 100, null, "POST /auth/external/authorize"),
        new("queue_entry", 1000, 100, "POST /queues/{id}/enter"),
        new("draw_entry", 1000, 100, "POST /draws/{id}/enter"),
        new("auction_bids", 500, 50, "POST /auctions/{id}/bid"),
        new("status_checks", 5000, null, "consumer, beacon and checkout GET requests"),
        new("consumer_general", 5000, null, "other consumer, beacon and checkout requests (the Growth plan's consumer limit)"),
        new("admin_read", 1000, null, "admin GET requests"),
        new("admin_write", 500, null, "admin POST, PUT, PATCH, DELETE requests"),
        new("batch", 100, null, "admin batch and bulk requests"),
        new("analytics", 100, null, "analytics queries"),
    ];

    public static readonly IReadOnlySet<string> ClassNames = Documented.Select(c => c.Name).ToHashSet();

    private readonly object _sync = new();
    private readonly Dictionary<string, (long Window, int Count)> _counters = [];
    private HashSet<string> _enforced = [];
    private double _scale = 1;
    private Dictionary<string, int> _overrides = [];
    private bool _initialised;

    private void EnsureInitialised()
    {
        if (_initialised) return;
        _initialised = true;
        ResetSettingsUnlocked();
    }

    private void ResetSettingsUnlocked()
    {
        _enforced = ParseEnforce(options.RateLimitEnforce) ?? ["authentication"];
        _scale = options.RateLimitScale > 0 ? options.RateLimitScale : 1;
        _overrides = [];
        if (options.OtpRequestsPerMinute != 10) _overrides["authentication"] = options.OtpRequestsPerMinute;
        _counters.Clear();
    }

    /// <summary>Back to the configured defaults (options) with every counter cleared (<c>POST /_emulator/reset</c>).</summary>
    public void Reset()
    {
        lock (_sync) { _initialised = true; ResetSettingsUnlocked(); }
    }

    /// <summary><c>none</c> → ∅, <c>all</c> → every class, <c>a,b</c> → those; null when a name is unknown.</summary>
    public static HashSet<string>? ParseEnforce(string? value)
    {
        var v = (value ?? "").Trim();
        if (v.Length == 0 || v.Equals("none", StringComparison.OrdinalIgnoreCase)) return [];
        if (v.Equals("all", StringComparison.OrdinalIgnoreCase)) return [.. ClassNames];
        var names = v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();
        return names.All(ClassNames.Contains) ? names : null;
    }

    /// <summary>Applies a change: any of enforced classes, scale, per-class per-minute limits (null value = back to the
    /// documented one), clearing the counters.</summary>
    public void Configure(HashSet<string>? enforce, double? scale, IDictionary<string, int?>? limits, bool clearCounters)
    {
        lock (_sync)
        {
            EnsureInitialised();
            if (enforce is not null) _enforced = enforce;
            if (scale is { } s) _scale = s;
            foreach (var (name, value) in limits ?? new Dictionary<string, int?>())
                if (value is { } v) _overrides[name] = v; else _overrides.Remove(name);
            if (clearCounters) _counters.Clear();
        }
    }

    /// <summary>The effective per-minute and per-second limits of a class.</summary>
    public (int PerMinute, int? PerSecond) LimitsOf(RateLimitClass c)
    {
        lock (_sync)
        {
            EnsureInitialised();
            return LimitsUnlocked(c);
        }
    }

    private (int PerMinute, int? PerSecond) LimitsUnlocked(RateLimitClass c)
    {
        if (_overrides.TryGetValue(c.Name, out var fixedLimit))
            return (fixedLimit, c.PerSecond is null ? null : Math.Min(fixedLimit, Scaled(c.PerSecond.Value)));
        return (Scaled(c.PerMinute), c.PerSecond is { } b ? Scaled(b) : null);
    }

    private int Scaled(int limit) => Math.Max(1, (int)Math.Round(limit * _scale, MidpointRounding.AwayFromZero));

    /// <summary>The state <c>GET /_emulator/rate-limits</c> shows.</summary>
    public (IReadOnlyCollection<string> Enforced, double Scale, IReadOnlyList<(RateLimitClass Class, int PerMinute, int? PerSecond, bool Enforced)> Classes) State()
    {
        lock (_sync)
        {
            EnsureInitialised();
            return (_enforced.Order().ToList(), _scale,
                Documented.Select(c => { var (m, s) = LimitsUnlocked(c); return (c, m, s, _enforced.Contains(c.Name)); }).ToList());
        }
    }

    /// <summary>Counts one request of <paramref name="className"/> for <paramref name="key"/> (organization, or organization +
    /// recipient) and says whether it is refused. A refused request is not counted.</summary>
    public RateLimitDecision Hit(string className, string? organizationId, string key)
    {
        var c = Documented.First(x => x.Name == className);
        var now = clocks.For(organizationId).GetUtcNow();
        var ms = now.ToUnixTimeMilliseconds();
        long minute = Math.DivRem(ms, 60_000, out var msInMinute) - (ms < 0 && msInMinute != 0 ? 1 : 0);
        long second = ms / 1000;
        lock (_sync)
        {
            EnsureInitialised();
            var (perMinute, perSecond) = LimitsUnlocked(c);
            var enforced = _enforced.Contains(c.Name);
            var minuteKey = $"{c.Name}|{key}|m";
            var secondKey = $"{c.Name}|{key}|s";
            var m = _counters.TryGetValue(minuteKey, out var mv) && mv.Window == minute ? mv.Count : 0;
            var s = _counters.TryGetValue(secondKey, out var sv) && sv.Window == second ? sv.Count : 0;
            var minuteReset = (minute + 1) * 60;
            if (enforced && m >= perMinute)
                return new(c.Name, perMinute, 0, minuteReset, true, (int)Math.Max(1, minuteReset - (long)Math.Floor(ms / 1000.0)));
            if (enforced && perSecond is { } burst && s >= burst)
                return new(c.Name, burst, 0, second + 1, true, 1);
            _counters[minuteKey] = (minute, m + 1);
            if (perSecond is not null) _counters[secondKey] = (second, s + 1);
            if (_counters.Count > 100_000) Prune(minute, second);
            return new(c.Name, perMinute, Math.Max(0, perMinute - m - 1), minuteReset, false, 0);
        }
    }

    private void Prune(long minute, long second)
    {
        foreach (var (k, v) in _counters.ToList())
            if (k.EndsWith("|m", StringComparison.Ordinal) ? v.Window != minute : v.Window != second) _counters.Remove(k);
    }
}
