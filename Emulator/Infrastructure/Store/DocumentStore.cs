using System.Reflection;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Fanfare.Emulator.Infrastructure.Store;

/// <summary>Anything kept in the store: one JSON row per document, keyed by (kind, id).</summary>
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
/// The emulator's single store: SQLite in one file (<c>emulator.db</c>, WAL) or in memory, holding every document as JSON
/// in one table, with an in-memory index of live objects for reads. Writes go through to SQLite at once (state survives a
/// restart). All access is serialized by one reentrant lock; <see cref="Transaction{T}"/> groups several writes into one
/// SQLite transaction and one atomic step for concurrent callers (parallel bids never lose an update).
/// Engines must check inputs before mutating documents: objects read are the live ones.
/// </summary>
public sealed class DocumentStore : IDisposable
{
    private readonly object _sync = new();
    private readonly SqliteConnection _db;
    private readonly Dictionary<Type, OrderedDictionary<string, IDocument>> _docs = [];
    private readonly Dictionary<string, Type> _kinds = [];
    private readonly Dictionary<Type, string> _kindOf = [];
    private readonly SqliteCommand _upsert, _delete;
    private SqliteTransaction? _tx;
    private int _depth;

    public DocumentStore(string connectionString, IEnumerable<Assembly>? assemblies = null)
    {
        SQLitePCL.Batteries_V2.Init();
        foreach (var t in (assemblies ?? [typeof(DocumentStore).Assembly]).SelectMany(a => a.GetTypes())
                     .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IDocument).IsAssignableFrom(t)))
        {
            var kind = t.GetCustomAttribute<DocumentKindAttribute>()?.Kind ?? t.Name;
            _kinds[kind] = t; _kindOf[t] = kind;
        }
        _db = new SqliteConnection(connectionString);
        _db.Open();
        Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;");
        Exec("CREATE TABLE IF NOT EXISTS documents (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, id TEXT NOT NULL, json TEXT NOT NULL, UNIQUE(kind, id));");
        _upsert = _db.CreateCommand();
        _upsert.CommandText = "INSERT INTO documents(kind, id, json) VALUES ($k, $i, $j) ON CONFLICT(kind, id) DO UPDATE SET json = excluded.json;";
        _upsert.Parameters.Add("$k", SqliteType.Text); _upsert.Parameters.Add("$i", SqliteType.Text); _upsert.Parameters.Add("$j", SqliteType.Text);
        _delete = _db.CreateCommand();
        _delete.CommandText = "DELETE FROM documents WHERE kind = $k AND id = $i;";
        _delete.Parameters.Add("$k", SqliteType.Text); _delete.Parameters.Add("$i", SqliteType.Text);
        Load();
    }

    /// <summary>Opens <c>{dataDirectory}/emulator.db</c>, or a private in-memory database.</summary>
    public static DocumentStore Open(bool inMemory, string dataDirectory)
    {
        if (inMemory) return new DocumentStore("Data Source=:memory:");
        Directory.CreateDirectory(dataDirectory);
        return new DocumentStore($"Data Source={Path.Combine(dataDirectory, "emulator.db")}");
    }

    /// <summary>The lock every engine step holds; reentrant.</summary>
    public object Sync => _sync;

    /// <summary>True when nothing is stored yet (the seed is loaded into an empty store only).</summary>
    public bool IsEmpty { get { lock (_sync) return _docs.Values.All(d => d.Count == 0); } }

    private void Exec(string sql)
    {
        using var c = _db.CreateCommand();
        c.CommandText = sql;
        c.ExecuteNonQuery();
    }

    private void Load()
    {
        using var c = _db.CreateCommand();
        c.CommandText = "SELECT kind, id, json FROM documents ORDER BY seq;";
        using var r = c.ExecuteReader();
        while (r.Read())
        {
            if (!_kinds.TryGetValue(r.GetString(0), out var type)) continue; // a kind this build no longer knows
            if (JsonSerializer.Deserialize(r.GetString(2), type, Json.StoreOptions) is IDocument doc) Table(type)[doc.Id] = doc;
        }
    }

    private OrderedDictionary<string, IDocument> Table(Type t)
    {
        if (!_docs.TryGetValue(t, out var d)) _docs[t] = d = new OrderedDictionary<string, IDocument>(StringComparer.Ordinal);
        return d;
    }

    private string KindOf(Type t) => _kindOf.TryGetValue(t, out var k) ? k : throw new InvalidOperationException($"{t.Name} is not a document type");

    /// <summary>Runs <paramref name="work"/> atomically: one lock, one SQLite transaction.</summary>
    public T Transaction<T>(Func<T> work)
    {
        lock (_sync)
        {
            if (_depth++ == 0) _tx = _db.BeginTransaction();
            try
            {
                return work();
            }
            finally
            {
                if (--_depth == 0)
                {
                    _tx!.Commit(); // memory is already changed; keep the file in step with it
                    _tx.Dispose(); _tx = null;
                }
            }
        }
    }

    public void Transaction(Action work) => Transaction(() => { work(); return 0; });

    public T? Get<T>(string? id) where T : class, IDocument
    {
        if (id is null) return null;
        lock (_sync) return Table(typeof(T)).TryGetValue(id, out var d) ? (T)d : null;
    }

    /// <summary>Every document of a kind, in first-insertion order (deterministic).</summary>
    public List<T> All<T>() where T : class, IDocument
    {
        lock (_sync) return Table(typeof(T)).Values.Cast<T>().ToList();
    }

    public List<T> Where<T>(Func<T, bool> predicate) where T : class, IDocument
    {
        lock (_sync) return Table(typeof(T)).Values.Cast<T>().Where(predicate).ToList();
    }

    public T? First<T>(Func<T, bool> predicate) where T : class, IDocument
    {
        lock (_sync) return Table(typeof(T)).Values.Cast<T>().FirstOrDefault(predicate);
    }

    public int Count<T>() where T : class, IDocument
    {
        lock (_sync) return Table(typeof(T)).Count;
    }

    /// <summary>Inserts or replaces, in memory and in SQLite.</summary>
    public T Put<T>(T doc) where T : class, IDocument
    {
        lock (_sync)
        {
            var type = doc.GetType();
            Table(type)[doc.Id] = doc;
            _upsert.Transaction = _tx;
            _upsert.Parameters[0].Value = KindOf(type);
            _upsert.Parameters[1].Value = doc.Id;
            _upsert.Parameters[2].Value = JsonSerializer.Serialize(doc, type, Json.StoreOptions);
            _upsert.ExecuteNonQuery();
            return doc;
        }
    }

    public bool Delete<T>(string id) where T : class, IDocument
    {
        lock (_sync)
        {
            if (!Table(typeof(T)).Remove(id)) return false;
            _delete.Transaction = _tx;
            _delete.Parameters[0].Value = KindOf(typeof(T));
            _delete.Parameters[1].Value = id;
            _delete.ExecuteNonQuery();
            return true;
        }
    }

    /// <summary>Deletes every document (the first step of <c>POST /_emulator/reset</c>).</summary>
    public void Clear()
    {
        lock (_sync)
        {
            _docs.Clear();
            using var c = _db.CreateCommand();
            c.Transaction = _tx;
            c.CommandText = "DELETE FROM documents;";
            c.ExecuteNonQuery();
        }
    }

    public void Dispose()
    {
        lock (_sync)
        {
            _upsert.Dispose(); _delete.Dispose();
            _db.Dispose();
        }
    }
}
