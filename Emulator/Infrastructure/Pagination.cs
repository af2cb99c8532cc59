using System.Text;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Infrastructure.Errors;

namespace Fanfare.Emulator.Infrastructure;

/// <summary>
/// Cursor pagination of behavior.md §6: query <c>first</c> (default 50, max 100) + <c>after</c>, or <c>last</c> +
/// <c>before</c>; response <c>{"data":[…],"pageInfo":{"startCursor":string|null,"endCursor":string|null}}</c>.
/// Cursors are Base64 of <c>{"id":"…"}</c>. <c>endCursor</c> is null on the last page (clients stop there),
/// <c>startCursor</c> null on the first. Bad values → 400 <c>validation_error</c>. Accepted on every list operation,
/// even where the generated spec declares no parameters.
/// </summary>
public static class Pagination
{
    public const int DefaultPageSize = 50, MaxPageSize = 100;

    public static string Cursor(string id) => Convert.ToBase64String(Encoding.UTF8.GetBytes(new JsonObject { ["id"] = id }.ToJsonString()));

    private static string? Decode(string? cursor, string param, List<ValidationIssue> issues)
    {
        if (string.IsNullOrEmpty(cursor)) return null;
        try
        {
            var json = JsonNode.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(cursor)));
            if (json?["id"]?.GetValue<string>() is { } id) return id;
        }
        catch (Exception) { }
        issues.Add(new("validation", "cursor", "cursor", "\"" + cursor + "\"", $"Invalid cursor: Received \"{cursor}\"", Issue(param)));
        return null;
    }

    private static JsonArray Issue(string key) => [new JsonObject { ["type"] = "object", ["origin"] = "value", ["input"] = new JsonObject(), ["key"] = key }];

    private static int? Size(string? raw, string param, List<ValidationIssue> issues)
    {
        if (raw is null) return null;
        if (int.TryParse(raw, out var n) && n >= 1 && n <= MaxPageSize) return n;
        issues.Add(new("validation", "max_value", $"1..{MaxPageSize}", "\"" + raw + "\"", $"Invalid value: Expected an integer from 1 to {MaxPageSize} but received \"{raw}\"", Issue(param)));
        return null;
    }

    /// <summary>A plain <c>?limit=</c> (a list that is not paged with cursors, e.g. an auction's bids): absent or empty →
    /// <paramref name="fallback"/>; otherwise an integer 1..100, else 400 <c>validation_error</c>.</summary>
    public static int Limit(IQueryCollection query, int fallback)
    {
        var raw = query["limit"].FirstOrDefault();
        if (string.IsNullOrEmpty(raw)) return fallback;
        var issues = new List<ValidationIssue>();
        var n = Size(raw, "limit", issues);
        if (issues.Count > 0) throw Fanfare.Emulator.Infrastructure.Errors.Validation.Exception(issues);
        return n!.Value;
    }

    /// <summary>One page of <paramref name="items"/> (already in their sort order) for typed responses: the page's items and
    /// the <c>startCursor</c>/<c>endCursor</c> (same rules as <see cref="Page{T}"/>).</summary>
    public static (List<T> Items, string? StartCursor, string? EndCursor) Slice<T>(IReadOnlyList<T> items, Func<T, string> id, IQueryCollection query)
    {
        var (start, end) = Window(items, id, query);
        var page = new List<T>(end - start);
        for (int i = start; i < end; i++) page.Add(items[i]);
        return (page, start > 0 && end > start ? Cursor(id(items[start])) : null, end < items.Count && end > start ? Cursor(id(items[end - 1])) : null);
    }

    /// <summary>One page of <paramref name="items"/> (already in their sort order) mapped by <paramref name="map"/>.</summary>
    public static JsonObject Page<T>(IReadOnlyList<T> items, Func<T, string> id, Func<T, JsonNode?> map, IQueryCollection query)
    {
        var (start, end) = Window(items, id, query);
        var data = new JsonArray();
        for (int i = start; i < end; i++) data.Add(map(items[i]));
        return new JsonObject
        {
            ["data"] = data,
            ["pageInfo"] = new JsonObject
            {
                ["startCursor"] = start > 0 && end > start ? Cursor(id(items[start])) : null,
                ["endCursor"] = end < items.Count && end > start ? Cursor(id(items[end - 1])) : null,
            },
        };
    }

    private static (int Start, int End) Window<T>(IReadOnlyList<T> items, Func<T, string> id, IQueryCollection query)
    {
        var issues = new List<ValidationIssue>();
        var first = Size(query["first"].FirstOrDefault() ?? query["limit"].FirstOrDefault(), "first", issues);
        var last = Size(query["last"].FirstOrDefault(), "last", issues);
        var after = Decode(query["after"].FirstOrDefault() ?? query["cursor"].FirstOrDefault(), "after", issues);
        var before = Decode(query["before"].FirstOrDefault(), "before", issues);
        if (issues.Count > 0) throw Fanfare.Emulator.Infrastructure.Errors.Validation.Exception(issues);

        int start = 0, end = items.Count; // [start, end)
        if (after is not null) { var i = IndexOf(items, id, after); start = i < 0 ? items.Count : i + 1; }
        if (before is not null) { var i = IndexOf(items, id, before); end = i < 0 ? end : Math.Min(end, i); }
        if (last is int l && first is null) start = Math.Max(start, end - l);
        else end = Math.Min(end, start + (first ?? DefaultPageSize));
        if (end < start) end = start;
        return (start, end);
    }

    private static int IndexOf<T>(IReadOnlyList<T> items, Func<T, string> id, string wanted)
    {
        for (int i = 0; i < items.Count; i++) if (id(items[i]) == wanted) return i;
        return -1;
    }
}
