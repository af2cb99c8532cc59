using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Control.Sandboxes;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Ids;
using Fanfare.Emulator.Infrastructure.Scheduling;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Control.Snapshots;

/// <summary>The answer of <c>PUT /_emulator/state</c>: what was replaced (<c>scope</c> <c>emulator</c> | <c>sandbox</c>,
/// <c>sandboxId</c> for a sandbox) and how many documents the snapshot held.</summary>
public sealed record SnapshotImportResult(string Scope, string? SandboxId, int Documents);

/// <summary>
/// Snapshots of the emulator's state (issue 17 §4): <see cref="Export"/> writes the whole state, or one sandbox's, as one
/// JSON document; <see cref="Import"/> checks one completely and then replaces the state with it in one step.
/// <para>Format (version <see cref="FormatVersion"/>), members in this order:</para>
/// <code>
/// {
///   "format": "fanfare-emulator-snapshot", "formatVersion": 1, "emulatorVersion": "…",
///   "scope": "emulator" | "sandbox", "sandboxId": "sbx_…" (scope sandbox only),
///   "clock": {"mode": "system"|"frozen"|"offset", "frozenAt": ISO|null, "offsetMilliseconds": N},
///   "ids": {"randomSeed": "…"},          (scope emulator only)
///   "scheduler": {"sequence": N},        (scope emulator only)
///   "documents": {"shared": {Kind: [doc…]}, "test": {…}, "live": {…}}
/// }
/// </code>
/// <c>clock</c> is the global clock (scope emulator) or the sandbox's (scope sandbox); every sandbox's clock is also in its
/// <c>Sandbox</c> document. <c>documents</c>: every document of every kind as the store keeps it, kinds by name, each
/// kind's documents in insertion order (no internal sequence numbers). Scheduled work is there as <c>ScheduledJob</c>
/// documents, id counters as <c>IdCounter</c> documents; <c>ids.randomSeed</c> is the key every id, code and secret is
/// derived from and <c>scheduler.sequence</c> the creation number of the last job (ties in due time run in creation order):
/// with them a journey continued after an import produces the same ids, codes, tokens and timestamps.
/// <para>Not in a snapshot (control-plane runtime, left as it is by an import): fault rules, the request journal,
/// rate-limit counters and settings. Engines' in-memory indexes are dropped and rebuilt from the imported documents.</para>
/// </summary>
public sealed class SnapshotService(
    DocumentStore store, EmulatorClock clock, IdGenerator ids, Scheduler scheduler, SandboxService sandboxes,
    IEnumerable<IFeatureModule> modules, IServiceProvider services)
{
    public const string Format = "fanfare-emulator-snapshot";
    public const int FormatVersion = 1;
    public const string ScopeEmulator = "emulator", ScopeSandbox = "sandbox";

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The whole state (<paramref name="sandboxId"/> null) or one sandbox's (404 <c>Sandbox not found</c>), as
    /// UTF-8 JSON. With the clocks frozen, the same state always gives the same bytes.</summary>
    public byte[] Export(string? sandboxId = null)
    {
        lock (store.Sync)
        {
            var sandbox = sandboxId is null ? null : sandboxes.Get(sandboxId);
            var buffer = new ArrayBufferWriter<byte>(64 * 1024);
            using (var w = new Utf8JsonWriter(buffer, WriterOptions))
            {
                w.WriteStartObject();
                w.WriteString("format", Format);
                w.WriteNumber("formatVersion", FormatVersion);
                w.WriteString("emulatorVersion", EmulatorState.Version);
                w.WriteString("scope", sandbox is null ? ScopeEmulator : ScopeSandbox);
                if (sandbox is not null) w.WriteString("sandboxId", sandbox.Id);
                w.WritePropertyName("clock");
                JsonSerializer.Serialize(w, (sandbox is null ? clock : sandboxes.ClockOf(sandbox)).Capture(), Json.StoreOptions);
                if (sandbox is null)
                {
                    w.WriteStartObject("ids");
                    w.WriteString("randomSeed", ids.Seed);
                    w.WriteEndObject();
                    w.WriteStartObject("scheduler");
                    w.WriteNumber("sequence", scheduler.Sequence);
                    w.WriteEndObject();
                }
                w.WritePropertyName("documents");
                store.WriteSnapshot(w, sandbox is null ? null : SandboxService.OwnedBy(sandbox));
                w.WriteEndObject();
            }
            buffer.Write("\n"u8);
            return buffer.WrittenSpan.ToArray();
        }
    }

    /// <summary>What a snapshot holds, read and checked (nothing applied yet).</summary>
    private sealed record Parsed(string Scope, string? SandboxId, ClockState Clock, string? RandomSeed, long Sequence, List<SnapshotDocument> Docs);

    /// <summary>
    /// Replaces the state by <paramref name="json"/>'s: the whole state (scope <c>emulator</c>), or one sandbox's (scope
    /// <c>sandbox</c>: its documents removed and the snapshot's put in, created if it does not exist; everything else
    /// untouched). Everything is checked first: a problem throws the std 400 <c>validation_error</c> listing the issues
    /// and changes nothing. Then, in one store transaction, the documents are replaced; the clocks are set, the scheduler
    /// index rebuilt and the engines' caches dropped. Returns what was imported.
    /// </summary>
    public SnapshotImportResult Import(ReadOnlyMemory<byte> json)
    {
        var p = Parse(json);
        lock (store.Sync)
        {
            if (p.Scope == ScopeEmulator)
            {
                store.Transaction(() => store.ReplaceAll(p.Docs));
                ids.SetSeed(p.RandomSeed!);
                clock.Restore(p.Clock);
                sandboxes.ReloadClocks();
                scheduler.Rebuild();
                scheduler.ContinueSequence(p.Sequence);
            }
            else
            {
                var before = scheduler.Sequence;
                var incoming = (Sandbox)p.Docs.Single(d => d.Doc is Sandbox).Doc;
                incoming.Clock = p.Clock;
                var existing = store.Get<Sandbox>(p.SandboxId);
                store.Transaction(() => store.Replace(existing is null ? _ => false : SandboxService.OwnedBy(existing), p.Docs));
                if (existing is not null) services.GetRequiredService<OrganizationClocks>().Remove(existing.OrganizationIds);
                sandboxes.ReloadClock(incoming);
                scheduler.Rebuild();
                scheduler.ContinueSequence(before);
            }
            foreach (var m in modules) m.OnStateReplaced(services);
        }
        return new SnapshotImportResult(p.Scope, p.SandboxId, p.Docs.Count);
    }

    /// <summary>Loads a snapshot file at start (<c>--snapshot FILE</c>); a bad file is an <see cref="EmulatorStartupException"/>.</summary>
    public void LoadFile(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new EmulatorStartupException($"snapshot file {path}: {e.Message}");
        }
        try { Import(bytes); }
        catch (ApiException e) when (e.Status == 400)
        {
            var first = e.Body?["issues"]?.AsArray().FirstOrDefault();
            var where = first?["path"]?.AsArray().Select(s => s?["key"]?.ToJsonString().Trim('"')).Where(k => k is not null).ToList() ?? [];
            var message = first?["message"]?.GetValue<string>() ?? "invalid snapshot";
            var count = e.Body?["issues"]?.AsArray().Count ?? 0;
            throw new EmulatorStartupException($"snapshot file {path} is not a valid snapshot: {(where.Count > 0 ? string.Join(".", where) + ": " : "")}{message}" +
                (count > 1 ? $" (and {count - 1} more)" : ""));
        }
    }

    // ------------------------------------------------------------------ reading and checking

    private Parsed Parse(ReadOnlyMemory<byte> json)
    {
        var problems = new List<SnapshotProblem>();
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 256, AllowDuplicateProperties = false });
        }
        catch (JsonException e)
        {
            throw Validation.Exception([new ValidationIssue("schema", "json", "JSON", "malformed",
                Validation.Cut("Malformed JSON: " + e.Message.Split(" Path:")[0]), [])]);
        }
        using (doc)
        {
            try { return Parse(doc.RootElement, problems); }
            catch (InvalidOperationException) // a string or key that is not valid UTF-16 (an escaped lone surrogate)
            {
                throw Validation.Exception([new ValidationIssue("schema", "string", "valid Unicode text", "a lone surrogate",
                    "Invalid string: the snapshot holds a lone UTF-16 surrogate", [])]);
            }
        }
    }

    private Parsed Parse(JsonElement root, List<SnapshotProblem> problems)
    {
        {
            if (root.ValueKind != JsonValueKind.Object)
                throw Validation.Exception([new ValidationIssue("schema", "object", "Object", root.ValueKind.ToString(),
                    $"Invalid type: Expected a snapshot object but received {root.ValueKind}", [])]);

            string? Str(string key, bool required = true)
            {
                if (!root.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null)
                {
                    if (required) problems.Add(new([key], "string", "string", "undefined", $"Invalid type: Expected string but received undefined"));
                    return null;
                }
                if (v.ValueKind == JsonValueKind.String) return v.GetString();
                problems.Add(new([key], "string", "string", v.ValueKind.ToString(), $"Invalid type: Expected string but received {v.ValueKind}"));
                return null;
            }

            var format = Str("format");
            if (format is not null && format != Format)
                problems.Add(new(["format"], "literal", $"\"{Format}\"", $"\"{format}\"", $"Invalid format: Expected \"{Format}\" but received \"{format}\""));
            if (!root.TryGetProperty("formatVersion", out var version) || version.ValueKind != JsonValueKind.Number
                || !version.TryGetInt32(out var v) || v != FormatVersion)
            {
                var got = root.TryGetProperty("formatVersion", out var g) ? g.GetRawText() : "undefined";
                // An unknown version: nothing else is checked (its shape may be anything).
                throw Issues([new(["formatVersion"], "format_version", FormatVersion.ToString(), Validation.Cut(got),
                    $"Unsupported snapshot format version: this emulator reads version {FormatVersion}, received {Validation.Cut(got)}")]);
            }

            var scope = Str("scope");
            if (scope is not null && scope is not (ScopeEmulator or ScopeSandbox))
                problems.Add(new(["scope"], "enum", "'emulator' | 'sandbox'", $"\"{scope}\"", $"Invalid enum value. Expected 'emulator' | 'sandbox', received '{scope}'"));
            var sandboxId = scope == ScopeSandbox ? Str("sandboxId") : null;

            var clockState = ReadClock(root, problems);

            string? randomSeed = null;
            long sequence = 0;
            if (scope == ScopeEmulator)
            {
                if (root.TryGetProperty("ids", out var idsEl) && idsEl.ValueKind == JsonValueKind.Object
                    && idsEl.TryGetProperty("randomSeed", out var rs) && rs.ValueKind == JsonValueKind.String)
                    randomSeed = rs.GetString();
                else problems.Add(new(["ids", "randomSeed"], "string", "string", "undefined", "Invalid type: Expected string but received undefined"));
                if (root.TryGetProperty("scheduler", out var sch) && sch.ValueKind == JsonValueKind.Object
                    && sch.TryGetProperty("sequence", out var seq))
                {
                    if (seq.ValueKind != JsonValueKind.Number || !seq.TryGetInt64(out sequence) || sequence < 0)
                        problems.Add(new(["scheduler", "sequence"], "integer", "integer >= 0", Validation.Cut(seq.GetRawText()), $"Invalid value: Expected an integer >= 0 but received {Validation.Cut(seq.GetRawText())}"));
                }
            }

            List<SnapshotDocument> docs = [];
            if (!root.TryGetProperty("documents", out var documents))
                problems.Add(new(["documents"], "object", "Object", "undefined", "Invalid type: Expected Object but received undefined"));
            else docs = store.ReadSnapshot(documents, ["documents"], problems);

            if (scope == ScopeSandbox && sandboxId is not null && problems.Count == 0) CheckSandbox(sandboxId, docs, problems);
            if (problems.Count > 0) throw Issues(problems);
            return new Parsed(scope!, sandboxId, clockState!, randomSeed, sequence, docs);
        }
    }

    private static ClockState? ReadClock(JsonElement root, List<SnapshotProblem> problems)
    {
        if (!root.TryGetProperty("clock", out var c) || c.ValueKind != JsonValueKind.Object)
        {
            problems.Add(new(["clock"], "object", "Object", "undefined", "Invalid type: Expected Object but received undefined"));
            return null;
        }
        ClockState? state;
        try { state = c.Deserialize<ClockState>(Json.StoreOptions); }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            problems.Add(new(["clock"], "clock", "{mode, frozenAt, offsetMilliseconds}", "Object", "Invalid clock: " + e.Message.Split(" Path:")[0]));
            return null;
        }
        if (state is null || !ClockState.Modes.Contains(state.Mode))
            problems.Add(new(["clock", "mode"], "enum", "'system' | 'frozen' | 'offset'", $"\"{state?.Mode}\"", $"Invalid enum value. Expected 'system' | 'frozen' | 'offset', received '{state?.Mode}'"));
        else if (state.Mode == "frozen" && state.FrozenAt is null)
            problems.Add(new(["clock", "frozenAt"], "string", "ISO 8601 instant", "null", "A frozen clock needs frozenAt"));
        return state;
    }

    /// <summary>A sandbox snapshot holds its one <c>Sandbox</c> document and only what belongs to it, and none of its
    /// documents may collide with one outside the sandbox.</summary>
    private void CheckSandbox(string sandboxId, List<SnapshotDocument> docs, List<SnapshotProblem> problems)
    {
        var boxes = docs.Where(d => d.Doc is Sandbox).Select(d => (Sandbox)d.Doc).ToList();
        if (boxes.Count != 1 || boxes[0].Id != sandboxId)
        {
            problems.Add(new(["documents", DocumentStore.SharedPartition, "Sandbox"], "sandbox", $"exactly one Sandbox, \"{sandboxId}\"",
                $"{boxes.Count} Sandbox document(s)", $"A sandbox snapshot holds exactly its own Sandbox document (\"{sandboxId}\")"));
            return;
        }
        var owned = SandboxService.OwnedBy(boxes[0]);
        var existing = store.Get<Sandbox>(sandboxId);
        var ownedNow = existing is null ? null : SandboxService.OwnedBy(existing);
        foreach (var d in docs)
        {
            var kind = d.Doc.GetType().Name;
            if (!owned(d.Doc))
                problems.Add(new(["documents", d.Partition, kind], "sandbox", $"a document of sandbox {sandboxId}", $"\"{d.Doc.Id}\"",
                    $"{kind} \"{d.Doc.Id}\" belongs to no organization of sandbox {sandboxId}"));
            else if (store.Peek(d.Partition, d.Doc.GetType(), d.Doc.Id) is { } there && (ownedNow is null || !ownedNow(there)))
                problems.Add(new(["documents", d.Partition, kind], "conflict", "an id not used outside the sandbox", $"\"{d.Doc.Id}\"",
                    $"{kind} \"{d.Doc.Id}\" already exists outside sandbox {sandboxId}"));
            if (problems.Count >= Validation.MaxIssues) return;
        }
    }

    private static ApiException Issues(IEnumerable<SnapshotProblem> problems) =>
        Validation.Exception(problems.Select(p => new ValidationIssue("schema", p.Type, p.Expected, p.Received, p.Message, PathOf(p.Path))));

    private static JsonArray PathOf(IReadOnlyList<object> keys)
    {
        var path = new JsonArray();
        foreach (var k in keys)
            path.Add(new JsonObject
            {
                ["type"] = k is int ? "array" : "object", ["origin"] = "value", ["input"] = k is int ? new JsonArray() : new JsonObject(),
                ["key"] = k is int i ? JsonValue.Create(i) : JsonValue.Create((string)k),
            });
        return path;
    }
}

/// <summary>Metadata of <see cref="SnapshotImportResult"/> generated at compile time (what a NativeAOT build writes it
/// with: <see cref="Infrastructure.Json.ConfigureHttp"/>).</summary>
[System.Text.Json.Serialization.JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[System.Text.Json.Serialization.JsonSerializable(typeof(SnapshotImportResult))]
internal sealed partial class SnapshotJson : System.Text.Json.Serialization.JsonSerializerContext;
