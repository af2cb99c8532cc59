using LiteDB;

namespace Fanfare.Emulator.Infrastructure.Store;

/// <summary>
/// The next generation's collections, created ahead (issue 11/15, reset row): a reset that switches generation (one that
/// drops thousands of documents) then only inserts into empty collections that already exist, instead of creating each
/// collection inside its own commit.
/// <para>While the file is at generation <c>g</c>, the collections of generation <c>g + 1</c> are "prepared": created
/// empty by a background step while the store is idle (after start and after every switch), for the
/// kinds the current generation has collections for. They hold no document until the commit that switches to
/// <c>g + 1</c> (which writes the new generation number in the same LiteDB transaction), so a crash leaves them empty and
/// the next start finds them ready again. They are not stale (<see cref="StaleCollections"/> skips them); collections of
/// any other generation are, and are dropped in the background as before.</para>
/// </summary>
public sealed partial class DocumentStore
{
    /// <summary>Collections of the next generation that exist and are known to be empty (commit leader only). A write into
    /// one takes it out; a failed LiteDB transaction empties the set (the next preparation finds them again).</summary>
    private readonly HashSet<string> _prepared = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The id of the document inserted and deleted to create a prepared collection.</summary>
    private const string PreparePlaceholder = "\u0000prepared";

    /// <summary>1 while a preparation is scheduled or running.</summary>
    private int _preparing;

    /// <summary>Bumped by every request for a preparation: the running one prepares again if it changed meanwhile.</summary>
    private int _prepareRequests;

    /// <summary>Prepares the next generation in the background once the store is idle (no commit for 50 ms).</summary>
    private void StartPrepareNext()
    {
        Interlocked.Increment(ref _prepareRequests);
        if (Interlocked.Exchange(ref _preparing, 1) != 0) return; // (the running one looks again before it ends)
        Task.Run(async () =>
        {
            var requests = 0;
            try
            {
                while (true)
                {
                    requests = Volatile.Read(ref _prepareRequests);
                    await WaitUntilIdleAsync(-1);
                    PrepareNext();
                    if (Volatile.Read(ref _prepareRequests) == requests || _disposed) break;
                }
            }
            catch (Exception) { /* best effort: a switch without prepared collections creates them itself */ }
            finally
            {
                Volatile.Write(ref _preparing, 0);
                // (a request that came after the last look, while this one was ending)
                if (!_disposed && Volatile.Read(ref _prepareRequests) != requests) StartPrepareNext();
            }
        });
    }

    /// <summary>Creates (empty) the collections of the generation after the file's, for every kind
    /// that has a collection in the file's generation; one LiteDB transaction under the commit lock. Returns how many
    /// collections of the next generation are ready.</summary>
    internal int PrepareNext()
    {
        lock (_commitLock)
        {
            if (_disposed) return 0;
            var gen = FileGeneration();
            var wanted = new List<string>();
            foreach (var slot in _slots)
                if (_existing.Contains(CollectionName(slot, gen)) && CollectionName(slot, gen + 1) is var next && !_prepared.Contains(next))
                    wanted.Add(next);
            if (wanted.Count == 0) return _prepared.Count;
            if (!_db.BeginTrans()) throw new InvalidOperationException("a LiteDB transaction is already open on the background thread");
            var added = new List<string>();
            try
            {
                foreach (var name in wanted)
                {
                    var col = _db.GetCollection(name, BsonAutoId.ObjectId);
                    if (_existing.Contains(name))
                    {
                        if (col.Count() != 0) continue; // (not expected: never written before the switch to it)
                    }
                    else
                    {
                        // Creates the collection (LiteDB has no call for that: EnsureIndex("_id") returns early, since the
                        // primary key index always exists); the placeholder never reaches a commit's readers.
                        col.Insert(new BsonDocument { ["_id"] = PreparePlaceholder });
                        col.Delete(PreparePlaceholder);
                    }
                    added.Add(name);
                }
                _db.Commit();
            }
            catch
            {
                try { _db.Rollback(); } catch { /* already gone */ }
                _existing.Clear();
                _existing.UnionWith(_db.GetCollectionNames());
                throw;
            }
            foreach (var name in added)
            {
                _existing.Add(name);
                _prepared.Add(name);
            }
            _writtenSinceCheckpoint += added.Count;
            return _prepared.Count;
        }
    }

    /// <summary>How many collections of the next generation are prepared (tests).</summary>
    internal int PreparedCount()
    {
        lock (_commitLock) return _prepared.Count;
    }
}
