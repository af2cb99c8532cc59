using LiteDB;

namespace Fanfare.Emulator.Infrastructure.Store;

/// <summary>
/// A reset written as one document (issue 11/15, reset row): the transaction that clears the store and refills it
/// (<c>POST /_emulator/reset</c>, a state import) is committed as its <b>reset image</b>, the JSON of every document it
/// leaves, framed into one binary field of <c>_store["reset"]</c>, instead of one LiteDB insert or update per document
/// (each converted to BSON). The image is as durable as the documents were: it is in the file when the
/// reset answers.
/// <para>The documents are then <b>materialized</b> (written to their collections as any commit writes them) while the
/// store is idle (no commit for 50 ms), or by the next commit first, in the same LiteDB transaction as its own writes, so
/// a collection never holds a document newer than the image while the image is in the file. Until then the file's
/// collections of the current generation are stale (an in-place reset) or empty (one that switched generation): a start
/// that finds an image (the process was killed in between) empties them and writes the image's documents into them
/// before it reads anything. A graceful stop materializes, so a stopped emulator's file is browsable as before.</para>
/// <para>In memory, the image's documents stay in the overlay of queued commits (what <c>Committed</c> reads over the
/// file) until they are materialized.</para>
/// </summary>
public sealed partial class DocumentStore
{
    /// <summary>A clearing transaction whose documents' JSON is at most this large is committed as a reset image
    /// (the default seed writes ≈ 0.1 MB; LiteDB's largest document is 16 MB).</summary>
    private const int ResetImageLimit = 4 << 20;

    private const string ResetImageId = "reset";

    /// <summary>Reset images in the file whose documents are not in their collections yet, oldest first (commit lock).
    /// More than one when in-place resets follow one another before the store is idle: the later ones' deletes are
    /// relative to the earlier ones, so all are written, in order (the last write of a document wins).</summary>
    private readonly List<PendingTx> _unmaterialized = [];

    /// <summary>1 while a materialization is scheduled or running.</summary>
    private int _materializing;

    /// <summary>False: images are materialized only by the next commit or the stop (tests that look at the file between).</summary>
    internal bool MaterializeWhenIdle { get; set; } = true;

    /// <summary>The longest id (UTF-8 bytes) a reset image may hold: LiteDB refuses index keys (the <c>_id</c> index) over
    /// 1,023 bytes when a document is written to its collection, and an image must never hold a document its
    /// materialization would refuse (every later commit writes the image first). A transaction with a longer one is
    /// committed document by document, as before, and LiteDB's refusal fails it there.</summary>
    private const int ResetImageKeyLimit = 512;

    /// <summary>Whether <paramref name="writes"/> of a clearing transaction go to the file as a reset image: their JSON is
    /// at most <see cref="ResetImageLimit"/> bytes and every id at most <see cref="ResetImageKeyLimit"/>.</summary>
    private static bool FitsResetImage(List<PendingWrite> writes)
    {
        long size = 0;
        foreach (var w in writes)
        {
            if (w.Json is null) continue;
            size += w.Json.Length;
            if (size > ResetImageLimit || !ShortKey(w.Id)) return false;
        }
        return true;
    }

    private static bool ShortKey(string s) => s.Length <= ResetImageKeyLimit / 3 || System.Text.Encoding.UTF8.GetByteCount(s) <= ResetImageKeyLimit;

    /// <summary>Commits <paramref name="tx"/> (a clearing transaction alone in its batch) as the file's reset image, with
    /// the generation it switches to, in one LiteDB transaction (commit lock held).</summary>
    private void WriteResetImage(PendingTx tx)
    {
        var image = Frame(tx.Writes);
        if (!_db.BeginTrans()) throw new InvalidOperationException("a LiteDB transaction is already open on the commit thread");
        try
        {
            var meta = _db.GetCollection(MetaCollection);
            if (tx.NewGeneration is { } g) meta.Upsert(new BsonDocument { ["_id"] = "generation", ["value"] = g });
            meta.Upsert(new BsonDocument { ["_id"] = ResetImageId, ["documents"] = image });
            _db.Commit();
        }
        catch
        {
            try { _db.Rollback(); } catch { /* already gone */ }
            throw;
        }
        if (tx.NewGeneration is not null)
        {
            // The earlier images wrote into a generation the file has left: nothing of theirs needs writing.
            lock (_pendingLock)
                foreach (var old in _unmaterialized) ForgetOverlay(old);
            _unmaterialized.Clear();
        }
        tx.InImage = true;
        _unmaterialized.Add(tx);
        AfterCommit(image.Length / 8192 + 4, 1, tx.NewGeneration is not null, false);
        StartMaterialize();
    }

    /// <summary>Removes <paramref name="tx"/>'s entries from the overlay (those no later transaction replaced); under
    /// <see cref="_pendingLock"/>.</summary>
    private void ForgetOverlay(PendingTx tx)
    {
        foreach (var w in tx.Writes)
            if (_overlay.TryGetValue(w.Collection, out var o) && o.TryGetValue(w.Id, out var v) && v.TxNo == tx.No)
            {
                o.Remove(w.Id);
                if (o.Count == 0) _overlay.Remove(w.Collection);
            }
    }

    /// <summary>Writes the reset images' documents to their collections once the store is idle (background).</summary>
    private void StartMaterialize()
    {
        if (!MaterializeWhenIdle) return;
        if (Interlocked.Exchange(ref _materializing, 1) != 0) return; // (the running one looks again before it ends)
        Task.Run(async () =>
        {
            var failed = false;
            try
            {
                var seen = -1L;
                while (true)
                {
                    seen = await WaitUntilIdleAsync(seen);
                    lock (_commitLock)
                    {
                        if (_disposed || _unmaterialized.Count == 0) break;
                        if (Volatile.Read(ref _commits) != seen) continue; // (a commit came meanwhile: wait again)
                        Materialize();
                        break;
                    }
                }
            }
            catch (Exception) { failed = true; /* best effort: the next commit, the stop or the next start writes them */ }
            finally
            {
                Volatile.Write(ref _materializing, 0);
                bool again;
                lock (_commitLock) again = !failed && !_disposed && _unmaterialized.Count > 0; // (an image written as this one ended)
                if (again) StartMaterialize();
            }
        });
    }

    /// <summary>Writes every reset image's documents to their collections now, in one LiteDB transaction, and removes the
    /// image (commit lock held). Background housekeeping: a commit of no transaction, not counted in <see cref="FileCommits"/>.</summary>
    private void Materialize()
    {
        if (_unmaterialized.Count > 0) WriteAll([]);
    }

    /// <summary>Writes every reset image's documents to their collections (tests; the idle step's work).</summary>
    internal void MaterializeNow()
    {
        lock (_commitLock)
            if (!_disposed) Materialize();
    }

    /// <summary>Whether the file holds a reset image not written to its collections yet (tests).</summary>
    internal bool HasResetImage()
    {
        lock (_commitLock) return _db.GetCollection(MetaCollection).FindById(ResetImageId) is not null;
    }

    /// <summary>
    /// At open: a reset image left in the file (the process stopped before it was materialized) replaces the current
    /// generation's collections: they are emptied and the image's documents inserted, and the image is
    /// removed, in one LiteDB transaction.
    /// </summary>
    private void RecoverResetImage()
    {
        var meta = _db.GetCollection(MetaCollection);
        if (meta.FindById(ResetImageId)?["documents"] is not { IsBinary: true } image) return;
        if (!_db.BeginTrans()) throw new InvalidOperationException("a LiteDB transaction is already open");
        try
        {
            foreach (var name in _slots.Select(s => CollectionName(s, _gen)))
                if (_existing.Contains(name)) _db.GetCollection(name).DeleteAll();
            foreach (var group in Unframe(image.AsBinary).GroupBy(d => d.Collection, StringComparer.OrdinalIgnoreCase))
            {
                var col = _db.GetCollection(group.Key, BsonAutoId.ObjectId);
                var docs = group.Select(d => BsonOf(d.Json, d.Id, d.Seq)).ToList();
                col.InsertBulk(docs, docs.Count);
            }
            meta.Delete(ResetImageId);
            _db.Commit();
        }
        catch
        {
            try { _db.Rollback(); } catch { /* already gone */ }
            throw;
        }
        _existing.Clear();
        _existing.UnionWith(_db.GetCollectionNames());
    }

    /// <summary>The documents (not the deletes) of <paramref name="writes"/>: count, then per document its collection, id,
    /// sequence number and JSON.</summary>
    private static byte[] Frame(List<PendingWrite> writes)
    {
        // Sized exactly up front: one array, no growing buffer (the default seed's image, ≈ 75 KB, stays off the large
        // object heap; a 128 KB growth step would land on it at every reset).
        var size = 4L;
        foreach (var x in writes)
            if (x.Json is not null) size += StringSize(x.Collection) + StringSize(x.Id) + 8 + 4 + x.Json.Length;
        var image = new byte[size];
        using var buffer = new MemoryStream(image, writable: true);
        using (var w = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write(writes.Count(x => x.Json is not null));
            foreach (var x in writes)
            {
                if (x.Json is null) continue;
                w.Write(x.Collection);
                w.Write(x.Id);
                w.Write(x.Seq);
                w.Write(x.Json.Length);
                w.Write(x.Json);
            }
        }
        return image;
    }

    /// <summary>What <see cref="BinaryWriter.Write(string)"/> writes: the UTF-8 length as a 7-bit encoded integer, then the bytes.</summary>
    private static int StringSize(string s)
    {
        var n = System.Text.Encoding.UTF8.GetByteCount(s);
        var prefix = 1;
        for (var v = (uint)n >> 7; v != 0; v >>= 7) prefix++;
        return prefix + n;
    }

    private static List<(string Collection, string Id, long Seq, byte[] Json)> Unframe(byte[] image)
    {
        using var r = new BinaryReader(new MemoryStream(image), System.Text.Encoding.UTF8);
        var n = r.ReadInt32();
        var docs = new List<(string, string, long, byte[])>(n);
        for (var i = 0; i < n; i++) docs.Add((r.ReadString(), r.ReadString(), r.ReadInt64(), r.ReadBytes(r.ReadInt32())));
        return docs;
    }
}
