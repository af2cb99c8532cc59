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

/// <summary>400 <c>{"error":"validation_error","issues":[…]}</c>.</summary>
public static class Validation
{
    public static ApiException Exception(IEnumerable<ValidationIssue> issues)
    {
        var arr = new JsonArray();
        foreach (var i in issues)
            arr.Add(new JsonObject
            {
                ["kind"] = i.Kind, ["type"] = i.Type, ["expected"] = i.Expected, ["received"] = i.Received,
                ["message"] = i.Message, ["path"] = i.Path.DeepClone(),
            });
        return new ApiException(400, "validation_error", null, new JsonObject { ["error"] = "validation_error", ["issues"] = arr });
    }

    public static ApiException Single(string key, string type, string expected, string received, string message, string kind = "validation")
        => Exception([new ValidationIssue(kind, type, expected, received, message, PathFor(null, key))]);

    /// <summary>How Valibot prints a received value: strings quoted, objects <c>Object</c>, arrays <c>Array</c>.</summary>
    public static string Describe(JsonNode? n) => n switch
    {
        null => "null",
        JsonObject => "Object",
        JsonArray => "Array",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => "\"" + v.GetValue<string>() + "\"",
        JsonValue v => v.ToJsonString(),
    };

    internal static JsonArray PathFor(JsonObject? input, string key, string origin = "value")
        => [new JsonObject { ["type"] = "object", ["origin"] = origin, ["input"] = input?.DeepClone() ?? new JsonObject(), ["key"] = key }];
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
        try { node = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = false, AllowDuplicateProperties = false }); }
        catch (JsonException ex)
        {
            var r = new BodyReader([]);
            r.Add(new("schema", "json", "JSON", "malformed", "Malformed JSON: " + ex.Message.Split(" Path:")[0], []));
            return r;
        }
        if (node is JsonObject o) return new BodyReader(o);
        var bad = new BodyReader([]);
        bad.Add(new("schema", "object", "Object", Validation.Describe(node), $"Invalid type: Expected Object but received {Validation.Describe(node)}", []));
        return bad;
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
        var d = Number(key, required, nullable, min, max, integer: true);
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
