namespace Fanfare.Emulator.Distributions.Draws;

/// <summary>
/// A small deterministic PRNG (xoshiro256**) seeded from 32 bytes, e.g. <c>IdGenerator.NextBytes("draw:"+drawId)</c>:
/// the same seed bytes give the same sequence on every machine and .NET version (unlike <see cref="Random"/>'s
/// unseeded or implementation-defined streams).
/// </summary>
public sealed class SeededRandom
{
    private ulong _s0, _s1, _s2, _s3;

    public SeededRandom(byte[] seed)
    {
        if (seed.Length < 32) throw new ArgumentException("32 seed bytes are required", nameof(seed));
        _s0 = BitConverter.ToUInt64(seed, 0); _s1 = BitConverter.ToUInt64(seed, 8);
        _s2 = BitConverter.ToUInt64(seed, 16); _s3 = BitConverter.ToUInt64(seed, 24);
        if ((_s0 | _s1 | _s2 | _s3) == 0) _s0 = 0x9E3779B97F4A7C15UL;
    }

    private static ulong Rotl(ulong x, int k) => (x << k) | (x >> (64 - k));

    public ulong NextUInt64()
    {
        var result = Rotl(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t;
        _s3 = Rotl(_s3, 45);
        return result;
    }

    /// <summary>Uniform integer in [0, <paramref name="bound"/>) without modulo bias (rejection sampling).</summary>
    public int Next(int bound)
    {
        if (bound <= 0) throw new ArgumentOutOfRangeException(nameof(bound));
        var b = (ulong)bound;
        var limit = ulong.MaxValue - ulong.MaxValue % b;
        ulong v;
        do v = NextUInt64(); while (v >= limit);
        return (int)(v % b);
    }

    /// <summary>Fisher–Yates shuffle in place.</summary>
    public void Shuffle<T>(IList<T> items)
    {
        for (int i = items.Count - 1; i > 0; i--)
        {
            var j = Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
