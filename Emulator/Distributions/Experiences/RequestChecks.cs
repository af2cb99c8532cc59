using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Auth;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Distributions.Experiences;

/// <summary>
/// Small request-checking helpers shared by the experience, sequence, appointment and waitlist endpoints: UUID fields,
/// nested bodies whose issues are re-rooted under their parent's path, query parameters that produce the std 400.
/// </summary>
public static class RequestChecks
{
    /// <summary>Who admin writes are attributed to (<c>createdBy</c>/<c>updatedBy</c>): the secret key's holder.</summary>
    public const string ApiActor = "api_key";

    /// <summary>The actor for a request authenticated with a secret key.</summary>
    public static string Actor(this Caller caller) => caller.Environment == "live" ? "api_key:live" : ApiActor;

    /// <summary>A string field that must be a UUID (the contract's <c>format: uuid</c>).</summary>
    public static string? Uuid(this BodyReader body, string key, bool required = false, bool nullable = false)
    {
        var s = body.String(key, required, nullable);
        if (s is not null && !Guid.TryParse(s, out _))
        {
            body.AddIssue(key, "uuid", "UUID", body.Root[key], $"Invalid UUID: Received \"{s}\"");
            return null;
        }
        return s;
    }

    /// <summary>True when the body carries <paramref name="key"/> (even as an explicit null).</summary>
    public static bool Has(this BodyReader body, string key) => body.Root.ContainsKey(key);

    /// <summary>The issues a reader collected, as JSON (empty when valid).</summary>
    public static List<JsonObject> Issues(this BodyReader reader)
    {
        try { reader.ThrowIfInvalid(); return []; }
        catch (ApiException ex) when (ex.Body?["issues"] is JsonArray arr)
        {
            return arr.OfType<JsonObject>().Select(i => (JsonObject)i.DeepClone()).ToList();
        }
    }

    /// <summary>Copies a nested reader's issues into <paramref name="outer"/>, their paths prefixed by <paramref name="prefix"/>.</summary>
    public static void Absorb(this BodyReader outer, BodyReader nested, JsonArray prefix)
    {
        foreach (var i in nested.Issues())
        {
            var path = (JsonArray)prefix.DeepClone();
            foreach (var p in i["path"] as JsonArray ?? []) path.Add(p?.DeepClone());
            outer.Add(new ValidationIssue(Str(i["kind"]), Str(i["type"]), Str(i["expected"]), Str(i["received"]), Str(i["message"]), path));
        }
        static string Str(JsonNode? n) => n?.GetValue<string>() ?? "";
    }

    /// <summary>One path step of a Valibot issue: an object key or an array index.</summary>
    public static JsonObject Step(JsonNode? input, string key) =>
        new() { ["type"] = "object", ["origin"] = "value", ["input"] = Validation.Summarize(input) ?? new JsonObject(), ["key"] = key };

    public static JsonObject Step(JsonArray input, int index) =>
        new() { ["type"] = "array", ["origin"] = "value", ["input"] = Validation.Summarize(input), ["key"] = index };

    /// <summary>A reader over one nested object (or a reader holding a type issue when <paramref name="node"/> is not one).</summary>
    public static BodyReader Nested(JsonNode? node) =>
        node is JsonObject o ? BodyReader.Parse(o.ToJsonString()) : BodyReader.Parse(node?.ToJsonString() ?? "null", required: true);

    /// <summary>400 <c>validation_error</c> for one query parameter.</summary>
    public static ApiException QueryIssue(string key, string type, string expected, string? received, string message, string kind = "validation") =>
        Validation.Exception([new ValidationIssue(kind, type, expected, received is null ? "undefined" : "\"" + received + "\"", message,
            [new JsonObject { ["type"] = "object", ["origin"] = "value", ["input"] = new JsonObject(), ["key"] = key }])]);

    /// <summary>A required query parameter (400 <c>validation_error</c> when absent or empty).</summary>
    public static string RequiredQuery(IQueryCollection query, string key)
    {
        var v = query[key].FirstOrDefault();
        if (string.IsNullOrWhiteSpace(v))
            throw QueryIssue(key, "string", "string", null, "Invalid type: Expected string but received undefined", "schema");
        return v;
    }

    /// <summary>An optional positive integer query parameter (<c>page</c>, <c>limit</c>), with bounds.</summary>
    public static int OptionalIntQuery(IQueryCollection query, string key, int fallback, int min, int max)
    {
        var v = query[key].FirstOrDefault();
        if (v is null) return fallback;
        if (int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max) return n;
        throw QueryIssue(key, "max_value", $"{min}..{max}", v, $"Invalid value: Expected an integer from {min} to {max} but received \"{v}\"");
    }

    /// <summary>Resolves an IANA time zone; unknown ids (or a host without tz data) fall back to UTC.</summary>
    public static TimeZoneInfo Zone(string? id)
    {
        if (string.IsNullOrWhiteSpace(id)) return TimeZoneInfo.Utc;
        try { return TimeZoneInfo.FindSystemTimeZoneById(id); }
        catch (Exception) { return TimeZoneInfo.Utc; }
    }

    /// <summary>Deletes a document whose concrete type is only known at run time (rolling back a failed nested create).</summary>
    public static void DeleteAny(this DocumentStore store, IDocument doc) => store.Delete(doc.GetType(), doc.Id);

    /// <summary>Reads a JSON number node as a double when it is one.</summary>
    public static double? AsNumber(JsonNode? n) =>
        n is JsonValue v && v.GetValueKind() == JsonValueKind.Number ? double.Parse(v.ToJsonString(), CultureInfo.InvariantCulture) : null;

    /// <summary>Reads a JSON string node when it is one.</summary>
    public static string? AsString(JsonNode? n) =>
        n is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
}
