using System.Text.Json;
using JsonSerializer = System.Text.Json.JsonSerializer;

namespace Fanfare.Emulator.Infrastructure.Store;

/// <summary>One document of a snapshot: the partition it lives in (<c>shared</c>, <c>test</c> or <c>live</c>) and the object.</summary>
public readonly record struct SnapshotDocument(string Partition, IDocument Doc);

/// <summary>A problem found while reading a snapshot's documents: where (keys and indexes from the snapshot's root) and what.</summary>
public sealed record SnapshotProblem(IReadOnlyList<object> Path, string Type, string Expected, string Received, string Message);

/// <summary>
/// Store-level snapshots (issue 17 §4, <c>GET|PUT /_emulator/state</c>): every document of every kind, per partition, as
/// one JSON object, and back. Documents keep the JSON shape the store itself writes (<see cref="Json.StoreOptions"/>:
/// camelCase, nulls kept). The internal sequence numbers are not exported: the documents of a kind are listed in their
/// first-insertion order (the order every read of the store iterates in) and imported in that order, which gives the
/// same order back.
/// </summary>
public sealed partial class DocumentStore
{
    /// <summary>The partitions of a snapshot, in the order they are written: kinds shared across modes
    /// (<see cref="SharedAcrossModesAttribute"/>), then the test and live partitions (collections <c>Kind</c> and <c>live_Kind</c>).</summary>
    public static readonly string[] SnapshotPartitions = ["shared", StoreModes.Test, StoreModes.Live];

    public const string SharedPartition = "shared";

    private Slot SnapshotSlot(string partition, Type t) => new(partition == SharedPartition ? "" : partition, t);

    /// <summary>The document types stored in <paramref name="partition"/>, by kind name (ordinal).</summary>
    private IEnumerable<(string Kind, Type Type)> KindsIn(string partition) =>
        _kindOf.Where(k => (partition == SharedPartition) == _shared.Contains(k.Key))
            .Select(k => (k.Value, k.Key)).OrderBy(k => k.Value, StringComparer.Ordinal);

    /// <summary>
    /// Writes <c>{"shared":{Kind:[doc…]…},"test":{…},"live":{…}}</c>: kinds by name (ordinal), the documents of a kind in
    /// first-insertion order, kinds without a (selected) document left out. <paramref name="include"/> selects documents
    /// (one sandbox's); null writes every one. Deterministic: the same state writes the same bytes.
    /// </summary>
    public void WriteSnapshot(Utf8JsonWriter w, Func<IDocument, bool>? include = null)
    {
        lock (_sync)
        {
            w.WriteStartObject();
            foreach (var partition in SnapshotPartitions)
            {
                w.WritePropertyName(partition);
                w.WriteStartObject();
                foreach (var (kind, type) in KindsIn(partition))
                {
                    if (!_docs.TryGetValue(SnapshotSlot(partition, type), out var table) || table.Count == 0) continue;
                    var started = false;
                    foreach (var e in table.Values)
                    {
                        if (include is not null && !include(e.Doc)) continue;
                        if (!started) { w.WritePropertyName(kind); w.WriteStartArray(); started = true; }
                        JsonSerializer.Serialize(w, e.Doc, type, Json.StoreOptions);
                    }
                    if (started) w.WriteEndArray();
                }
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
    }

    /// <summary>
    /// Reads the <c>documents</c> object written by <see cref="WriteSnapshot"/> without touching the store: every document
    /// deserialized as its kind, in order. Unknown partitions or kinds, a kind in the wrong partition, a document that does
    /// not deserialize, has no id or repeats an id of its kind and partition are reported in <paramref name="problems"/>
    /// (path from the snapshot's root, <paramref name="at"/> being the path of <paramref name="documents"/>).
    /// </summary>
    public List<SnapshotDocument> ReadSnapshot(JsonElement documents, IReadOnlyList<object> at, List<SnapshotProblem> problems)
    {
        var result = new List<SnapshotDocument>();
        if (documents.ValueKind != JsonValueKind.Object)
        {
            problems.Add(new(at, "object", "Object", Kind(documents), $"Invalid type: Expected Object but received {Kind(documents)}"));
            return result;
        }
        Dictionary<string, Type> byKind;
        lock (_sync) byKind = _kindOf.ToDictionary(k => k.Value, k => k.Key, StringComparer.Ordinal);
        foreach (var part in documents.EnumerateObject())
        {
            object[] partPath = [.. at, part.Name];
            if (!SnapshotPartitions.Contains(part.Name))
            {
                problems.Add(new(partPath, "partition", "'shared' | 'test' | 'live'", $"\"{part.Name}\"",
                    $"Invalid key: Expected 'shared', 'test' or 'live' but received \"{part.Name}\""));
                continue;
            }
            if (part.Value.ValueKind != JsonValueKind.Object)
            {
                problems.Add(new(partPath, "object", "Object", Kind(part.Value), $"Invalid type: Expected Object but received {Kind(part.Value)}"));
                continue;
            }
            foreach (var kind in part.Value.EnumerateObject())
            {
                object[] kindPath = [.. partPath, kind.Name];
                if (!byKind.TryGetValue(kind.Name, out var type))
                {
                    problems.Add(new(kindPath, "kind", "a document kind", $"\"{kind.Name}\"", $"Unknown document kind \"{kind.Name}\""));
                    continue;
                }
                bool shared;
                lock (_sync) shared = _shared.Contains(type);
                if (shared != (part.Name == SharedPartition))
                {
                    problems.Add(new(kindPath, "partition", shared ? "'shared'" : "'test' | 'live'", $"\"{part.Name}\"",
                        shared ? $"{kind.Name} is shared across modes: it belongs under \"shared\""
                               : $"{kind.Name} belongs to a mode: it belongs under \"test\" or \"live\", not \"shared\""));
                    continue;
                }
                if (kind.Value.ValueKind != JsonValueKind.Array)
                {
                    problems.Add(new(kindPath, "array", "Array", Kind(kind.Value), $"Invalid type: Expected Array but received {Kind(kind.Value)}"));
                    continue;
                }
                var seen = new HashSet<string>(StringComparer.Ordinal);
                var i = 0;
                foreach (var element in kind.Value.EnumerateArray())
                {
                    object[] docPath = [.. kindPath, i++];
                    IDocument? doc = null;
                    string? error = null;
                    if (element.ValueKind != JsonValueKind.Object) error = $"Invalid type: Expected Object but received {Kind(element)}";
                    else
                        try { doc = JsonSerializer.Deserialize(element, type, Json.StoreOptions) as IDocument; }
                        catch (Exception e) when (e is JsonException or InvalidOperationException or NotSupportedException or ArgumentException or FormatException)
                        {
                            error = $"Invalid {kind.Name}: " + e.Message.Split(" Path:")[0];
                        }
                    if (doc is null)
                    {
                        problems.Add(new(docPath, "document", kind.Name, Kind(element), error ?? $"Invalid {kind.Name}: null"));
                        continue;
                    }
                    if (string.IsNullOrEmpty(doc.Id))
                    {
                        problems.Add(new([.. docPath, "id"], "string", "non-empty string", "\"\"", $"Invalid {kind.Name}: a document needs an id"));
                        continue;
                    }
                    if (!seen.Add(doc.Id))
                    {
                        problems.Add(new([.. docPath, "id"], "unique", "an id not used before in this kind", $"\"{doc.Id}\"",
                            $"Duplicate {kind.Name} id \"{doc.Id}\" in {part.Name}"));
                        continue;
                    }
                    result.Add(new SnapshotDocument(part.Name, doc));
                }
            }
        }
        return result;
    }

    private static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "Object",
        JsonValueKind.Array => "Array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        JsonValueKind.Null => "null",
        _ => "undefined",
    };

    /// <summary>The document stored under <paramref name="id"/> in a snapshot partition, if any (collision checks).</summary>
    public IDocument? Peek(string partition, Type type, string id)
    {
        lock (_sync)
            return _docs.TryGetValue(SnapshotSlot(partition, type), out var t) && t.TryGetValue(id, out var e) ? e.Doc : null;
    }

    /// <summary>Replaces every document of both modes by <paramref name="docs"/>, in one transaction (all or nothing), the
    /// documents of each kind inserted in the order given.</summary>
    public void ReplaceAll(IReadOnlyList<SnapshotDocument> docs) => Transaction(() =>
    {
        Clear();
        PutAll(docs);
    });

    /// <summary>Deletes the documents <paramref name="remove"/> selects and inserts <paramref name="docs"/>, in one
    /// transaction (a sandbox's state replaced).</summary>
    public void Replace(Func<IDocument, bool> remove, IReadOnlyList<SnapshotDocument> docs) => Transaction(() =>
    {
        DeleteAll(remove);
        PutAll(docs);
    });

    private void PutAll(IReadOnlyList<SnapshotDocument> docs)
    {
        foreach (var d in docs)
            using (UseMode(d.Partition == SharedPartition ? null : d.Partition))
                Put(d.Doc);
    }
}
