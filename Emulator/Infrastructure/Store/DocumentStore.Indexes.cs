namespace Fanfare.Emulator.Infrastructure.Store;

/// <summary>
/// The store's change stamp, for read caches beside the engines (<see cref="StoreReadCache{TKey,TValue}"/>): a number that is
/// different after every write that completed (the end of every outermost transaction, committed or rolled back — which
/// covers <c>Put</c>, <c>Delete</c>, <c>Clear</c>, <c>DeleteAll</c>, a reset, a sandbox deletion, a snapshot import — and
/// the rollback of a group commit LiteDB refused). It changes before the store lock is released, so a reader that computes
/// its cached value under the lock and tags it with the stamp read under the same lock never serves a value older than a
/// write that was acknowledged; values read inside a transaction are never cached.
/// </summary>
public sealed partial class DocumentStore
{
    /// <summary>The change stamp (see the type's remarks). Read it with the store lock held.</summary>
    public long ChangeStamp => _changeStamp;

    /// <summary>Bumped by whatever may change documents of every kind at once: a reset (<see cref="Clear"/>), a
    /// rollback (memory put back from the file), a refused group commit. Under <see cref="_sync"/>.</summary>
    private long _epoch;

    /// <summary>One counter per document kind, bumped at the end of every outermost transaction that wrote or deleted a
    /// document of that kind (index: <see cref="_kindIndex"/>). Written under <see cref="_sync"/>, read without it.</summary>
    private long[] _kindStamps = [];
    private Dictionary<Type, int> _kindIndex = [];

    /// <summary>The change stamp of the documents of <paramref name="kinds"/> only (see <see cref="StoreReadCache{TKey,TValue}"/>):
    /// different after any write of one of them, and after a reset, rollback or refused commit. Every counter it adds up
    /// only grows, so the sum changes whenever one of them does.</summary>
    public long ChangeStampOf(int[] kinds)
    {
        var stamp = Volatile.Read(ref _epoch);
        foreach (var k in kinds) stamp += Volatile.Read(ref _kindStamps[k]);
        return stamp;
    }

    /// <summary>The counters of <paramref name="types"/> for <see cref="ChangeStampOf"/>.</summary>
    public int[] KindIndexes(Type[] types) =>
        types.Select(t => _kindIndex.TryGetValue(t, out var i) ? i : throw new InvalidOperationException($"{t.Name} is not a document type")).ToArray();

    private void IndexKinds()
    {
        _kindIndex = _kindOf.Keys.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i);
        _kindStamps = new long[_kindIndex.Count];
    }

    /// <summary>At the end of an outermost transaction (under the lock): the kinds it wrote get new stamps; a reset changes all.</summary>
    private void StampKinds(Journal journal)
    {
        if (journal.Cleared) _epoch++;
        foreach (var (slot, _) in journal.Dirty)
            if (_kindIndex.TryGetValue(slot.Type, out var i)) Volatile.Write(ref _kindStamps[i], _kindStamps[i] + 1);
    }

    /// <summary>True while the calling thread is inside a transaction (call with the store lock held): what it reads may
    /// still be rolled back, so it is not cached.</summary>
    public bool InTransaction => _depth > 0;
}

/// <summary>
/// A read cache tagged with the store's <see cref="DocumentStore.ChangeStamp"/>: a value computed under the store lock is
/// served again only while the stamp is unchanged, so any write (by any engine, a reset, a sandbox deletion, a snapshot
/// import, a rolled-back transaction) makes the next read compute afresh. Bounded: cleared when it holds more than <c>capacity</c> keys.
/// <para>A cache whose values are read from documents of known kinds only (a session, an organization) names them
/// (<paramref name="dependsOn"/>) and is tagged with <see cref="DocumentStore.ChangeStampOf"/> instead: writes of other
/// kinds (a queue entry, an event) leave it valid; a write of one of them, a reset or a rollback does not.</para>
/// </summary>
public sealed class StoreReadCache<TKey, TValue>(DocumentStore store, int capacity = 10_000, params Type[] dependsOn) where TKey : notnull
{
    private readonly int[]? _kinds = dependsOn.Length > 0 ? store.KindIndexes(dependsOn) : null;

    private long Stamp => _kinds is null ? store.ChangeStamp : store.ChangeStampOf(_kinds);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<TKey, (long Stamp, TValue Value)> _entries = new();

    /// <summary>The cached value of <paramref name="key"/> when the store has not changed since it was computed, else
    /// <paramref name="compute"/>'s (run under the store lock) which is then cached.</summary>
    public TValue Get(TKey key, Func<TValue> compute)
    {
        if (TryGet(key, out var cached)) return cached;
        lock (store.Sync)
        {
            var stamp = Stamp;
            var value = compute();
            Set(key, stamp, value);
            return value;
        }
    }

    /// <summary>The cached value of <paramref name="key"/> when the store has not changed since it was computed. A thread
    /// that holds the store lock (an engine step, a transaction) may be looking at its own uncommitted writes: it reads
    /// the store, not the cache.</summary>
    public bool TryGet(TKey key, out TValue value)
    {
        if (!Monitor.IsEntered(store.Sync) && _entries.TryGetValue(key, out var hit) && hit.Stamp == Stamp)
        {
            value = hit.Value;
            return true;
        }
        value = default!;
        return false;
    }

    /// <summary>Caches <paramref name="value"/>, computed under the store lock at <paramref name="stamp"/> (read under the same hold).</summary>
    public void Set(TKey key, long stamp, TValue value)
    {
        if (store.InTransaction) return; // uncommitted state: not for other readers
        if (_entries.Count >= capacity) _entries.Clear();
        _entries[key] = (stamp, value);
    }

    /// <summary>Drops everything (not needed for correctness; frees memory after a reset).</summary>
    public void Clear() => _entries.Clear();
}
