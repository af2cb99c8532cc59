using System.Security.Cryptography;
using System.Text;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Infrastructure.Ids;

/// <summary>Persisted counter behind <see cref="IdGenerator"/> (one document per stream).</summary>
[SharedAcrossModes]
public sealed class IdCounter : IDocument
{
    public string Id { get; set; } = "";
    public long Value { get; set; }
}

/// <summary>
/// Deterministic ids, codes and secrets: every value is HMAC-SHA256(seed, stream + counter), counters live in the store,
/// and time-ordered ids take their time from the emulator clock. Same seed + same calls + frozen clock ⇒ same values,
/// on every machine. The seed is the seed file's <c>randomSeed</c>.
/// <para>Inside a <see cref="SeedScope"/> (the seed loader opens one per organization and feature, experiences one per
/// sequence) UUIDs are not time-ordered: they are derived from the scope's name, the stream and the rank within the
/// scope, so every seeded id (consumers, queues, draws …) is the same on every start, whatever the clock says.</para>
/// </summary>
public sealed class IdGenerator(DocumentStore store, EmulatorClock clock)
{
    private byte[] _key = Encoding.UTF8.GetBytes("fanfare-emulator");
    private readonly AsyncLocal<string?> _seedScope = new();
    private readonly Dictionary<string, int> _seedCounters = [];

    /// <summary>
    /// While the returned handle is not disposed (same async flow), <see cref="NewUuid"/> derives ids from
    /// <paramref name="scope"/> (e.g. <c>Fanfare Demo/Sneaker Drop — Queue/General access</c>) instead of the clock.
    /// </summary>
    public IDisposable SeedScope(string scope)
    {
        var previous = _seedScope.Value;
        _seedScope.Value = scope;
        return new ScopeHandle(() => _seedScope.Value = previous);
    }

    /// <summary>Forgets the per-scope counters (the seed loader calls it before applying the seed).</summary>
    public void ResetSeedScopes()
    {
        lock (_seedCounters) _seedCounters.Clear();
    }

    /// <summary>Forgets the counters of the scopes starting with <paramref name="prefix"/> (a sandbox re-seeded).</summary>
    public void ResetSeedScopes(string prefix)
    {
        lock (_seedCounters)
            foreach (var k in _seedCounters.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).ToList())
                _seedCounters.Remove(k);
    }

    private sealed class ScopeHandle(Action restore) : IDisposable
    {
        public void Dispose() => restore();
    }

    /// <summary>Sets the seed (called by the seed loader before anything else is generated; a snapshot import sets the
    /// snapshot's).</summary>
    public void SetSeed(string seed)
    {
        _key = Encoding.UTF8.GetBytes(seed);
        Seed = seed;
    }

    /// <summary>The seed values derive from (the seed file's <c>randomSeed</c>); with the counters (<see cref="IdCounter"/>
    /// documents) it is all that decides the next values, so a snapshot carries it.</summary>
    public string Seed { get; private set; } = "fanfare-emulator";

    /// <summary>32 deterministic bytes for the next value of <paramref name="stream"/>.</summary>
    public byte[] NextBytes(string stream)
    {
        long n = store.Transaction(() =>
        {
            var c = store.Get<IdCounter>(stream) ?? new IdCounter { Id = stream };
            c.Value++;
            store.Put(c);
            return c.Value;
        });
        return HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes($"{stream}#{n}"));
    }

    /// <summary>A UUIDv7 (time-ordered, as the SDK documents for consumer ids) from the emulator clock and seeded bits;
    /// inside a <see cref="SeedScope"/>, a name-derived UUID.</summary>
    public string NewUuid(string stream)
    {
        if (_seedScope.Value is { } scope)
        {
            int n;
            lock (_seedCounters)
            {
                var key = scope + "\n" + stream;
                n = _seedCounters[key] = _seedCounters.GetValueOrDefault(key) + 1;
            }
            return DeriveUuid("seed/" + stream, $"{scope}#{n}");
        }
        var bytes = NextBytes(stream);
        var ms = clock.GetUtcNow().ToUnixTimeMilliseconds();
        Span<byte> b = stackalloc byte[16];
        bytes.AsSpan(0, 16).CopyTo(b);
        b[0] = (byte)(ms >> 40); b[1] = (byte)(ms >> 32); b[2] = (byte)(ms >> 24);
        b[3] = (byte)(ms >> 16); b[4] = (byte)(ms >> 8); b[5] = (byte)ms;
        b[6] = (byte)(0x70 | (b[6] & 0x0F));
        b[8] = (byte)(0x80 | (b[8] & 0x3F));
        return FormatUuid(b);
    }

    /// <summary><c>prefix</c> + 24 lowercase base-32 characters, e.g. <c>exc_9x…</c>.</summary>
    public string NewPrefixed(string prefix, int length = 24) => prefix + Base32(NextBytes(prefix), length);

    /// <summary>A 6-digit numeric one-time code.</summary>
    public string NewNumericCode(string stream, int digits = 6)
    {
        var v = BitConverter.ToUInt64(NextBytes(stream), 0);
        return (v % (ulong)Math.Pow(10, digits)).ToString().PadLeft(digits, '0');
    }

    /// <summary>A stable value derived from a name only (no counter): organization ids and well-known keys.</summary>
    /// <remarks>Pure, so memoized (a reset re-derives the same organization keys and seeded ids every time); the caller
    /// gets its own copy.</remarks>
    public static byte[] Derive(string purpose, string name)
        => (byte[])Memo(DerivedBytes, purpose, name, static (p, n) => DeriveUncached(p, n)).Clone();

    private static byte[] DeriveUncached(string purpose, string name)
        => HMACSHA256.HashData(Encoding.UTF8.GetBytes("fanfare-emulator/" + purpose), Encoding.UTF8.GetBytes(name));

    /// <summary>Name-based UUID (version 8 layout over SHA-256), stable for the same name on every machine.</summary>
    public static string DeriveUuid(string purpose, string name) => Memo(DerivedUuids, purpose, name, static (p, n) =>
    {
        var b = DeriveUncached(p, n).AsSpan(0, 16).ToArray();
        b[6] = (byte)(0x80 | (b[6] & 0x0F));
        b[8] = (byte)(0x80 | (b[8] & 0x3F));
        return FormatUuid(b);
    });

    // Bounded memo tables for the pure derivations above (cleared when full: names include sandbox names and seed scopes).
    private const int MemoLimit = 8192;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string, string), byte[]> DerivedBytes = new();
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string, string), string> DerivedUuids = new();

    private static T Memo<T>(System.Collections.Concurrent.ConcurrentDictionary<(string, string), T> table, string purpose, string name,
        Func<string, string, T> compute)
    {
        if (table.TryGetValue((purpose, name), out var v)) return v;
        v = compute(purpose, name);
        if (table.Count >= MemoLimit) table.Clear();
        table.TryAdd((purpose, name), v);
        return v;
    }

    private static string FormatUuid(ReadOnlySpan<byte> b)
    {
        var hex = Convert.ToHexString(b).ToLowerInvariant();
        return $"{hex[..8]}-{hex[8..12]}-{hex[12..16]}-{hex[16..20]}-{hex[20..32]}";
    }

    private const string Alphabet = "0123456789abcdefghjkmnpqrstvwxyz";

    public static string Base32(byte[] bytes, int length)
    {
        var sb = new StringBuilder(length);
        int buffer = 0, bits = 0, i = 0;
        while (sb.Length < length)
        {
            if (bits < 5)
            {
                buffer = (buffer << 8) | bytes[i++ % bytes.Length];
                bits += 8;
            }
            sb.Append(Alphabet[(buffer >> (bits - 5)) & 31]);
            bits -= 5;
        }
        return sb.ToString();
    }
}
