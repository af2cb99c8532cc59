using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Fanfare.Emulator.Infrastructure.Errors;

namespace Fanfare.Emulator.Infrastructure.Errors;

/// <summary>
/// One entry of the std 400 body (README "std" errors):
/// <c>{ kind, type, expected, received, message, path: [{type, origin, input, key}] }</c> (Valibot's issue shape,
/// which the generated OpenAPI documents).
/// </summary>
public sealed record ValidationIssue(string Kind, string Type, string Expected, string Received, string Message, JsonArray Path);

/// <summary>
/// 400 <c>{"error":"validation_error","issues":[…]}</c>. A 400 never amplifies its request: at most
/// <see cref="MaxIssues"/> issues and about <see cref="MaxIssueBytes"/> of them (the first ones, like Valibot's issue list
/// cut short), each path item's <c>input</c> is a
/// shallow summary of the enclosing value (<see cref="Summarize(JsonNode?)"/>: its scalar members, nested objects/arrays as empty
/// placeholders, long strings cut), and <c>received</c>/<c>message</c> are cut at <see cref="MaxText"/> characters.
/// </summary>
public static class Validation
{
    /// <summary>Issues one 400 lists at most.</summary>
    public const int MaxIssues = 100;
    /// <summary>Longest <c>received</c>/<c>message</c> (characters) and longest string echoed in a path's <c>input</c>.</summary>
    public const int MaxText = 200;
    /// <summary>Size budget of the issue list (characters of JSON): issues past it are left out (the first one never is).</summary>
    public const int MaxIssueBytes = 32 * 1024;
    private const int MaxSummaryMembers = 10;

    public static ApiException Exception(IEnumerable<ValidationIssue> issues)
    {
        var arr = new JsonArray();
        var bytes = 0;
        foreach (var i in issues)
        {
            if (arr.Count >= MaxIssues) break;
            var path = new JsonArray();
            foreach (var step in i.Path)
            {
                if (step is JsonObject so)
                {
                    var copy = new JsonObject();
                    foreach (var (k, v) in so) copy[k] = k == "input" ? Summarize(v) : Summarize(v, depth: 0);
                    path.Add(copy);
                }
                else path.Add(Summarize(step, depth: 0));
            }
            var issue = new JsonObject
            {
                ["kind"] = i.Kind, ["type"] = i.Type, ["expected"] = Cut(i.Expected), ["received"] = Cut(i.Received),
                ["message"] = Cut(i.Message), ["path"] = path,
            };
            bytes += issue.ToJsonString().Length;
            if (arr.Count > 0 && bytes > MaxIssueBytes) break;
            arr.Add(issue);
        }
        return new ApiException(400, "validation_error", null, new JsonObject { ["error"] = "validation_error", ["issues"] = arr });
    }

    /// <summary>Cuts a string to <see cref="MaxText"/> characters (with <c>…</c>), never splitting a surrogate pair.</summary>
    public static string Cut(string s)
    {
        if (s.Length <= MaxText) return s;
        var n = MaxText;
        if (char.IsHighSurrogate(s[n - 1])) n--;
        return s[..n] + "…";
    }

    /// <summary>
    /// A bounded copy of an issue's <c>input</c>: an object keeps its first members with scalar values (strings cut), its
    /// nested objects and arrays become <c>{}</c> and <c>[]</c>; an array likewise. So an issue never repeats the enclosing
    /// objects and a response stays a small multiple of its request however deep or wide the input is.
    /// </summary>
    public static JsonNode? Summarize(JsonNode? input) => Summarize(input, depth: 1);

    private static JsonNode? Summarize(JsonNode? n, int depth)
    {
        switch (n)
        {
            case null: return null;
            case JsonObject o:
                var obj = new JsonObject();
                if (depth <= 0) return obj;
                try
                {
                    foreach (var (k, v) in o)
                    {
                        if (obj.Count >= MaxSummaryMembers) break;
                        obj[Cut(k)] = Summarize(v, depth - 1);
                    }
                }
                catch (InvalidOperationException) { } // a property name that is not valid UTF-16: left out
                return obj;
            case JsonArray a:
                var arr = new JsonArray();
                if (depth <= 0) return arr;
                foreach (var v in a)
                {
                    if (arr.Count >= MaxSummaryMembers) break;
                    arr.Add(Summarize(v, depth - 1));
                }
                return arr;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                return JsonValue.Create(Cut(SafeString(v)));
            case JsonValue v when v.GetValueKind() == JsonValueKind.Number:
                var raw = v.ToJsonString();
                return double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d)
                    ? n.DeepClone() : JsonValue.Create(Cut(raw));
            default:
                return n.DeepClone();
        }
    }

    public static ApiException Single(string key, string type, string expected, string received, string message, string kind = "validation")
        => Exception([new ValidationIssue(kind, type, expected, received, message, PathFor(null, key))]);

    /// <summary>How Valibot prints a received value: strings quoted, objects <c>Object</c>, arrays <c>Array</c>.</summary>
    public static string Describe(JsonNode? n) => n switch
    {
        null => "null",
        JsonObject => "Object",
        JsonArray => "Array",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => "\"" + Cut(SafeString(v)) + "\"",
        JsonValue v => Cut(v.ToJsonString()),
        _ => Cut(n.ToJsonString()),
    };

    /// <summary>A string value, with U+FFFD for a lone surrogate instead of the exception <c>GetValue</c> throws.</summary>
    private static string SafeString(JsonValue v)
    {
        try { return v.GetValue<string>(); }
        catch (InvalidOperationException) { return "\uFFFD"; }
    }

    internal static JsonArray PathFor(JsonObject? input, string key, string origin = "value")
        => [new JsonObject { ["type"] = "object", ["origin"] = origin, ["input"] = Summarize(input) ?? new JsonObject(), ["key"] = key }];
}

/// <summary>
/// Reads and checks a JSON request body field by field, collecting every issue, then
/// <see cref="ThrowIfInvalid"/> throws the std 400. Malformed JSON, a non-object body, a missing required field, a wrong
/// type or a failed format check each become one issue; nothing is ever a 500.
/// </summary>
public sealed partial class BodyReader
{
    private readonly List<ValidationIssue> _issues = [];
    public JsonObject Root { get; }
    public bool HasIssues => _issues.Count > 0;

    private BodyReader(JsonObject root) => Root = root;

    /// <summary>Parses the request body. An absent body reads as <c>{}</c> unless <paramref name="required"/>.</summary>
    public static async Task<BodyReader> ReadAsync(HttpRequest request, bool required = false)
    {
        string text;
        using (var sr = new StreamReader(request.Body)) text = await sr.ReadToEndAsync();
        return Parse(text, required);
    }

    public static BodyReader Parse(string? text, bool required = false)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            var r = new BodyReader([]);
            if (required) r.Add(new("schema", "object", "Object", "undefined", "Invalid type: Expected Object but received undefined", []));
            return r;
        }
        JsonNode? node;
        // Duplicate keys are malformed here: JsonObject would otherwise throw (a 500) when the body is first read.
        try { node = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = false, AllowDuplicateProperties = false, MaxDepth = MaxDepth }); }
        catch (JsonException ex)
        {
            var r = new BodyReader([]);
            r.Add(new("schema", "json", "JSON", "malformed", Validation.Cut("Malformed JSON: " + ex.Message.Split(" Path:")[0]), []));
            return r;
        }
        catch (InvalidOperationException) // the duplicate-key check unescapes property names: a lone surrogate in one
        {
            throw Validation.Exception([new("schema", "string", "valid Unicode text", "a lone surrogate",
                "Invalid string: a property name contains a lone UTF-16 surrogate", [])]);
        }
        // Values JSON allows but the emulator cannot hold (lone surrogates, numbers beyond double range) are refused here,
        // once, for every endpoint: 400 with one issue per bad value, before any engine reads (or stores) them.
        var bad = new List<ValidationIssue>();
        CheckValues(node, [], bad);
        if (bad.Count > 0) throw Validation.Exception(bad);
        if (node is JsonObject o) return new BodyReader(o);
        var notObject = new BodyReader([]);
        notObject.Add(new("schema", "object", "Object", Validation.Describe(node), $"Invalid type: Expected Object but received {Validation.Describe(node)}", []));
        return notObject;
    }

    /// <summary>Deepest nesting a body may have (objects and arrays). Deeper bodies are malformed JSON (400), so anything
    /// stored from a body can always be written back out inside a response envelope.</summary>
    public const int MaxDepth = 32;

    /// <summary>
    /// Walks a parsed body and reports, with its path, every string (value or property name) that is not valid UTF-16
    /// (an escaped lone surrogate such as <c>"\ud800"</c>) and every number that is not a finite double (<c>1e309</c>).
    /// The path holds keys as they are (property name or index): a key's JSON node is only made for an issue's path
    /// (every body passes through here, and almost every body has no issue).
    /// </summary>
    private static void CheckValues(JsonNode? node, List<(JsonNode Container, object Key)> path, List<ValidationIssue> issues)
    {
        if (issues.Count >= Validation.MaxIssues) return;
        switch (node)
        {
            case JsonObject o:
                // Reading the members materializes them; a property name with a lone surrogate throws there, before any.
                try { _ = o.Count; }
                catch (InvalidOperationException)
                {
                    issues.Add(new("schema", "string", "valid Unicode text", "a lone surrogate",
                        "Invalid string: a property name contains a lone UTF-16 surrogate", PathOf(path)));
                    return;
                }
                foreach (var (k, v) in o)
                {
                    path.Add((o, k));
                    CheckValues(v, path, issues);
                    path.RemoveAt(path.Count - 1);
                }
                return;
            case JsonArray a:
                for (int i = 0; i < a.Count; i++)
                {
                    path.Add((a, i));
                    CheckValues(a[i], path, issues);
                    path.RemoveAt(path.Count - 1);
                }
                return;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                try { v.GetValue<string>(); }
                catch (InvalidOperationException)
                {
                    issues.Add(new("schema", "string", "valid Unicode text", "a lone surrogate",
                        "Invalid string: contains a lone UTF-16 surrogate", PathOf(path)));
                }
                return;
            case JsonValue v when v.GetValueKind() == JsonValueKind.Number:
                // (a parsed body's number is a JsonElement: its raw text is what ToJsonString writes, without a writer)
                var raw = v.TryGetValue<JsonElement>(out var element) ? element.GetRawText() : v.ToJsonString();
                if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || !double.IsFinite(d))
                    issues.Add(new("validation", "max_value", "a finite number", Validation.Cut(raw),
                        $"Invalid value: Expected a finite number but received {Validation.Cut(raw)}", PathOf(path)));
                return;
        }
    }

    private static JsonArray PathOf(List<(JsonNode Container, object Key)> path)
    {
        var a = new JsonArray();
        foreach (var (container, key) in path)
            a.Add(new JsonObject
            {
                ["type"] = container is JsonArray ? "array" : "object", ["origin"] = "value",
                ["input"] = Validation.Summarize(container), ["key"] = key is int i ? JsonValue.Create(i) : JsonValue.Create((string)key),
            });
        return a;
    }

    public void Add(ValidationIssue issue) => _issues.Add(issue);

    public void AddIssue(string key, string type, string expected, JsonNode? received, string message, string kind = "validation")
        => _issues.Add(new(kind, type, expected, Validation.Describe(received), message, Validation.PathFor(Root, key)));

    public void ThrowIfInvalid()
    {
        if (_issues.Count > 0) throw Validation.Exception(_issues);
    }

    private JsonNode? Get(string key, out bool present)
    {
        present = Root.TryGetPropertyValue(key, out var n);
        return n;
    }

    private void TypeIssue(string key, string expected, JsonNode? n, bool present)
    {
        var received = present ? Validation.Describe(n) : "undefined";
        _issues.Add(new("schema", expected.ToLowerInvariant() == "object" ? "object" : expected, expected, received,
            $"Invalid type: Expected {expected} but received {received}", Validation.PathFor(Root, key)));
    }

    /// <summary>A string field. <paramref name="nullable"/> lets an explicit JSON null through as null.</summary>
    public string? String(string key, bool required = false, bool nullable = false, int? minLength = null, int? maxLength = null, string? format = null)
    {
        var n = Get(key, out var present);
        if (!present || (n is null && nullable && !required))
        {
            if (required) TypeIssue(key, "string", n, present);
            return null;
        }
        if (n is not JsonValue v || v.GetValueKind() != JsonValueKind.String) { TypeIssue(key, "string", n, present); return null; }
        var s = v.GetValue<string>();
        if (minLength is int min && s.Length < min)
            _issues.Add(new("validation", "min_length", $">={min}", s.Length.ToString(CultureInfo.InvariantCulture),
                $"Invalid length: Expected >={min} but received {s.Length}", Validation.PathFor(Root, key)));
        if (maxLength is int max && s.Length > max)
            _issues.Add(new("validation", "max_length", $"<={max}", s.Length.ToString(CultureInfo.InvariantCulture),
                $"Invalid length: Expected <={max} but received {s.Length}", Validation.PathFor(Root, key)));
        if (format == "email" && !EmailRegex().IsMatch(s))
            _issues.Add(new("validation", "email", "email", "\"" + s + "\"", $"Invalid email: Received \"{s}\"", Validation.PathFor(Root, key)));
        if (format == "date-time" && !DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out _))
            _issues.Add(new("validation", "iso_timestamp", "date-time", "\"" + s + "\"", $"Invalid timestamp: Received \"{s}\"", Validation.PathFor(Root, key)));
        if (format == "decimal" && !DecimalRegex().IsMatch(s))
            _issues.Add(new("validation", "regex", "/^\\d{1,12}(\\.\\d{1,8})?$/", "\"" + s + "\"", $"Invalid format: Expected /^\\d{{1,12}}(\\.\\d{{1,8}})?$/ but received \"{s}\"", Validation.PathFor(Root, key)));
        return s;
    }

    /// <summary>A date-time string, returned parsed (UTC).</summary>
    public DateTimeOffset? DateTime(string key, bool required = false, bool nullable = true)
    {
        var s = String(key, required, nullable, format: "date-time");
        return s is not null && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind | DateTimeStyles.AssumeUniversal, out var t) ? t.ToUniversalTime() : null;
    }

    public double? Number(string key, bool required = false, bool nullable = false, double? min = null, double? max = null, bool integer = false)
    {
        var n = Get(key, out var present);
        if (!present || (n is null && nullable && !required))
        {
            if (required) TypeIssue(key, "number", n, present);
            return null;
        }
        if (n is not JsonValue v || v.GetValueKind() != JsonValueKind.Number) { TypeIssue(key, "number", n, present); return null; }
        var d = v.GetValue<double>();
        if (integer && Math.Floor(d) != d)
            _issues.Add(new("validation", "integer", "integer", d.ToString(CultureInfo.InvariantCulture), $"Invalid integer: Received {d.ToString(CultureInfo.InvariantCulture)}", Validation.PathFor(Root, key)));
        if (min is double lo && d < lo)
            _issues.Add(new("validation", "min_value", $">={lo}", d.ToString(CultureInfo.InvariantCulture), $"Invalid value: Expected >={lo} but received {d.ToString(CultureInfo.InvariantCulture)}", Validation.PathFor(Root, key)));
        if (max is double hi && d > hi)
            _issues.Add(new("validation", "max_value", $"<={hi}", d.ToString(CultureInfo.InvariantCulture), $"Invalid value: Expected <={hi} but received {d.ToString(CultureInfo.InvariantCulture)}", Validation.PathFor(Root, key)));
        return d;
    }

    public int? Int(string key, bool required = false, bool nullable = false, int? min = null, int? max = null)
    {
        var before = _issues.Count;
        var d = Number(key, required, nullable, min, max, integer: true);
        if (d is double x && (x > int.MaxValue || x < int.MinValue) && _issues.Count == before)
        {
            var hi = x > int.MaxValue;
            var bound = hi ? $"<={int.MaxValue}" : $">={int.MinValue}";
            var shown = Validation.Cut(Root[key]!.ToJsonString());
            _issues.Add(new("validation", hi ? "max_value" : "min_value", bound, shown, $"Invalid value: Expected {bound} but received {shown}", Validation.PathFor(Root, key)));
        }
        return d is null || Math.Floor(d.Value) != d.Value || d.Value > int.MaxValue || d.Value < int.MinValue ? null : (int)d.Value;
    }

    public bool? Bool(string key, bool required = false, bool nullable = false)
    {
        var n = Get(key, out var present);
        if (!present || (n is null && nullable && !required))
        {
            if (required) TypeIssue(key, "boolean", n, present);
            return null;
        }
        if (n is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False) return v.GetValue<bool>();
        TypeIssue(key, "boolean", n, present);
        return null;
    }

    public JsonObject? Object(string key, bool required = false, bool nullable = false)
    {
        var n = Get(key, out var present);
        if (!present || (n is null && nullable && !required))
        {
            if (required) TypeIssue(key, "Object", n, present);
            return null;
        }
        if (n is JsonObject o) return o;
        TypeIssue(key, "Object", n, present);
        return null;
    }

    public JsonArray? Array(string key, bool required = false, bool nullable = false)
    {
        var n = Get(key, out var present);
        if (!present || (n is null && nullable && !required))
        {
            if (required) TypeIssue(key, "Array", n, present);
            return null;
        }
        if (n is JsonArray a) return a;
        TypeIssue(key, "Array", n, present);
        return null;
    }

    /// <summary>A string restricted to <paramref name="allowed"/> (Valibot <c>picklist</c>).</summary>
    public string? Enum(string key, IReadOnlyCollection<string> allowed, bool required = false, bool nullable = false)
    {
        var s = String(key, required, nullable);
        if (s is not null && !allowed.Contains(s))
        {
            var expected = string.Join(" | ", allowed.Select(a => "\"" + a + "\""));
            _issues.Add(new("schema", "picklist", expected, "\"" + s + "\"", $"Invalid type: Expected {expected} but received \"{s}\"", Validation.PathFor(Root, key)));
            return null;
        }
        return s;
    }

    /// <summary>A list of strings.</summary>
    public List<string>? StringArray(string key, bool required = false)
    {
        var a = Array(key, required);
        if (a is null) return null;
        var list = new List<string>();
        foreach (var item in a)
        {
            if (item is JsonValue v && v.GetValueKind() == JsonValueKind.String) list.Add(v.GetValue<string>());
            else TypeIssue(key, "string", item, true);
        }
        return list;
    }

    [GeneratedRegex(@"^[^\s@]+@[^\s@]+\.[^\s@]+$")]
    private static partial Regex EmailRegex();
    [GeneratedRegex(@"^\d{1,12}(\.\d{1,8})?$")]
    private static partial Regex DecimalRegex();
}
