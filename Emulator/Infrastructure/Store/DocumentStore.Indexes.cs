using System.Reflection;

namespace Fanfare.Emulator.Infrastructure.Store;

/// <summary>
/// The store's change stamp, for read caches beside the engines (<see cref="StoreReadCache{TKey,TValue}"/>): a number that is
/// different after every write that completed (commit or rollback of a transaction, <c>Clear</c>, <c>DeleteAll</c>), read
/// from a <c>long Generation</c> property or <c>_generation</c> field of this class when the store keeps one. It must change
/// before the store lock is released at the end of the outermost transaction, so a reader that computes its cached value
/// under the lock and tags it with the stamp read under the same lock never serves a value older than a write that was
/// acknowledged; values read inside a transaction are never cached. When the store keeps no such counter, <see cref="ChangeStamp"/> is null and every cache stays off (each
/// read computes its answer as before): never stale, only slower.
/// </summary>
public sealed partial class DocumentStore
{
    private static readonly Func<DocumentStore, long>? StampReader = FindStamp();

    private static readonly Func<DocumentStore, int>? DepthReader = FindDepth();

    /// <summary>The change stamp (see the type's remarks), or null when this store keeps none.</summary>
    public long? ChangeStamp => StampReader is { } read && DepthReader is not null ? read(this) : null;

    /// <summary>True while the calling thread is inside a transaction (call with the store lock held): what it reads may
    /// still be rolled back, so it is not cached.</summary>
    public bool InTransaction => DepthReader is not { } depth || depth(this) > 0;

    private static Func<DocumentStore, int>? FindDepth()
    {
        var f = typeof(DocumentStore).GetField("_depth", BindingFlags.Instance | BindingFlags.NonPublic);
        if (f is null || f.FieldType != typeof(int)) return null;
        var store = System.Linq.Expressions.Expression.Parameter(typeof(DocumentStore), "store");
        return System.Linq.Expressions.Expression.Lambda<Func<DocumentStore, int>>(System.Linq.Expressions.Expression.Field(store, f), store).Compile();
    }

    private static Func<DocumentStore, long>? FindStamp()
    {
        const BindingFlags flags = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;
        MemberInfo? member = typeof(DocumentStore).GetProperty("Generation", flags) is { PropertyType: var pt, CanRead: true } p && pt == typeof(long) ? p
            : typeof(DocumentStore).GetField("_generation", flags) is { FieldType: var ft } f && ft == typeof(long) ? f : null;
        if (member is null) return null;
        var store = System.Linq.Expressions.Expression.Parameter(typeof(DocumentStore), "store");
        var read = System.Linq.Expressions.Expression.MakeMemberAccess(store, member);
        return System.Linq.Expressions.Expression.Lambda<Func<DocumentStore, long>>(read, store).Compile();
    }
}

/// <summary>
/// A read cache tagged with the store's <see cref="DocumentStore.ChangeStamp"/>: a value computed under the store lock is
/// served again only while the stamp is unchanged, so any write (by any engine, a reset, a sandbox deletion, a snapshot
/// import, a rolled-back transaction) makes the next read compute afresh. Off (compute every time) when the store keeps no
/// stamp. Bounded: cleared when it holds more than <c>capacity</c> keys.
/// </summary>
public sealed class StoreReadCache<TKey, TValue>(DocumentStore store, int capacity = 10_000) where TKey : notnull
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<TKey, (long Stamp, TValue Value)> _entries = new();

    /// <summary>The cached value of <paramref name="key"/> when the store has not changed since it was computed, else
    /// <paramref name="compute"/>'s (run under the store lock) which is then cached.</summary>
    public TValue Get(TKey key, Func<TValue> compute)
    {
        if (store.ChangeStamp is not { } now) return compute();
        // A thread that holds the store lock (an engine step, a transaction) may be looking at its own uncommitted writes:
        // it reads the store, not the cache.
        if (!Monitor.IsEntered(store.Sync) && _entries.TryGetValue(key, out var hit) && hit.Stamp == now) return hit.Value;
        lock (store.Sync)
        {
            var stamp = store.ChangeStamp!.Value;
            var value = compute();
            if (store.InTransaction) return value; // uncommitted state: not for other readers
            if (_entries.Count >= capacity) _entries.Clear();
            _entries[key] = (stamp, value);
            return value;
        }
    }

    /// <summary>The cached value of <paramref name="key"/> when the store has not changed since it was computed.</summary>
    public bool TryGet(TKey key, out TValue value)
    {
        if (store.ChangeStamp is { } now && !Monitor.IsEntered(store.Sync) && _entries.TryGetValue(key, out var hit) && hit.Stamp == now)
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
        if (store.InTransaction) return;
        if (_entries.Count >= capacity) _entries.Clear();
        _entries[key] = (stamp, value);
    }

    /// <summary>Drops everything (not needed for correctness; frees memory after a reset).</summary>
    public void Clear() => _entries.Clear();
}
