namespace Fanfare.Emulator.Infrastructure.Store;

/// <summary>What <see cref="Clear"/> (<c>POST /_emulator/reset</c>, a snapshot import) keeps so that refilling the store
/// costs less than filling it the first time.</summary>
public sealed partial class DocumentStore
{
    /// <summary>At most this many entries are reserved up front for a table re-created after <see cref="Clear"/> (the
    /// default seed's largest table holds ~15 documents; a table that held thousands grows again as usual).</summary>
    private const int ReservedAfterClear = 64;

    /// <summary>The initial capacity of a new table: inside the transaction that cleared the store, as many entries as
    /// the table held before (a reset refills the tables with the same seed), up to <see cref="ReservedAfterClear"/>;
    /// otherwise none. Capacity changes no order: tables iterate in insertion order whatever they reserved.</summary>
    private int TableCapacity(Slot s) =>
        _journal?.BeforeClear is { } before && before.TryGetValue(s, out var old) ? Math.Min(old.Count, ReservedAfterClear) : 0;

    /// <summary>Every slot a document can be stored under (kinds × partitions), fixed at construction: walked as an array,
    /// whose code needs no JIT compilation, where a reset would otherwise enumerate a dictionary keyed by <see cref="Slot"/>.</summary>
    private Slot[] _slots = [];

    /// <summary>The documents a clearing transaction removes for good (in <see cref="Journal.BeforeClear"/>, not in memory
    /// now), counted up to <paramref name="limit"/>; with <paramref name="deletes"/>, each one not written since the clear is
    /// added as a delete in the current generation.</summary>
    private int RemovedByClear(Journal journal, List<PendingWrite>? deletes, int limit)
    {
        var before = journal.BeforeClear!;
        var n = 0;
        var seen = 0;
        foreach (var slot in _slots)
        {
            if (!before.TryGetValue(slot, out var old)) continue;
            seen++;
            n = CountRemoved(journal, slot, old, deletes, n, limit);
            if (n >= limit) return n;
        }
        if (seen < before.Count) // (a table under a slot outside the known kinds: not expected, but never missed)
            foreach (var (slot, old) in before)
                if (Array.IndexOf(_slots, slot) < 0 && (n = CountRemoved(journal, slot, old, deletes, n, limit)) >= limit) return n;
        return n;
    }

    private int CountRemoved(Journal journal, Slot slot, OrderedDictionary<string, Entry> old, List<PendingWrite>? deletes, int n, int limit)
    {
        _docs.TryGetValue(slot, out var now);
        foreach (var id in old.Keys)
        {
            if (now is not null && now.ContainsKey(id)) continue;
            if (deletes is not null && !journal.Dirty.Contains((slot, id))) deletes.Add(new PendingWrite(slot, CollectionName(slot, _gen), id, 0, null));
            if (++n >= limit) break;
        }
        return n;
    }

    /// <summary>
    /// Until the result is disposed, transactions of this flow wait for their own commits (the calling thread writes the
    /// group commit) even inside a request whose commit waits are deferred (<see cref="DeferCommits"/>): for one large
    /// step whose caller answers only once it is in the file anyway (<c>POST /_emulator/reset</c>), this saves the
    /// hand-off to the thread-pool committer and back. Synchronous use only (no await before the dispose).
    /// </summary>
    public CommitInPlaceScope CommitInPlace()
    {
        var scope = new CommitInPlaceScope(this, _deferred.Value);
        if (scope.Previous is not null) _deferred.Value = null;
        return scope;
    }

    /// <summary>What <see cref="CommitInPlace"/> returns: restores the deferral it suspended.</summary>
    public readonly struct CommitInPlaceScope : IDisposable
    {
        private readonly DocumentStore _store;
        internal readonly CommitScope? Previous;

        internal CommitInPlaceScope(DocumentStore store, CommitScope? previous)
        {
            _store = store;
            Previous = previous;
        }

        public void Dispose()
        {
            if (Previous is not null) _store._deferred.Value = Previous;
        }
    }
}
