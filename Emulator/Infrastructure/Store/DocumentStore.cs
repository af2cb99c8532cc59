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
/// Writes go through to LiteDB at once (a write acknowledged to a client survives a crash). All access is serialized by
/// one reentrant lock; <see cref="Transaction{T}"/> groups several writes into one LiteDB transaction and one atomic step
/// for concurrent callers (parallel bids never lose an update). A transaction that fails is rolled back in the file and
/// in memory: every object it read or wrote is put back as the file holds it, in place (engines keep their references).
/// <para>Test and live data are separate partitions (collections <c>Kind</c> and <c>live_Kind</c>); which one a call
/// sees is the ambient <see cref="Mode"/>, set per request from the credentials (<see cref="UseMode"/>).</para>
/// Engines must check inputs before mutating documents: objects read are the live ones.
/// </summary>
public sealed partial class DocumentStore : IDisposable
{
    private sealed class Entry(IDocument doc, long seq)
    {
        public IDocument Doc = doc;
        public readonly long Seq = seq;
    }

    private readonly record struct Slot(string Partition, Type Type);

    /// <summary>What the outermost transaction handed out or changed, to put back if it throws.</summary>
    private sealed class Journal
    {
        public readonly HashSet<(Slot, string)> Docs = [];
        public readonly HashSet<Slot> Kinds = [];
        public readonly Dictionary<(Slot, string), IDocument> Removed = [];
        /// <summary>Documents written or deleted: flushed to LiteDB once each, at commit, as memory then holds them.</summary>
        public readonly HashSet<(Slot, string)> Dirty = [];
        public bool Cleared;
        public readonly List<Slot> ClearedSlots = [];
    }

    private const string SeqField = "_seq";
    private static readonly string[] IndexedFields = ["organizationId", "distributionId", "consumerId", "sequenceId"];
    private static readonly AsyncLocal<string?> AmbientMode = new();

    private readonly object _sync = new();
    private readonly LiteDatabase _db;
    private readonly Dictionary<Slot, OrderedDictionary<string, Entry>> _docs = [];
    private readonly Dictionary<Slot, ILiteCollection<BsonDocument>> _cols = [];
    private readonly Dictionary<Type, string> _kindOf = [];
    private readonly HashSet<Type> _shared = [];
    private long _seq;
    private int _depth;
    private Journal? _journal;

    private DocumentStore(LiteDatabase db, IEnumerable<Assembly>? assemblies)
    {
        foreach (var t in (assemblies ?? [typeof(DocumentStore).Assembly]).SelectMany(a => a.GetTypes())
                     .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IDocument).IsAssignableFrom(t)))
        {
            _kindOf[t] = t.GetCustomAttribute<DocumentKindAttribute>()?.Kind ?? t.Name;
            if (t.GetCustomAttribute<SharedAcrossModesAttribute>() is not null) _shared.Add(t);
        }
        _db = db;
        Load();
    }

    /// <summary>Opens <c>{dataDirectory}/emulator.db</c>, or a private in-memory database.</summary>
    public static DocumentStore Open(bool inMemory, string dataDirectory, IEnumerable<Assembly>? assemblies = null)
    {
        if (inMemory) return new DocumentStore(new LiteDatabase(new MemoryStream()), assemblies);
        if (LegacyDataMessage(dataDirectory) is { } message) throw new DataDirectoryException(message);
        Directory.CreateDirectory(dataDirectory);
        var file = Path.Combine(dataDirectory, "emulator.db");
        return new DocumentStore(new LiteDatabase(new ConnectionString { Filename = file, Connection = ConnectionType.Direct }), assemblies);
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

    private ILiteCollection<BsonDocument> Col(Slot s)
    {
        if (_cols.TryGetValue(s, out var c)) return c;
        var name = (s.Partition == StoreModes.Live ? "live_" : "") + KindOf(s.Type);
        c = _db.GetCollection(name, BsonAutoId.ObjectId);
        foreach (var p in s.Type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var field = JsonNamingPolicy.CamelCase.ConvertName(p.Name);
            if (IndexedFields.Contains(field)) c.EnsureIndex(field, "$." + field);
        }
        return _cols[s] = c;
    }

    private OrderedDictionary<string, Entry> Table(Slot s)
    {
        if (!_docs.TryGetValue(s, out var d)) _docs[s] = d = new OrderedDictionary<string, Entry>(StringComparer.Ordinal);
        return d;
    }

    private void Load()
    {
        foreach (var t in _kindOf.Keys.OrderBy(t => t.FullName, StringComparer.Ordinal))
            foreach (var partition in _shared.Contains(t) ? [""] : StoreModes.All)
            {
                var slot = new Slot(partition, t);
                if (!_db.CollectionExists((partition == StoreModes.Live ? "live_" : "") + KindOf(t))) continue;
                var table = Table(slot);
                foreach (var (seq, doc) in Col(slot).FindAll().Select(b => (b[SeqField].AsInt64, FromBson(b, t))).OrderBy(x => x.Item1))
                {
                    if (doc is null) continue;
                    table[doc.Id] = new Entry(doc, seq);
                    if (seq > _seq) _seq = seq;
                }
            }
    }

    /// <summary>
    /// Runs <paramref name="work"/> atomically: one lock, one LiteDB transaction. When it fails (any exception but a
    /// deliberate 4xx <see cref="Errors.ApiException"/>), the transaction is rolled back and every document it touched is
    /// restored in memory (in place) from the file; then the exception goes on. A 4xx <c>ApiException</c> commits what the
    /// engine wrote before throwing it (engines record e.g. a revoked session, then answer 401).
    /// </summary>
    public T Transaction<T>(Func<T> work)
    {
        lock (_sync)
        {
            var outermost = _depth++ == 0;
            if (outermost)
            {
                _journal = new Journal();
            }
            try
            {
                var result = work();
                if (outermost) Flush(_journal!);
                return result;
            }
            catch (Exception e) when (outermost) // (a filter runs before inner finally blocks: decide by this frame, not by _depth)
            {
                if (e is Errors.ApiException { Status: < 500 })
                {
                    // A deliberate client error is an outcome, not a failure: engines record what it implies (refresh-token
                    // reuse revokes the session, then answers 401), so what they wrote is kept, as it always was.
                    try { Flush(_journal!); }
                    catch { RollBack(); throw; }
                    throw;
                }
                RollBack();
                throw;
            }
            finally
            {
                if (--_depth == 0) _journal = null;
            }
        }
    }

    public void Transaction(Action work) => Transaction(() => { work(); return 0; });

    /// <summary>Writes what the transaction changed in one LiteDB transaction: each dirty document once, as it is now.</summary>
    private void Flush(Journal journal)
    {
        if (journal.Dirty.Count == 0 && !journal.Cleared) return;
        _db.BeginTrans();
        if (journal.Cleared)
            foreach (var slot in journal.ClearedSlots) Col(slot).DeleteAll();
        foreach (var group in journal.Dirty.GroupBy(d => d.Item1))
        {
            var table = Table(group.Key);
            var col = Col(group.Key);
            var upserts = new List<BsonDocument>();
            foreach (var (_, id) in group)
            {
                if (table.TryGetValue(id, out var e)) upserts.Add(ToBson(e.Doc, group.Key.Type, e.Seq));
                else col.Delete(id);
            }
            if (upserts.Count > 0) col.Upsert(upserts);
        }
        _db.Commit();
    }

    private void RollBack()
    {
        var journal = _journal!;
        _journal = null; // restoring reads the store; nothing to journal
        _cols.Clear();   // an index created in the failed transaction is gone too: ensure again on next use
        try { _db.Rollback(); }
        catch { /* the transaction may already be gone; memory is restored from the file either way */ }
        if (journal.Cleared)
        {
            _docs.Clear();
            _cols.Clear();
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
        foreach (var b in Col(slot).FindAll().OrderBy(b => b[SeqField].AsInt64))
        {
            var id = b["_id"].AsString;
            var fresh = FromBson(b, slot.Type);
            if (fresh is null) continue;
            var live = table.TryGetValue(id, out var e) ? e.Doc : journal.Removed.GetValueOrDefault((slot, id));
            rebuilt[id] = new Entry(Adopt(fresh, live), b[SeqField].AsInt64);
        }
        _docs[slot] = rebuilt;
    }

    private void RestoreDoc(Slot slot, string id, Journal journal)
    {
        var table = Table(slot);
        var b = Col(slot).FindById(id);
        if (b is null || FromBson(b, slot.Type) is not { } fresh)
        {
            table.Remove(id);
            return;
        }
        var seq = b[SeqField].AsInt64;
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
            else table[doc.Id] = entry = new Entry(doc, ++_seq);
            _journal!.Dirty.Add((slot, doc.Id));
            return doc;
        });
    }

    public bool Delete<T>(string id) where T : class, IDocument
    {
        return Transaction(() =>
        {
            var slot = SlotOf(typeof(T));
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

    /// <summary>Deletes every document of both modes (the first step of <c>POST /_emulator/reset</c>).</summary>
    public void Clear()
    {
        Transaction(() =>
        {
            var journal = _journal!;
            journal.Cleared = true;
            foreach (var (slot, table) in _docs)
                if (table.Count > 0 || journal.Dirty.Any(d => d.Item1 == slot)) journal.ClearedSlots.Add(slot);
            journal.Dirty.Clear();
            _docs.Clear();
        });
    }

    // ---- BSON <-> System.Text.Json: documents keep their JSON shape (camelCase, as Json.StoreOptions writes them).

    private static BsonDocument ToBson(IDocument doc, Type type, long seq)
    {
        var element = JsonSerializer.SerializeToElement(doc, type, Json.StoreOptions);
        var b = (BsonDocument)ToBson(element);
        b["_id"] = doc.Id;
        b[SeqField] = seq;
        return b;
    }

    private static BsonValue ToBson(JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                var d = new BsonDocument();
                foreach (var p in e.EnumerateObject()) d[p.Name] = ToBson(p.Value);
                return d;
            case JsonValueKind.Array:
                var a = new BsonArray();
                foreach (var v in e.EnumerateArray()) a.Add(ToBson(v));
                return a;
            case JsonValueKind.String: return new BsonValue(e.GetString());
            case JsonValueKind.Number:
                if (e.TryGetInt32(out var i)) return new BsonValue(i);
                if (e.TryGetInt64(out var l)) return new BsonValue(l);
                var raw = e.GetRawText();
                if (raw.IndexOfAny(['e', 'E']) < 0 && e.TryGetDecimal(out var m)) return new BsonValue(m);
                return new BsonValue(e.GetDouble());
            case JsonValueKind.True: return new BsonValue(true);
            case JsonValueKind.False: return new BsonValue(false);
            default: return BsonValue.Null;
        }
    }

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
        lock (_sync) _db.Dispose();
    }
}
