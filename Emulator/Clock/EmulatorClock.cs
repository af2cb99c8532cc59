namespace Fanfare.Emulator.Clock;

/// <summary>
/// The one <see cref="TimeProvider"/> every expiry, schedule and timestamp reads. Modes (as <c>GET /_emulator/clock</c>
/// reports them): <c>system</c> (real time), <c>frozen</c> (time stands still at a chosen instant), <c>offset</c> (real
/// time plus a fixed offset in seconds). Moving it forward goes through <see cref="Scheduling.Scheduler"/> so that work
/// falling due runs in time order before the move returns.
/// <para>Every instant it gives, holds or is given is whole milliseconds — the precision every response prints — so an
/// instant the API printed (an <c>expiresAt</c>) is exactly one the clock can be set to.</para>
/// <para>Frozen means time stands still, not work: the scheduler still runs whatever is due at or before the frozen
/// instant (an "immediate" first webhook attempt, an admission due now); only the passage of time stops.</para>
/// </summary>
public sealed class EmulatorClock : TimeProvider
{
    private readonly TimeProvider system;

    /// <summary>A clock over real time (the only constructor DI sees).</summary>
    public EmulatorClock() => system = TimeProvider.System;

    /// <summary>A clock over another time source (tests).</summary>
    internal EmulatorClock(TimeProvider system, bool _) => this.system = system;

    private readonly object _sync = new();
    private DateTimeOffset? _frozenAt;
    private TimeSpan _offset;

    public override DateTimeOffset GetUtcNow()
    {
        lock (_sync) return _frozenAt ?? Truncate(system.GetUtcNow() + _offset);
    }

    /// <summary><paramref name="t"/> in UTC, cut to whole milliseconds (what <c>Json.Iso</c> prints).</summary>
    public static DateTimeOffset Truncate(DateTimeOffset t)
    {
        var utc = t.ToUniversalTime();
        return new DateTimeOffset(utc.Ticks - utc.Ticks % TimeSpan.TicksPerMillisecond, TimeSpan.Zero);
    }

    /// <summary><c>system</c>, <c>frozen</c> or <c>offset</c>.</summary>
    public string Mode
    {
        get { lock (_sync) return _frozenAt is not null ? "frozen" : _offset == TimeSpan.Zero ? "system" : "offset"; }
    }

    public bool IsFrozen { get { lock (_sync) return _frozenAt is not null; } }

    /// <summary>Offset from real time, in seconds (0 in system mode; in frozen mode, frozen instant minus real now).</summary>
    public double OffsetSeconds
    {
        get
        {
            lock (_sync)
            {
                var real = system.GetUtcNow();
                var offset = _frozenAt is { } f ? f - Truncate(real) : _offset;
                var seconds = Math.Round(offset.TotalSeconds, 3);
                return seconds == 0 ? 0 : seconds; // never print -0
            }
        }
    }

    /// <summary>Moves the clock to <paramref name="to"/> keeping the mode (frozen stays frozen; otherwise becomes offset).</summary>
    internal void MoveTo(DateTimeOffset to)
    {
        lock (_sync)
        {
            to = Truncate(to);
            if (_frozenAt is not null) _frozenAt = to;
            else
            {
                var now = system.GetUtcNow();
                _offset = TimeSpan.FromMilliseconds(Math.Round((to - now).TotalMilliseconds));
            }
        }
    }

    internal void Freeze(DateTimeOffset at)
    {
        lock (_sync) _frozenAt = Truncate(at);
    }

    /// <summary>Back to real time.</summary>
    internal void ResetToSystem()
    {
        lock (_sync) { _frozenAt = null; _offset = TimeSpan.Zero; }
    }

    /// <summary>What the clock is set to (snapshots, a sandbox's document): frozen instant, or offset from real time.</summary>
    public ClockState Capture()
    {
        lock (_sync)
        {
            if (_frozenAt is { } f) return new ClockState { Mode = "frozen", FrozenAt = f };
            var ms = (long)Math.Round(_offset.TotalMilliseconds);
            return new ClockState { Mode = ms == 0 ? "system" : "offset", OffsetMilliseconds = ms };
        }
    }

    /// <summary>Sets the clock to a captured state (<see cref="Capture"/>): frozen at the same instant, or running at the
    /// same offset from real time.</summary>
    public void Restore(ClockState state)
    {
        lock (_sync)
        {
            _frozenAt = state.Mode == "frozen" && state.FrozenAt is { } f ? Truncate(f) : null;
            _offset = state.Mode == "offset" ? TimeSpan.FromMilliseconds(state.OffsetMilliseconds) : TimeSpan.Zero;
        }
    }
}

/// <summary>
/// A clock's setting as snapshots and sandbox documents keep it:
/// <c>{"mode":"system"|"frozen"|"offset","frozenAt":ISO|null,"offsetMilliseconds":N}</c> — <c>frozenAt</c> in frozen
/// mode (UTC, whole milliseconds), <c>offsetMilliseconds</c> (clock minus real time) in offset mode, 0 otherwise.
/// </summary>
public sealed class ClockState
{
    public static readonly string[] Modes = ["system", "frozen", "offset"];
    public string Mode { get; set; } = "system";
    public DateTimeOffset? FrozenAt { get; set; }
    public long OffsetMilliseconds { get; set; }
}

/// <summary>
/// Clocks of their own for some organizations (a sandbox's): organization id → clock. Organizations not listed read
/// the global <see cref="EmulatorClock"/>. Filled by the sandboxes feature (<c>/_emulator/sandboxes</c>).
/// </summary>
public sealed class OrganizationClocks
{
    private readonly object _sync = new();
    // Copy-on-write: writers (under _sync) publish a new dictionary; readers take no lock (every request reads the
    // clock several times, and a contended lock here spun on two cores under the queue-entry load).
    private volatile Dictionary<string, EmulatorClock> _byOrg = new(StringComparer.Ordinal);

    public EmulatorClock? Get(string? organizationId)
    {
        if (organizationId is null) return null;
        return _byOrg.TryGetValue(organizationId, out var c) ? c : null;
    }

    /// <summary>Every distinct clock other than the global one.</summary>
    public List<EmulatorClock> All() => _byOrg.Values.Distinct().ToList();

    public void Set(IEnumerable<string> organizationIds, EmulatorClock clock)
    {
        lock (_sync)
        {
            var copy = new Dictionary<string, EmulatorClock>(_byOrg, StringComparer.Ordinal);
            foreach (var id in organizationIds) copy[id] = clock;
            _byOrg = copy;
        }
    }

    public void Remove(IEnumerable<string> organizationIds)
    {
        lock (_sync)
        {
            var copy = new Dictionary<string, EmulatorClock>(_byOrg, StringComparer.Ordinal);
            foreach (var id in organizationIds) copy.Remove(id);
            _byOrg = copy;
        }
    }

    public void Clear()
    {
        lock (_sync) _byOrg = new Dictionary<string, EmulatorClock>(StringComparer.Ordinal);
    }
}

/// <summary>
/// Resolves the clock an organization's work reads: its sandbox's own clock when it belongs to one
/// (<see cref="OrganizationClocks"/>), else the one global emulator clock.
/// </summary>
public sealed class ClockResolver(EmulatorClock global, OrganizationClocks own)
{
    public EmulatorClock For(string? organizationId) => own.Get(organizationId) ?? global;
    public EmulatorClock Global => global;
    /// <summary>The sandboxes' clocks (not the global one).</summary>
    public List<EmulatorClock> Others => own.All();
}
