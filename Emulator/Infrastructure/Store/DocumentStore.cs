using System.Collections;
using System.Reflection;
using System.Text.Json;
using LiteDB;
using JsonSerializer = System.Text.Json.JsonSerializer;

namespace Fanfare.Emulator.Infrastructure.Store;

/// <summary>Anything kept in the store: one LiteDB document per object, in the collection of its kind, keyed by <c>_id</c>.</summary>
public interface IDocument
{
    string Id { get; }
}

/// <summary>Overrides the kind name under which a document type is stored (default: the type's name).</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class DocumentKindAttribute(string kind) : Attribute
{
    public string Kind { get; } = kind;
}

/// <summary>
/// A document kind that belongs to no mode: one copy serves test and live (organizations, id counters, scheduled jobs,
/// the inbox). Every other kind is kept apart per mode (behavior.md §1.3: test and live data are isolated).
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class SharedAcrossModesAttribute : Attribute;

/// <summary>The two data modes of behavior.md §1.3, chosen by the key (<c>sk_test_…</c> / <c>sk_live_…</c>).</summary>
public static class StoreModes
{
    public const string Test = "test", Live = "live";
    public static readonly string[] All = [Test, Live];
    public static string Normalize(string? mode) => mode == Live ? Live : Test;
}

/// <summary>Raised at start when the data directory holds a file this build cannot open (e.g. the SQLite store of 0.1).</summary>
public sealed class DataDirectoryException(string message) : Exception(message);

/// <summary>
/// The emulator's single store: LiteDB in one file (<c>emulator.db</c> + its write-ahead log <c>emulator-log.db</c>) or
/// in memory, one collection per document kind (ids as <c>_id</c>), with the live objects kept in memory for reads.
/// All access is serialized by one reentrant lock; <see cref="Transaction{T}"/> groups several writes into one atomic
/// step for concurrent callers (parallel bids never lose an update). A transaction that fails is rolled back in memory:
/// every object it read or wrote is put back as the committed state holds it, in place (engines keep their references).
/// <para><b>Group commit.</b> A transaction does its work in memory under the lock and snapshots what it wrote (each dirty
/// document once, as JSON) into a queue; whoever gets the commit lock next writes every transaction queued so far in one
/// LiteDB transaction, in the order they ran (a transaction that saw another's writes is never durable without them).
/// Outside a request the caller waits for that: it takes the commit lock itself, and finds its transaction committed or
/// commits the queue. Inside a request (<see cref="DeferCommits"/>) it does not wait: a thread-pool committer writes the
/// queue, and the request awaits its transactions before the first byte of its response — either way a write
/// acknowledged to a client is in the file. Until committed, the queued snapshots are the "committed state" a rollback
/// restores from (file + queue). A document a transaction created is written with an insert, others with an upsert.</para>
/// <para><b>Reset generations.</b> <see cref="Clear"/> does not delete documents one by one: the transaction that clears
/// writes into a new generation of collections (<c>Kind</c> at generation 0, then <c>Kind_1</c>, <c>Kind_2</c> …) and
/// switches the generation number in the <c>_store</c> collection in the same LiteDB transaction, so a crash leaves
/// either the old state or the new one. The previous generation's collections are dropped afterwards, in the background
/// (and at start, if a crash left some).</para>
/// <para>Test and live data are separate partitions (collections <c>Kind</c> and <c>live_Kind</c>); which one a call
/// sees is the ambient <see cref="Mode"/>, set per request from the credentials (<see cref="UseMode"/>).</para>
/// Engines must check inputs before mutating documents: objects read are the live ones.
/// </summary>
public sealed partial class DocumentStore : IDisposable
{
    internal sealed class Entry(IDocument doc, long seq)
    {
        public IDocument Doc = doc;
        public readonly long Seq = seq;
    }

    internal readonly record struct Slot(string Partition, Type Type);

    /// <summary>What the outermost transaction handed out or changed, to put back if it throws.</summary>
    internal sealed class Journal
    {
        public readonly HashSet<(Slot, string)> Docs = [];
        public readonly HashSet<Slot> Kinds = [];
        public readonly Dictionary<(Slot, string), IDocument> Removed = [];
        /// <summary>Documents written or deleted: snapshotted once each, at commit, as memory then holds them.</summary>
        public readonly HashSet<(Slot, string)> Dirty = [];
        /// <summary>Documents this transaction added that were not stored before it (nor queued): written with a LiteDB
        /// insert, which skips the lookup an upsert makes (or not written at all when the transaction also deleted them).</summary>
        public readonly HashSet<(Slot, string)> Created = [];
        public bool Cleared;
        /// <summary>The tables as the transaction found them before it cleared the store (the committed state then).</summary>
        public Dictionary<Slot, OrderedDictionary<string, Entry>>? BeforeClear;
    }

    /// <summary>One document as a committed transaction leaves it: its JSON (null: deleted) under its collection's name;
    /// <paramref name="Created"/>: not in the file before this transaction (an insert).</summary>
    internal sealed record PendingWrite(Slot Slot, string Collection, string Id, long Seq, byte[]? Json, bool Created = false);

    /// <summary>A transaction done in memory, waiting for (or past) its LiteDB commit.</summary>
    internal sealed class PendingTx(long no, List<PendingWrite> writes, long? newGeneration, Journal journal)
    {
        public readonly long No = no;
        public readonly List<PendingWrite> Writes = writes;
        public readonly long? NewGeneration = newGeneration;
        public readonly Journal Journal = journal;
        public volatile bool Done;
        public Exception? Error;
        /// <summary>A clearing transaction small enough to be committed as a reset image (DocumentStore.ResetImage.cs).</summary>
        public bool Image;
        /// <summary>Committed as the file's reset image: its writes stay in the overlay until materialized.</summary>
        public bool InImage;
        /// <summary>Completed (never faulted) once the transaction is <see cref="Done"/>; what a deferred waiter awaits.</summary>
        public readonly TaskCompletionSource Completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private readonly record struct Overlay(byte[]? Json, long Seq, long TxNo);

    private const string SeqField = "_seq";
    /// <summary>Up to this many documents to delete, a reset rewrites the collections in place; above, it switches generation.</summary>
    private const int InPlaceResetLimit = 256;
    private const string MetaCollection = "_store";
    /// <summary>Documents written between two background checkpoints (LiteDB's log copied into the data file, with an
    /// fsync): each checkpoint rewrites every page changed since the last, so fewer checkpoints write hot pages fewer times.</summary>
    private const int CheckpointEvery = 8000;
    private static readonly AsyncLocal<string?> AmbientMode = new();

    private readonly object _sync = new();
    private readonly LiteDatabase _db;
    private Dictionary<Slot, OrderedDictionary<string, Entry>> _docs = new();
    private readonly Dictionary<Type, string> _kindOf = [];
    private readonly HashSet<Type> _shared = [];
    private long _seq;
    private int _depth;
    /// <summary>Bumped at the end of every outermost transaction and by every rollback, under <see cref="_sync"/>: the
    /// read caches' change stamp (<see cref="ChangeStamp"/>).</summary>
    private long _changeStamp;
    private Journal? _journal;
    /// <summary>The generation memory is in (ahead of the file's while a reset waits for its commit); under <see cref="_sync"/>.</summary>
    private long _gen;

    // Group commit. Lock order: _sync → _commitLock → _pendingLock; the commit leader never takes _sync.
    private readonly object _commitLock = new();
    private readonly object _pendingLock = new();
    private List<PendingTx> _queue = [];
    private readonly Dictionary<string, Dictionary<string, Overlay>> _overlay = new(StringComparer.OrdinalIgnoreCase);
    private long _txNo;
    /// <summary>A thread-pool work item is committing queued transactions for deferred waiters (under <see cref="_pendingLock"/>).</summary>
    private bool _committing;
    /// <summary>The request whose commit waits are deferred (<see cref="DeferCommits"/>) in this async flow, if any.</summary>
    private readonly AsyncLocal<CommitScope?> _deferred = new();
    /// <summary>Names of the collections in the file (commit leader only; LiteDB's own check runs a query).</summary>
    private readonly HashSet<string> _existing = new(StringComparer.OrdinalIgnoreCase);
    private int _writtenSinceCheckpoint;
    private bool _disposed;
    private Task _background = Task.CompletedTask;

    private DocumentStore(LiteDatabase db, IEnumerable<Assembly>? assemblies)
    {
        // The emulator's document types are public (FeatureDiscoveryTests): its exported types only, not all ≈ 2,100.
        foreach (var t in (assemblies ?? [typeof(DocumentStore).Assembly])
                     .SelectMany(a => a == typeof(DocumentStore).Assembly ? a.GetExportedTypes() : a.GetTypes())
                     .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IDocument).IsAssignableFrom(t)))
        {
            _kindOf[t] = t.GetCustomAttribute<DocumentKindAttribute>()?.Kind ?? t.Name;
            if (t.GetCustomAttribute<SharedAcrossModesAttribute>() is not null) _shared.Add(t);
        }
        IndexKinds();
        _slots = AllSlots().ToArray();
        _db = db;
        // Checkpoints (log → data file, with an fsync) run in the background after commits, not inside a request's commit.
        _db.CheckpointSize = 0;
        _gen = FileGeneration();
        _existing.UnionWith(_db.GetCollectionNames());
        DropSecondaryIndexes();
        RecoverResetImage();
        Load();
        if (StaleCollections().Count > 0) StartDropStale();
        StartPrepareNext();
    }

    /// <summary>
    /// At open: drops the secondary indexes (<c>organizationId</c>, <c>distributionId</c>, <c>consumerId</c>,
    /// <c>sequenceId</c>) that earlier builds created on every collection whose kind has such a field. Nothing reads the
    /// file by those fields — engines query the live objects in memory; the file is read by <c>_id</c> and whole
    /// collections, at open — so each index only made every insert and update dearer (issue 15, bench/README.md "No
    /// secondary indexes"). The collections keep their <c>_id</c> index.
    /// </summary>
    private void DropSecondaryIndexes()
    {
        var secondary = _db.GetCollection("$indexes").FindAll()
            .Where(i => i["name"].AsString != "_id")
            .Select(i => (Collection: i["collection"].AsString, Name: i["name"].AsString)).ToList();
        foreach (var (collection, name) in secondary) _db.GetCollection(collection).DropIndex(name);
    }

    /// <summary>The collation of a new database file: invariant culture, ordinal (ids compare as the in-memory tables
    /// compare them; cheaper index inserts than LiteDB's culture-aware, case-insensitive default). A file keeps the
    /// collation it was created with.</summary>
    private static readonly Collation Ordinal = new(System.Globalization.CultureInfo.InvariantCulture.LCID, System.Globalization.CompareOptions.Ordinal);

    /// <summary>Opens <c>{dataDirectory}/emulator.db</c>, or a private in-memory database.</summary>
    public static DocumentStore Open(bool inMemory, string dataDirectory, IEnumerable<Assembly>? assemblies = null)
    {
        if (inMemory) return new DocumentStore(new LiteDatabase(new LiteDB.Engine.LiteEngine(new LiteDB.Engine.EngineSettings { DataStream = new MemoryStream(), Collation = Ordinal })), assemblies);
        if (LegacyDataMessage(dataDirectory) is { } message) throw new DataDirectoryException(message);
        Directory.CreateDirectory(dataDirectory);
        var file = Path.Combine(dataDirectory, "emulator.db");
        return new DocumentStore(new LiteDatabase(new ConnectionString { Filename = file, Connection = ConnectionType.Direct, Collation = Ordinal }), assemblies);
    }

    /// <summary>
    /// A one-line explanation when <paramref name="dataDirectory"/> holds the SQLite <c>emulator.db</c> of an earlier
    /// version (this build cannot read it and never overwrites it); null when the directory is fine.
    /// </summary>
    public static string? LegacyDataMessage(string dataDirectory)
    {
        var file = Path.Combine(dataDirectory, "emulator.db");
        if (!File.Exists(file)) return null;
        Span<byte> head = stackalloc byte[16];
        using (var f = File.OpenRead(file))
            if (f.ReadAtLeast(head, 16, throwOnEndOfStream: false) < 16) return null;
        if (!head.SequenceEqual("SQLite format 3\0"u8)) return null;
        return $"{Path.GetFullPath(file)} was written by an earlier emulator version (SQLite); this version stores data with LiteDB. " +
               "Start over by moving or deleting that data directory, or pass --data with a new one; nothing was changed.";
    }

    /// <summary>The lock every engine step holds; reentrant.</summary>
    public object Sync => _sync;

    /// <summary>The mode (<c>test</c>/<c>live</c>) the current request or job works in; <c>test</c> when none was set.</summary>
    public static string Mode => AmbientMode.Value ?? StoreModes.Test;

    /// <summary>Makes <paramref name="mode"/> the ambient mode of this async flow until the result is disposed.</summary>
    public static IDisposable UseMode(string? mode)
    {
        var previous = AmbientMode.Value;
        AmbientMode.Value = StoreModes.Normalize(mode);
        return new ModeScope(previous);
    }

    private sealed class ModeScope(string? previous) : IDisposable
    {
        public void Dispose() => AmbientMode.Value = previous;
    }

    /// <summary>True when nothing is stored yet (the seed is loaded into an empty store only).</summary>
    public bool IsEmpty { get { lock (_sync) return _docs.Values.All(d => d.Count == 0); } }

    private string PartitionOf(Type t) => _shared.Contains(t) ? "" : Mode;

    private Slot SlotOf(Type t) => new(PartitionOf(t), t);

    private string KindOf(Type t) => _kindOf.TryGetValue(t, out var k) ? k : throw new InvalidOperationException($"{t.Name} is not a document type");

    /// <summary>The collection of a kind and partition in a generation: <c>[live_]Kind</c>, after a reset <c>[live_]Kind_{generation}</c>.</summary>
    private string CollectionName(Slot s, long generation) => BaseName(s) + (generation == 0 ? "" : "_" + generation.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private string BaseName(Slot s) => (s.Partition == StoreModes.Live ? "live_" : "") + KindOf(s.Type);

    private IEnumerable<Slot> AllSlots() =>
        _kindOf.Keys.OrderBy(t => t.FullName, StringComparer.Ordinal)
            .SelectMany(t => (_shared.Contains(t) ? [""] : StoreModes.All).Select(p => new Slot(p, t)));

    private OrderedDictionary<string, Entry> Table(Slot s)
    {
        if (!_docs.TryGetValue(s, out var d)) _docs[s] = d = new OrderedDictionary<string, Entry>(TableCapacity(s), StringComparer.Ordinal);
        return d;
    }

    /// <summary>Fills memory from the committed state (file + commits still queued) of the current generation.</summary>
    private void Load()
    {
        foreach (var slot in AllSlots())
        {
            var docs = Committed(slot);
            if (docs.Count == 0) continue;
            var table = Table(slot);
            foreach (var (id, doc, seq) in docs)
            {
                table[id] = new Entry(doc, seq);
                if (seq > _seq) _seq = seq;
            }
        }
    }

    /// <summary>Every committed document of a slot (file, overlaid by queued commits), in insertion order. Holds
    /// <see cref="_commitLock"/> across both reads: otherwise a leader could commit a queued transaction and drop it from the
    /// overlay between the file read and the overlay read, and the result would miss it (a lost update on rollback).</summary>
    private List<(string Id, IDocument Doc, long Seq)> Committed(Slot slot)
    {
        lock (_commitLock) return CommittedLocked(slot);
    }

    private List<(string Id, IDocument Doc, long Seq)> CommittedLocked(Slot slot)
    {
        var name = CollectionName(slot, _gen);
        var byId = new Dictionary<string, (IDocument Doc, long Seq)>(StringComparer.Ordinal);
        // (while a reset image is not materialized, the file's collections are stale and the overlay holds everything)
        if (_unmaterialized.Count == 0)
            foreach (var b in _db.GetCollection(name).FindAll()) // (a collection that does not exist reads as empty)
                if (FromBson(b, slot.Type) is { } doc) byId[b["_id"].AsString] = (doc, b[SeqField].AsInt64);
        lock (_pendingLock)
            if (_overlay.TryGetValue(name, out var pending))
                foreach (var (id, o) in pending)
                {
                    if (o.Json is null) byId.Remove(id);
                    else if (FromJson(o.Json, slot.Type) is { } doc) byId[id] = (doc, o.Seq);
                }
        return byId.Select(kv => (kv.Key, kv.Value.Doc, kv.Value.Seq)).OrderBy(x => x.Seq).ToList();
    }

    /// <summary>One committed document (queued commits first, then the file), or null.</summary>
    private (IDocument Doc, long Seq)? Committed(Slot slot, string id)
    {
        var name = CollectionName(slot, _gen);
        lock (_commitLock)
        {
            lock (_pendingLock)
                if (_overlay.TryGetValue(name, out var pending) && pending.TryGetValue(id, out var o))
                    return o.Json is not null && FromJson(o.Json, slot.Type) is { } d ? (d, o.Seq) : null;
            if (_unmaterialized.Count > 0) return null; // (the overlay holds everything; see DocumentStore.ResetImage.cs)
            var b = _db.GetCollection(name).FindById(id);
            return b is not null && FromBson(b, slot.Type) is { } doc ? (doc, b[SeqField].AsInt64) : null;
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> atomically: under one lock in memory, then committed to LiteDB (group commit; the call
    /// returns once its writes are in the file). When it fails (any exception but a deliberate 4xx
    /// <see cref="Errors.ApiException"/>), every document it touched is restored in memory (in place) from the committed
    /// state and nothing is written; then the exception goes on. A 4xx <c>ApiException</c> commits what the engine wrote
    /// before throwing it (engines record e.g. a revoked session, then answer 401).
    /// </summary>
    public T Transaction<T>(Func<T> work)
    {
        PendingTx? pending = null;
        Exception? deliberate = null;
        T result = default!;
        lock (_sync)
        {
            // (a transaction whose write was deferred is written first: DocumentStore.WrittenLater.cs)
            if (_depth == 0 && _writtenLater is not null && !_writeNextLater) PersistWrittenLater();
            var outermost = _depth++ == 0;
            if (outermost)
            {
                _journal = new Journal();
            }
            try
            {
                result = work();
                if (outermost) pending = Enqueue(_journal!);
            }
            catch (Exception e) when (outermost) // (a filter runs before inner finally blocks: decide by this frame, not by _depth)
            {
                if (e is Errors.ApiException { Status: < 500 })
                {
                    // A deliberate client error is an outcome, not a failure: engines record what it implies (refresh-token
                    // reuse revokes the session, then answers 401), so what they wrote is kept, as it always was.
                    try { pending = Enqueue(_journal!); }
                    catch { RollBack(_journal!); throw; }
                    deliberate = e;
                }
                else
                {
                    RollBack(_journal!);
                    throw;
                }
            }
            finally
            {
                if (--_depth == 0)
                {
                    if (_journal is { } done) StampKinds(done);
                    _journal = null;
                    _changeStamp++;
                }
            }
        }
        if (pending is not null)
        {
            if (_deferred.Value is { } scope && scope.Defer(pending)) StartCommitter();
            else WaitCommitted(pending);
        }
        if (deliberate is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(deliberate);
        return result;
    }

    public void Transaction(Action work) => Transaction(() => { work(); return 0; });

    /// <summary>
    /// Snapshots what the transaction changed (each dirty document once, as JSON, as memory now holds it) and queues it
    /// for the group commit. Runs under <see cref="_sync"/>, so a document that cannot be serialized fails the
    /// transaction here, before anything is queued. Null when there is nothing to write.
    /// </summary>
    private PendingTx? Enqueue(Journal journal)
    {
        if (journal.Dirty.Count == 0 && !journal.Cleared) return null;
        if (_writeNextLater && _depth == 1)
        {
            _writeNextLater = false;
            _writtenLater = journal; // (written later: DocumentStore.WrittenLater.cs)
            return null;
        }
        // A reset that leaves few documents behind (the default seed over the default seed) rewrites them in place and
        // deletes the rest; one that would delete many (thousands of consumers) switches to a new generation instead.
        var removed = journal.Cleared ? RemovedByClear(journal, null, InPlaceResetLimit + 1) : 0;
        var switching = removed > InPlaceResetLimit;
        var generation = switching ? _gen + 1 : _gen;
        var writes = new List<PendingWrite>(journal.Dirty.Count + (switching ? 0 : removed));
        foreach (var (slot, id) in journal.Dirty)
        {
            var name = CollectionName(slot, generation);
            // (after a Clear, a document the reset re-creates under the same id is still in the file)
            var created = journal.Created.Contains((slot, id)) && !(journal.BeforeClear?.GetValueOrDefault(slot)?.ContainsKey(id) ?? false);
            if (Table(slot).TryGetValue(id, out var e))
                writes.Add(new PendingWrite(slot, name, id, e.Seq, JsonSerializer.SerializeToUtf8Bytes(e.Doc, slot.Type, Json.StoreOptions), created));
            else if (!switching && !created) writes.Add(new PendingWrite(slot, name, id, 0, null)); // (a new generation starts empty)
        }
        if (journal.Cleared && !switching) RemovedByClear(journal, writes, int.MaxValue);
        var image = journal.Cleared && FitsResetImage(writes);
        _gen = generation;
        lock (_pendingLock)
        {
            var tx = new PendingTx(++_txNo, writes, switching ? generation : null, journal) { Image = image };
            foreach (var w in writes)
            {
                if (!_overlay.TryGetValue(w.Collection, out var o)) _overlay[w.Collection] = o = new Dictionary<string, Overlay>(StringComparer.Ordinal);
                o[w.Id] = new Overlay(w.Json, w.Seq, tx.No);
            }
            _queue.Add(tx);
            return tx;
        }
    }

    /// <summary>
    /// Returns once <paramref name="tx"/> is in the file: whoever holds the commit lock first (this thread, another
    /// waiter or the deferred committer) writes every queued transaction, so after taking the lock the transaction is
    /// either done or this thread commits it with whatever else is queued.
    /// </summary>
    private void WaitCommitted(PendingTx tx)
    {
        if (!tx.Done)
            lock (_commitLock)
                if (!tx.Done) Lead();
        ThrowIfFailed(tx);
    }

    /// <summary>A transaction LiteDB refused: its documents go back to the committed state and the caller gets the error.</summary>
    private void ThrowIfFailed(PendingTx tx)
    {
        if (tx.Error is not { } error) return;
        lock (_sync) RollBackFailedCommit(tx);
        throw new IOException($"The store could not write the change: {error.Message}", error);
    }

    /// <summary>Makes sure a thread-pool work item commits what is queued (for transactions whose waits are deferred).</summary>
    private void StartCommitter()
    {
        lock (_pendingLock)
        {
            if (_committing || _queue.Count == 0) return;
            _committing = true;
        }
        ThreadPool.UnsafeQueueUserWorkItem(static store => store.CommitQueued(), this, preferLocal: false);
    }

    private void CommitQueued()
    {
        while (true)
        {
            lock (_commitLock) Lead();
            lock (_pendingLock)
                if (_queue.Count == 0 || _disposed)
                {
                    _committing = false;
                    return;
                }
        }
    }

    /// <summary>
    /// Defers the commit waits of this async flow (one HTTP request) to <see cref="CommitScope.WhenCommittedAsync"/>:
    /// its transactions return once done in memory and queued for the group commit, and the request awaits them before
    /// the first byte of its response (see <c>ErrorHandlingMiddleware</c>), so what a client is told was written is in
    /// the file, as before, without a thread blocked per waiting request. Close the scope when the request ends.
    /// </summary>
    public CommitScope DeferCommits()
    {
        var scope = new CommitScope(this);
        _deferred.Value = scope;
        return scope;
    }

    /// <summary>Completes once every transaction of this flow's deferred scope (if any) so far is in the file.</summary>
    public Task WhenCommittedAsync() => _deferred.Value?.WhenCommittedAsync() ?? Task.CompletedTask;

    /// <summary>The transactions of one request whose commit waits are deferred (<see cref="DeferCommits"/>).</summary>
    public sealed class CommitScope(DocumentStore store)
    {
        private readonly List<PendingTx> _pending = [];
        private bool _closed;

        /// <summary>Takes <paramref name="tx"/>'s wait unless the request is over (work it started that outlives it,
        /// e.g. a background task that inherited this flow, waits for its own commits).</summary>
        internal bool Defer(PendingTx tx)
        {
            lock (_pending)
            {
                if (_closed) return false;
                _pending.Add(tx);
                return true;
            }
        }

        /// <summary>Completes once every transaction deferred so far is in the file. A transaction LiteDB refused is
        /// rolled back in memory and its error is thrown (the request then fails with 500).</summary>
        public Task WhenCommittedAsync()
        {
            lock (_pending)
            {
                if (_pending.Count == 0) return Task.CompletedTask;
                if (_pending.TrueForAll(t => t.Done && t.Error is null)) { _pending.Clear(); return Task.CompletedTask; }
            }
            return WaitAsync();
        }

        private async Task WaitAsync()
        {
            while (true)
            {
                PendingTx[] txs;
                lock (_pending)
                {
                    if (_pending.Count == 0) return;
                    txs = [.. _pending];
                    _pending.Clear();
                }
                foreach (var tx in txs)
                {
                    if (!tx.Done) await tx.Completion.Task.ConfigureAwait(false);
                    store.ThrowIfFailed(tx);
                }
            }
        }

        /// <summary>Ends the deferral: later transactions of this flow wait for their own commits.</summary>
        public void Close()
        {
            lock (_pending) _closed = true;
        }
    }

    /// <summary>The leader's step (under <see cref="_commitLock"/>): every queued transaction in one LiteDB transaction.</summary>
    private void Lead()
    {
        List<PendingTx> txs;
        lock (_pendingLock)
        {
            txs = _queue;
            _queue = [];
        }
        if (txs.Count == 0) return;
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            WriteAll(txs);
        }
        catch (Exception)
        {
            // Find the transaction(s) LiteDB refuses; the others are committed one by one.
            foreach (var tx in txs)
            {
                try
                {
                    ObjectDisposedException.ThrowIf(_disposed, this);
                    WriteAll([tx]);
                }
                catch (Exception e) { tx.Error = e; }
            }
        }
        lock (_pendingLock)
        {
            foreach (var tx in txs)
            {
                if (!tx.InImage) ForgetOverlay(tx); // (a reset image's documents are read from the overlay until materialized)
                tx.Done = true;
            }
        }
        foreach (var tx in txs) tx.Completion.TrySetResult();
    }

    private void WriteAll(List<PendingTx> txs)
    {
        if (txs is [{ Image: true } reset])
        {
            WriteResetImage(reset);
            return;
        }
        // Reset images not materialized yet are written first, in the same LiteDB transaction (DocumentStore.ResetImage.cs).
        var images = _unmaterialized.Count;
        if (images > 0) txs = [.. _unmaterialized, .. txs];
        long? generation = null;
        // The last write of each document wins; whether it is in the file is decided by the batch's first write of it.
        var last = new Dictionary<(string, string), PendingWrite>();
        foreach (var tx in txs)
        {
            if (tx.NewGeneration is { } g) generation = g;
            foreach (var w in tx.Writes)
                last[(w.Collection, w.Id)] = last.TryGetValue((w.Collection, w.Id), out var first) && w.Created != first.Created ? w with { Created = first.Created } : w;
        }
        var newCollections = false;
        if (!_db.BeginTrans()) throw new InvalidOperationException("a LiteDB transaction is already open on the commit thread");
        try
        {
            if (generation is { } gen)
                _db.GetCollection(MetaCollection).Upsert(new BsonDocument { ["_id"] = "generation", ["value"] = gen });
            if (images > 0) _db.GetCollection(MetaCollection).Delete(ResetImageId);
            foreach (var group in last.Values.GroupBy(w => w.Collection, StringComparer.OrdinalIgnoreCase))
            {
                var first = group.First();
                // (a new collection, or one of the next generation prepared empty ahead: see DocumentStore.Prepare.cs)
                var prepared = _prepared.Remove(group.Key);
                var fresh = prepared || !_existing.Contains(group.Key);
                var col = _db.GetCollection(group.Key, BsonAutoId.ObjectId);
                if (!fresh && generation is { } switchedTo && string.Equals(group.Key, CollectionName(first.Slot, switchedTo), StringComparison.OrdinalIgnoreCase))
                {
                    // A collection of the generation this batch switches to that is not known to be empty (left by an
                    // interrupted clean-up, or not prepared by this process): emptied first, so the new generation holds
                    // exactly what the batch writes.
                    col.DeleteAll();
                    fresh = true;
                }
                if (!prepared && fresh)
                {
                    newCollections = true;
                    _existing.Add(group.Key);
                }
                var docs = new List<BsonDocument>();
                var inserts = new List<BsonDocument>();
                foreach (var w in group)
                {
                    if (w.Json is not null) (fresh || w.Created ? inserts : docs).Add(BsonOf(w.Json, w.Id, w.Seq));
                    else if (!fresh && !w.Created) col.Delete(w.Id);
                }
                if (inserts.Count > 0) col.InsertBulk(inserts, inserts.Count); // not in the file (or a new generation's collection)
                if (docs.Count > 0) col.Upsert(docs);
            }
            _db.Commit();
        }
        catch
        {
            try { _db.Rollback(); } catch { /* already gone */ }
            _prepared.Clear(); // (whether they are still empty is checked again by the next preparation)
            _existing.Clear();
            _existing.UnionWith(_db.GetCollectionNames());
            throw;
        }
        if (images > 0)
        {
            lock (_pendingLock)
                foreach (var image in _unmaterialized) ForgetOverlay(image);
            _unmaterialized.Clear();
        }
        AfterCommit(last.Count + 4, txs.Count - images, generation is not null, newCollections);
    }

    /// <summary>The bookkeeping after a LiteDB commit of <paramref name="transactions"/> transactions that wrote about
    /// <paramref name="written"/> documents (or pages): the counters (a commit holding no transaction — the background
    /// materialization of a reset image — is housekeeping, not counted), the clean-up of an old generation and the
    /// preparation of the next (the next generation of any new collection too), and the background checkpoint.</summary>
    private void AfterCommit(int written, int transactions, bool switched, bool newCollections)
    {
        _writtenSinceCheckpoint += written;
        if (transactions > 0)
        {
            _commits++;
            _transactionsCommitted += transactions;
        }
        if (switched) StartDropStale();
        if (switched || newCollections) StartPrepareNext();
        if (_writtenSinceCheckpoint >= CheckpointEvery) ScheduleBackground(Checkpoint);
    }

    /// <summary>Queues <paramref name="step"/> (run under the commit lock, after whatever is queued before it).</summary>
    private void ScheduleBackground(Action step)
    {
        lock (_pendingLock)
            _background = _background.ContinueWith(_ =>
            {
                try { step(); }
                catch (Exception) { /* best effort: a later start or commit tries again */ }
            }, TaskScheduler.Default);
    }

    private void Checkpoint()
    {
        lock (_commitLock)
        {
            if (_disposed || _writtenSinceCheckpoint < CheckpointEvery) return;
            _writtenSinceCheckpoint = 0;
            _db.Checkpoint();
        }
    }

    /// <summary>The generation the file is in (memory's <see cref="_gen"/> is ahead while a reset waits for its commit).</summary>
    private long FileGeneration() =>
        _db.GetCollection(MetaCollection).FindById("generation")?["value"] is { IsNumber: true } g ? g.AsInt64 : 0;

    /// <summary>
    /// Collections of an earlier (or abandoned) generation, by name: every collection named after a kind that is not of
    /// the file's generation, nor an empty one of the next generation (prepared ahead). Call under <see cref="_commitLock"/> (a newer generation's collections only appear in the
    /// commit that switches to it).
    /// </summary>
    private List<string> StaleCollections()
    {
        var gen = FileGeneration();
        var bases = AllSlots().Select(BaseName).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var current = AllSlots().Select(s => CollectionName(s, gen)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var next = AllSlots().Select(s => CollectionName(s, gen + 1)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var stale = new List<string>();
        foreach (var name in _db.GetCollectionNames())
        {
            if (current.Contains(name)) continue;
            // The next generation's collections, prepared ahead, are kept while empty (see DocumentStore.Prepare.cs).
            if (next.Contains(name) && (_prepared.Contains(name) || _db.GetCollection(name).Count() == 0)) continue;
            var cut = name.LastIndexOf('_');
            var isGeneration = cut > 0 && name[(cut + 1)..].All(char.IsAsciiDigit) && bases.Contains(name[..cut]);
            if (bases.Contains(name) || isGeneration) stale.Add(name);
        }
        return stale;
    }

    /// <summary>Documents of a stale collection deleted per LiteDB transaction (<see cref="DropStaleAsync"/>).</summary>
    private const int DropBatch = 500;

    /// <summary>Group commits written so far (under the commit lock): how background clean-up sees that the store is busy.</summary>
    private long _commits;

    /// <summary>Returns once no group commit was written nor queued during a 50 ms pause (none at all if none came since
    /// <paramref name="seen"/>, the count the previous wait returned): background clean-up runs while the store is idle.
    /// The reads need no lock: they only decide when to step aside. Waits without holding a thread (a thread-pool thread
    /// asleep for as long as requests keep the store busy is one fewer for the requests on a small machine).</summary>
    private async Task<long> WaitUntilIdleAsync(long seen)
    {
        while (!_disposed)
        {
            var now = Volatile.Read(ref _commits);
            if (now == seen && _queue.Count == 0) return now;
            seen = now;
            await Task.Delay(50).ConfigureAwait(false);
        }
        return seen;
    }

    /// <summary>
    /// Empties and drops the collections of earlier generations in the background, while the store is otherwise idle
    /// (no commit for 50 ms): at most <see cref="DropBatch"/> documents per LiteDB transaction under the commit lock, then
    /// the lock is let go, so a request never waits behind a whole collection of thousands of documents after a large
    /// reset, and resets back to back are not slowed by the clean-up of the first.
    /// </summary>
    private void StartDropStale()
    {
        if (Interlocked.Exchange(ref _dropping, 1) != 0) return; // the running one looks again before it ends
        Task.Run(async () =>
        {
            try
            {
                while (await DropStaleAsync()) { }
            }
            catch (Exception) { /* best effort: a later start or switch tries again */ }
            finally { Volatile.Write(ref _dropping, 0); }
        });
    }

    /// <summary>How many collections of earlier generations are still in the file (tests).</summary>
    internal int StaleCollectionCount()
    {
        lock (_commitLock) return _disposed ? 0 : StaleCollections().Count;
    }

    /// <summary>1 while a <see cref="DropStaleAsync"/> runs (its own task, so checkpoints never wait behind it).</summary>
    private int _dropping;

    /// <summary>One pass over the stale collections; true when it dropped some (then the caller looks again: a reset may
    /// have switched generation meanwhile).</summary>
    private async Task<bool> DropStaleAsync()
    {
        List<string> stale;
        lock (_commitLock)
        {
            if (_disposed) return false;
            stale = StaleCollections();
        }
        if (stale.Count == 0) return false;
        var seen = -1L;
        foreach (var name in stale)
            while (true)
            {
                seen = await WaitUntilIdleAsync(seen);
                lock (_commitLock)
                {
                    if (_disposed) return false;
                    if (!StaleCollections().Contains(name, StringComparer.OrdinalIgnoreCase)) break;
                    var col = _db.GetCollection(name);
                    var ids = col.Find(Query.All(), limit: DropBatch).Select(d => d["_id"]).ToList();
                    if (ids.Count == 0)
                    {
                        _existing.Remove(name);
                        _prepared.Remove(name);
                        _db.DropCollection(name);
                        _writtenSinceCheckpoint += 8;
                        break;
                    }
                    if (!_db.BeginTrans()) throw new InvalidOperationException("a LiteDB transaction is already open on the background thread");
                    try
                    {
                        foreach (var id in ids) col.Delete(id);
                        _db.Commit();
                    }
                    catch
                    {
                        try { _db.Rollback(); } catch { /* already gone */ }
                        throw;
                    }
                    _writtenSinceCheckpoint += ids.Count;
                }
            }
        if (_writtenSinceCheckpoint >= CheckpointEvery) Checkpoint();
        return true;
    }

    /// <summary>A transaction LiteDB refused after it ran: its documents go back to the committed state.</summary>
    private void RollBackFailedCommit(PendingTx tx)
    {
        _changeStamp++;
        _epoch++;
        if (tx.NewGeneration is not null)
        {
            lock (_commitLock) _gen = FileGeneration();
            _docs.Clear();
            _seq = 0;
            Load();
            return;
        }
        var journal = new Journal();
        foreach (var w in tx.Writes) journal.Docs.Add((w.Slot, w.Id));
        foreach (var (k, v) in tx.Journal.Removed) journal.Removed[k] = v;
        RollBack(journal);
    }

    private void RollBack(Journal journal)
    {
        _journal = null; // restoring reads the store; nothing to journal
        _epoch++;
        if (journal.Cleared)
        {
            _docs.Clear();
            _seq = 0;
            Load();
            return;
        }
        foreach (var slot in journal.Kinds) RestoreKind(slot, journal);
        foreach (var (slot, id) in journal.Docs)
            if (!journal.Kinds.Contains(slot)) RestoreDoc(slot, id, journal);
    }

    private void RestoreKind(Slot slot, Journal journal)
    {
        var table = Table(slot);
        var rebuilt = new OrderedDictionary<string, Entry>(StringComparer.Ordinal);
        foreach (var (id, fresh, seq) in Committed(slot))
        {
            var live = table.TryGetValue(id, out var e) ? e.Doc : journal.Removed.GetValueOrDefault((slot, id));
            rebuilt[id] = new Entry(Adopt(fresh, live), seq);
        }
        _docs[slot] = rebuilt;
    }

    private void RestoreDoc(Slot slot, string id, Journal journal)
    {
        var table = Table(slot);
        if (Committed(slot, id) is not var (fresh, seq))
        {
            table.Remove(id);
            return;
        }
        if (table.TryGetValue(id, out var e))
        {
            var doc = Adopt(fresh, e.Doc);
            if (e.Seq == seq) { e.Doc = doc; return; }
            table.Remove(id);
        }
        var restored = new Entry(Adopt(fresh, journal.Removed.GetValueOrDefault((slot, id))), seq);
        int lo = 0, hi = table.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (table.GetAt(mid).Value.Seq < seq) lo = mid + 1; else hi = mid;
        }
        table.Insert(lo, id, restored);
    }

    /// <summary>Copies the file's state into the live object (when there is one of the same type), so references stay valid.</summary>
    private static IDocument Adopt(IDocument fresh, IDocument? live)
    {
        if (live is null || live.GetType() != fresh.GetType()) return fresh;
        foreach (var p in Settable(live.GetType())) p.SetValue(live, p.GetValue(fresh));
        return live;
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Type, PropertyInfo[]> SettableCache = new();

    private static PropertyInfo[] Settable(Type t) => SettableCache.GetOrAdd(t, type =>
        type.GetProperties(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance)
            .Where(p => p.CanRead && p.CanWrite && p.GetIndexParameters().Length == 0).ToArray());

    private void Touch(Slot slot, string id)
    {
        _journal?.Docs.Add((slot, id));
    }

    public T? Get<T>(string? id) where T : class, IDocument
    {
        if (id is null) return null;
        lock (_sync)
        {
            var slot = SlotOf(typeof(T));
            if (!Table(slot).TryGetValue(id, out var e)) return null;
            Touch(slot, id);
            return (T)e.Doc;
        }
    }

    /// <summary>
    /// A document of a partitioned kind in whichever mode holds it, with that mode (ids are unique across modes). For
    /// credentials that carry their own mode, such as a consumer access token naming its session.
    /// </summary>
    public (T Doc, string Mode)? FindInAnyMode<T>(string? id) where T : class, IDocument
    {
        if (id is null) return null;
        lock (_sync)
        {
            if (_shared.Contains(typeof(T))) return Get<T>(id) is { } shared ? (shared, Mode) : null;
            foreach (var mode in StoreModes.All)
                if (Table(new Slot(mode, typeof(T))).TryGetValue(id, out var e)) return ((T)e.Doc, mode);
            return null;
        }
    }

    private IEnumerable<T> Scan<T>() where T : class, IDocument
    {
        var slot = SlotOf(typeof(T));
        _journal?.Kinds.Add(slot);
        return Table(slot).Values.Select(e => (T)e.Doc);
    }

    /// <summary>Every document of a kind, in first-insertion order (deterministic).</summary>
    public List<T> All<T>() where T : class, IDocument
    {
        lock (_sync) return Scan<T>().ToList();
    }

    public List<T> Where<T>(Func<T, bool> predicate) where T : class, IDocument
    {
        lock (_sync) return Scan<T>().Where(predicate).ToList();
    }

    public T? First<T>(Func<T, bool> predicate) where T : class, IDocument
    {
        lock (_sync)
        {
            var slot = SlotOf(typeof(T));
            foreach (var e in Table(slot).Values)
                if (predicate((T)e.Doc))
                {
                    Touch(slot, e.Doc.Id);
                    return (T)e.Doc;
                }
            return null;
        }
    }

    public int Count<T>() where T : class, IDocument
    {
        lock (_sync) return Table(SlotOf(typeof(T))).Count;
    }

    /// <summary>Inserts or replaces, in memory and in the file.</summary>
    public T Put<T>(T doc) where T : class, IDocument
    {
        return Transaction(() =>
        {
            var type = doc.GetType();
            var slot = SlotOf(type);
            var table = Table(slot);
            Touch(slot, doc.Id);
            Entry entry;
            if (table.TryGetValue(doc.Id, out var existing)) { existing.Doc = doc; entry = existing; }
            else
            {
                table[doc.Id] = entry = new Entry(doc, ++_seq);
                if (!_journal!.Removed.ContainsKey((slot, doc.Id))) _journal.Created.Add((slot, doc.Id));
            }
            _journal!.Dirty.Add((slot, doc.Id));
            return doc;
        });
    }

    public bool Delete<T>(string id) where T : class, IDocument => Delete(typeof(T), id);

    /// <summary>Deletes the document of kind <paramref name="type"/> (a document type) with id <paramref name="id"/>;
    /// false when there is none. For a document whose type is only known at run time.</summary>
    public bool Delete(Type type, string id)
    {
        return Transaction(() =>
        {
            var slot = SlotOf(type);
            var table = Table(slot);
            if (!table.Remove(id, out var e)) return false;
            Touch(slot, id);
            _journal?.Removed.TryAdd((slot, id), e.Doc);
            _journal!.Dirty.Add((slot, id));
            return true;
        });
    }

    /// <summary>Deletes every document, of every kind and both modes, that <paramref name="predicate"/> selects (a
    /// sandbox's data when it is deleted or reset). Returns how many.</summary>
    public int DeleteAll(Func<IDocument, bool> predicate)
    {
        return Transaction(() =>
        {
            var n = 0;
            foreach (var (slot, table) in _docs)
                foreach (var id in table.Where(kv => predicate(kv.Value.Doc)).Select(kv => kv.Key).ToList())
                {
                    if (!table.Remove(id, out var e)) continue;
                    Touch(slot, id);
                    _journal!.Removed.TryAdd((slot, id), e.Doc);
                    _journal.Dirty.Add((slot, id));
                    n++;
                }
            return n;
        });
    }

    /// <summary>Deletes every document of both modes (the first step of <c>POST /_emulator/reset</c>): the transaction then
    /// writes into a new generation of collections, and the old one is dropped after its commit.</summary>
    public void Clear()
    {
        Transaction(() =>
        {
            var journal = _journal!;
            journal.Cleared = true;
            if (journal.Dirty.Count > 0) journal.Dirty.Clear();
            // The tables move to the journal as they are and memory starts from a new map (no copy, no enumeration: the
            // code of a dictionary keyed by a struct of this assembly is not precompiled, and a reset is often the
            // first thing of a process to run it).
            journal.BeforeClear ??= _docs;
            _docs = new Dictionary<Slot, OrderedDictionary<string, Entry>>();
        });
    }

    // ---- BSON <-> System.Text.Json: documents keep their JSON shape (camelCase, as Json.StoreOptions writes them).

    /// <summary>A document's JSON (as <c>Json.StoreOptions</c> writes it) as BSON, read straight from the UTF-8 bytes.</summary>
    private static BsonDocument BsonOf(byte[] json, string id, long seq)
    {
        var r = new Utf8JsonReader(json);
        r.Read();
        var d = ReadObject(ref r);
        d["_id"] = id;
        d[SeqField] = seq;
        return d;
    }

    private static BsonDocument ReadObject(ref Utf8JsonReader r)
    {
        var d = new BsonDocument();
        while (r.Read() && r.TokenType != JsonTokenType.EndObject)
        {
            var name = r.GetString()!;
            r.Read();
            d[name] = ReadValue(ref r);
        }
        return d;
    }

    private static BsonValue ReadValue(ref Utf8JsonReader r)
    {
        switch (r.TokenType)
        {
            case JsonTokenType.StartObject: return ReadObject(ref r);
            case JsonTokenType.StartArray:
                var a = new BsonArray();
                while (r.Read() && r.TokenType != JsonTokenType.EndArray) a.Add(ReadValue(ref r));
                return a;
            case JsonTokenType.String: return new BsonValue(r.GetString());
            case JsonTokenType.Number:
                if (r.TryGetInt32(out var i)) return new BsonValue(i);
                if (r.TryGetInt64(out var l)) return new BsonValue(l);
                if (r.ValueSpan.IndexOfAny((byte)'e', (byte)'E') < 0 && r.TryGetDecimal(out var m)) return new BsonValue(m);
                return new BsonValue(r.GetDouble());
            case JsonTokenType.True: return new BsonValue(true);
            case JsonTokenType.False: return new BsonValue(false);
            default: return BsonValue.Null;
        }
    }

    private static IDocument? FromJson(byte[] json, Type type) => JsonSerializer.Deserialize(json, type, Json.StoreOptions) as IDocument;

    private static IDocument? FromBson(BsonDocument b, Type type)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            foreach (var (k, v) in b)
            {
                if (k is "_id" or SeqField) continue;
                w.WritePropertyName(k);
                Write(w, v);
            }
            w.WriteEndObject();
        }
        return JsonSerializer.Deserialize(buffer.WrittenSpan, type, Json.StoreOptions) as IDocument;
    }

    private static void Write(Utf8JsonWriter w, BsonValue v)
    {
        switch (v.Type)
        {
            case BsonType.Document:
                w.WriteStartObject();
                foreach (var (k, x) in v.AsDocument) { w.WritePropertyName(k); Write(w, x); }
                w.WriteEndObject();
                break;
            case BsonType.Array:
                w.WriteStartArray();
                foreach (var x in v.AsArray) Write(w, x);
                w.WriteEndArray();
                break;
            case BsonType.String: w.WriteStringValue(v.AsString); break;
            case BsonType.Int32: w.WriteNumberValue(v.AsInt32); break;
            case BsonType.Int64: w.WriteNumberValue(v.AsInt64); break;
            case BsonType.Double: w.WriteNumberValue(v.AsDouble); break;
            case BsonType.Decimal: w.WriteNumberValue(v.AsDecimal); break;
            case BsonType.Boolean: w.WriteBooleanValue(v.AsBoolean); break;
            case BsonType.DateTime: w.WriteStringValue(v.AsDateTime.ToUniversalTime().ToString("O")); break;
            default: w.WriteNullValue(); break;
        }
    }

    public void Dispose()
    {
        lock (_sync)
            lock (_commitLock)
            {
                if (_disposed) return;
                if (_writtenLater is { } later) { _writtenLater = null; Enqueue(later); }
                Lead(); // (every queued transaction has a waiter that would commit it; this only makes sure)
                try { Materialize(); } // (a stopped emulator's file holds every document in its collection)
                catch (Exception) { /* the next start writes them from the image */ }
                _disposed = true;
                _db.Dispose();
            }
    }
}
