using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Hosting;

/// <summary>
/// Issue 9 §1: a bounded, seeded fuzz over every operation each port's <c>/openapi/v1.json</c> lists (read at run time, so
/// operations added later are fuzzed too). Bodies are built from what the emulator itself returns (a GET of the same
/// resource is the template, then fields are swapped for hostile values: lone surrogates, <c>1e309</c>, integers past
/// 2³¹−1, deep nesting, wide arrays, wrong types, malformed JSON), with valid, missing and odd credentials. Every answer
/// must be below 500, every non-2xx the documented envelope (<c>{"error":…}</c>, the std 400 with <c>issues</c>, or the
/// DENIAL409 <c>{"code":…}</c>), no error body may be large next to its request, and afterwards every list still reads.
/// <c>FANFARE_FUZZ_SEED</c> / <c>FANFARE_FUZZ_REQUESTS</c> change the seed (default 9) and the count (default 4000).
/// </summary>
public sealed class FuzzTests
{
    /// <summary>Operations left out: they wait (inbox/sms latest), move or reset the world (clock, reset), or do as much work
    /// as a number in the body says (simulate), so a random body would make the run slow rather than find a bug.</summary>
    private static bool Excluded(string method, string path) =>
        path is "/_emulator/reset" || path.EndsWith("/latest", StringComparison.Ordinal) ||
        (path.StartsWith("/_emulator/clock", StringComparison.Ordinal) && method != "GET") ||
        path.EndsWith("/simulate", StringComparison.Ordinal) || path == "/webhooks/test";

    private sealed record Op(string Port, HttpClient Client, string Method, string Path, List<(string In, string Name)> Params);

    private sealed record Failure(string What, string Request);

    [Fact]
    public async Task Every_operation_of_every_port_survives_hostile_input_without_a_5xx()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("FANFARE_FUZZ_SEED"), out var s) ? s : 9;
        var count = int.TryParse(Environment.GetEnvironmentVariable("FANFARE_FUZZ_REQUESTS"), out var n) ? n : 4000;
        await using var emu = await EmulatorServer.StartAsync();
        var org = await emu.DemoOrgAsync();
        var other = (await emu.OrganizationsAsync())[1];
        var guest = (await emu.Consumer.PostJsonAsync("/auth/guest", null, HttpClientExtensions.Pk(org.PublishableKey))).EnsureStatus(200);
        var access = guest["accessToken"].GetValue<string>();

        var fuzz = new Fuzzer(new Random(seed), org, other, access);
        var ops = new List<Op>();
        foreach (var (port, client) in new[] { ("admin", emu.Admin), ("consumer", emu.Consumer), ("beacon", emu.Beacon), ("checkout", emu.Checkout) })
        {
            var doc = await client.GetJsonAsync("/openapi/v1.json");
            foreach (var (path, item) in doc["paths"]!.AsObject())
            {
                // The control plane and /health are in every port's document: fuzz them once, on the admin port.
                if (port != "admin" && (path.StartsWith("/_emulator", StringComparison.Ordinal) || path == "/health")) continue;
                foreach (var (method, op) in item!.AsObject())
                {
                    var m = method.ToUpperInvariant();
                    if (m is not ("GET" or "POST" or "PUT" or "PATCH" or "DELETE") || Excluded(m, path)) continue;
                    var ps = (op?["parameters"] as JsonArray ?? []).OfType<JsonObject>()
                        .Select(p => (p["in"]!.GetValue<string>(), p["name"]!.GetValue<string>())).ToList();
                    ops.Add(new Op(port, client, m, path, ps));
                }
            }
        }
        Assert.True(ops.Count > 100, $"only {ops.Count} operations in the OpenAPI documents");

        var total = Stopwatch.StartNew();
        // Harvest ids and templates: every GET without parameters, then every GET whose ids are now known.
        foreach (var pass in new[] { 0, 1 })
            foreach (var op in ops.Where(o => o.Method == "GET" && (pass == 0) == !o.Path.Contains('{')))
            {
                var path = fuzz.FillPath(op.Path, hostile: false);
                if (path is null) continue;
                var r = await Send(op.Client, HttpMethod.Get, path, null, fuzz.GoodAuth(op.Port));
                if (r.Code == 200 && r.Json is { } json) fuzz.Harvest(op.Path, json);
            }

        var harvest = total.Elapsed;
        var failures = new List<Failure>();
        var statuses = new SortedDictionary<int, int>();
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < count; i++)
        {
            if (i % 100 == 0) // the fuzz may log the guest out or revoke its session: a fresh one now and then
            {
                var fresh = await emu.Consumer.PostJsonAsync("/auth/guest", null, HttpClientExtensions.Pk(org.PublishableKey));
                if (fresh.Code == 200) fuzz.AccessToken = fresh["accessToken"].GetValue<string>();
            }
            var op = ops[fuzz.Rng.Next(ops.Count)];
            var path = fuzz.FillPath(op.Path, hostile: fuzz.Rng.NextDouble() < 0.1) ?? fuzz.FillPath(op.Path, hostile: true)!;
            var query = fuzz.Query(op.Params);
            if (query.Length > 0) path += (path.Contains('?') ? "&" : "?") + query;
            var body = op.Method is "POST" or "PUT" or "PATCH" || (op.Method == "DELETE" && fuzz.Rng.NextDouble() < 0.2) ? fuzz.Body(op.Path) : null;
            var auth = fuzz.Auth(op.Port);
            var described = $"#{i} {op.Port} {op.Method} {Short(path)} {string.Join(" ", auth.Select(h => h.Key + ": " + h.Value))} body: {Short(body)}";
            ApiResponse r;
            try { r = await Send(op.Client, new HttpMethod(op.Method), path, body, auth); }
            catch (Exception ex) when (ex is TaskCanceledException or HttpRequestException)
            {
                failures.Add(new("no answer: " + ex.Message, described));
                continue;
            }
            statuses[r.Code] = statuses.GetValueOrDefault(r.Code) + 1;
            if (Environment.GetEnvironmentVariable("FANFARE_FUZZ_DEBUG") == "1") Console.WriteLine($"fuzz: {r.Code} {described} → {Short(r.Text)}");
            // The consumer port's /pages/… serve HTML to browsers (their 404 is an HTML page on purpose): only a 5xx counts there.
            var problem = op.Path.StartsWith("/pages/", StringComparison.Ordinal) && r.Code < 500 ? null : Check(r, body);
            if (problem is not null) failures.Add(new($"{r.Code} {problem}: {Short(r.Text)}", described));
            if (failures.Count >= 20) break;
        }

        // Nothing the fuzz did left a resource unreadable: every list still answers 200 with JSON.
        foreach (var op in ops.Where(o => o.Method == "GET" && !o.Path.Contains('{')))
        {
            var r = await Send(op.Client, HttpMethod.Get, op.Path, null, fuzz.GoodAuth(op.Port));
            if (r.Code >= 500) failures.Add(new($"{r.Code} after the fuzz: {Short(r.Text)}", $"{op.Port} GET {op.Path}"));
        }

        var summary = $"seed {seed}, {count} requests over {ops.Count} operations in {watch.Elapsed.TotalSeconds:F1} s " +
            $"(harvest {harvest.TotalSeconds:F1} s, all {total.Elapsed.TotalSeconds:F1} s); statuses " +
            string.Join(", ", statuses.Select(kv => $"{kv.Key}×{kv.Value}"));
        Console.WriteLine("fuzz: " + summary);
        Assert.True(failures.Count == 0, summary + "\n" + string.Join("\n\n", failures.Select(f => f.What + "\n  " + f.Request)));
    }

    /// <summary>The envelope rules; null when the answer is fine.</summary>
    private static string? Check(ApiResponse r, string? body)
    {
        if (r.Code >= 500) return "server error";
        if (r.Code < 400) return null;
        var limit = Math.Max(64 * 1024, 8 * (body?.Length ?? 0));
        if (r.Text.Length > limit) return $"error body of {r.Text.Length} characters for a request body of {body?.Length ?? 0}";
        if (r.Json is not JsonObject o) return "error body is not a JSON object";
        if (o["error"] is JsonValue e && e.GetValueKind() == JsonValueKind.String)
        {
            if (e.GetValue<string>() != "validation_error") return null;
            if (r.Code != 400) return "validation_error with a status other than 400";
            if (o["issues"] is not JsonArray issues || issues.Count == 0) return "validation_error without issues";
            if (issues.Count > 100) return $"{issues.Count} issues";
            foreach (var issue in issues)
                foreach (var key in new[] { "kind", "type", "expected", "received", "message" })
                    if (issue?[key] is not JsonValue v || v.GetValueKind() != JsonValueKind.String) return $"issue without {key}";
            return null;
        }
        if (o["code"] is JsonValue c && c.GetValueKind() == JsonValueKind.String) return null; // DENIAL409 (consumer-part1.md)
        return "error body without an error string";
    }

    private static async Task<ApiResponse> Send(HttpClient client, HttpMethod method, string path, string? body, Dictionary<string, string> headers)
    {
        using var req = new HttpRequestMessage(method, path);
        if (body is not null) req.Content = new StringContent(body, Encoding.UTF8, "application/json");
        foreach (var (k, v) in headers) req.Headers.TryAddWithoutValidation(k, v);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        using var res = await client.SendAsync(req, cts.Token);
        var text = await res.Content.ReadAsStringAsync(cts.Token);
        JsonNode? json = null;
        if (text.Length > 0 && (res.Content.Headers.ContentType?.MediaType?.Contains("json") ?? false))
            try { json = JsonNode.Parse(text); } catch (JsonException) { json = null; }
        return new ApiResponse(res.StatusCode, text, json, res.Headers, res.Content.Headers);
    }

    private static string Short(string? s) => s is null ? "(none)" : s.Length <= 300 ? s : s[..300] + $"… ({s.Length} chars)";

    /// <summary>Builds hostile requests from a seeded <see cref="System.Random"/> and what the emulator returned.</summary>
    private sealed class Fuzzer(Random rng, OrgKeys org, OrgKeys other, string accessToken)
    {
        public Random Rng => rng;
        public string AccessToken { get; set; } = accessToken;
        private readonly Dictionary<string, List<string>> _ids = new();      // collection path ("/sequences") → ids seen there
        private readonly List<string> _allIds = [];
        private readonly Dictionary<string, List<JsonObject>> _templates = new(); // collection path → objects seen there
        private readonly HashSet<string> _keys = ["name", "email", "phone", "code", "url", "events", "priority", "admitRate",
            "admissionExpirationSeconds", "maxQuantity", "winnerCount", "capacity", "quantity", "amount", "seconds", "at",
            "productId", "sequenceId", "experienceId", "consumerId", "metadata", "token", "refreshToken", "count", "status"];

        /// <summary>"/sequences/{id}/order-limits/{limitId}" → "/sequences/{id}/order-limits"; "/sequences/{id}" → "/sequences".</summary>
        private static string Collection(string template)
        {
            var i = template.LastIndexOf('/');
            return i > 0 && template[(i + 1)..].StartsWith('{') ? template[..i] : template;
        }

        public void Harvest(string template, JsonNode json)
        {
            var collection = Collection(template);
            IEnumerable<JsonNode?> items = json switch
            {
                JsonArray a => a,
                JsonObject o when o["data"] is JsonArray d => d,
                JsonObject o when o.Select(kv => kv.Value).OfType<JsonArray>().FirstOrDefault() is { } first => first,
                _ => [json],
            };
            foreach (var item in items.OfType<JsonObject>().Take(20))
            {
                if (item["id"] is JsonValue v && v.GetValueKind() == JsonValueKind.String)
                {
                    var id = v.GetValue<string>();
                    if (!_ids.TryGetValue(collection, out var list)) _ids[collection] = list = [];
                    if (!list.Contains(id)) list.Add(id);
                    if (!_allIds.Contains(id)) _allIds.Add(id);
                }
                if (!_templates.TryGetValue(collection, out var t)) _templates[collection] = t = [];
                if (t.Count < 5) t.Add((JsonObject)item.DeepClone());
                foreach (var (k, _) in item) _keys.Add(k);
            }
        }

        /// <summary>Fills <c>{params}</c>: ids harvested from the parent collection, any id, or junk (hostile).</summary>
        public string? FillPath(string template, bool hostile)
        {
            var sb = new StringBuilder();
            var segments = template.Split('/');
            var prefix = "";
            foreach (var seg in segments.Skip(1))
            {
                string value;
                if (seg.StartsWith('{'))
                {
                    if (hostile) value = Uri.EscapeDataString(Pick(JunkSegments));
                    else if (seg == "{organizationId}") value = org.Id;
                    else if (_ids.TryGetValue(prefix, out var ids) && ids.Count > 0) value = ids[rng.Next(ids.Count)];
                    else if (_allIds.Count > 0) value = _allIds[rng.Next(_allIds.Count)];
                    else return null;
                }
                else value = seg;
                prefix += "/" + seg;
                sb.Append('/').Append(value);
            }
            return sb.Length == 0 ? "/" : sb.ToString();
        }

        private static readonly string[] JunkSegments = ["x", "0", "-1", "99999999999999999999", "00000000-0000-0000-0000-000000000000",
            "é😀", new string('a', 600), "a b", "null", "{id}", "%", "'", "\"", "<script>", "1e309"];

        private static readonly string[] JunkQuery = ["", "x", "-1", "0", "NaN", "Infinity", "-Infinity", "1e309", "2147483648",
            "99999999999999999999", "1.5", "true", "null", "é😀", "\ud83d", new string('z', 2000), "2026-01-01T00:00:00Z", "0001-01-01", "[]",
            "eyJpZCI6MX0=", "eyJpZCI6Ilx1ZDgwMCJ9", "e30=", "bnVsbA==", "!!"]; // cursors: {"id":1}, {"id":"\ud800"}, {}, null

        public string Query(List<(string In, string Name)> ps)
        {
            var parts = new List<string>();
            foreach (var (where, name) in ps.Where(p => p.In == "query"))
                if (rng.NextDouble() < 0.5) parts.Add(name + "=" + Escape(Pick(JunkQuery)));
            if (rng.NextDouble() < 0.3)
                foreach (var name in new[] { "limit", "cursor", "page", "status", "first", "after", "last", "before" }.Where(_ => rng.NextDouble() < 0.5))
                    parts.Add(name + "=" + Escape(Pick(JunkQuery)));
            return string.Join("&", parts);
        }

        private static string Escape(string s)
        {
            try { return Uri.EscapeDataString(s); }
            catch (UriFormatException) { return "%ED%A0%BD"; } // a lone surrogate, as the UTF-8 bytes a browser would not send
        }

        /// <summary>Raw JSON values a careless or hostile client sends (as JSON text, so lone surrogates and 1e309 survive).</summary>
        private string JunkValue(int depth = 0) => rng.Next(32) switch
        {
            26 or 27 => "\"\\ud800\"",
            28 or 29 => "1e309",
            30 => "2147483648",
            31 => "\"ok \\udc00\"",
            0 => "\"\\ud800\"",
            1 => "1e309",
            2 => "-1e309",
            3 => "2147483648",
            4 => "-2147483649",
            5 => "9223372036854775808",
            6 => "-0",
            7 => "0.5",
            8 => "-1",
            9 => "\"\"",
            10 => "\"x\"",
            11 => "\"" + new string('w', 5000) + "\"",
            12 => "null",
            13 => "true",
            14 => "[]",
            15 => "{}",
            16 => depth < 3 ? "[" + JunkValue(depth + 1) + "," + JunkValue(depth + 1) + "]" : "[1]",
            17 => depth < 3 ? "{\"" + Pick(_keys.ToArray()) + "\":" + JunkValue(depth + 1) + "}" : "{}",
            18 => "\"é😀\\u0000\"",
            19 => "\"1970-01-01T00:00:00Z\"",
            20 => "\"9999-12-31T23:59:59.999Z\"",
            21 => _allIds.Count > 0 ? "\"" + _allIds[rng.Next(_allIds.Count)] + "\"" : "\"not-a-uuid\"",
            22 => "\"a@b.co\"",
            23 => "0",
            24 => "1",
            _ => "1e-400",
        };

        public string Body(string template)
        {
            var collection = Collection(template);
            var baseObj = _templates.TryGetValue(collection, out var ts) && ts.Count > 0 ? (JsonObject)ts[rng.Next(ts.Count)].DeepClone()
                : _templates.TryGetValue(template, out var ts2) && ts2.Count > 0 ? (JsonObject)ts2[rng.Next(ts2.Count)].DeepClone() : new JsonObject();
            var members = baseObj.Select(kv => (kv.Key, Raw: kv.Value?.ToJsonString() ?? "null")).ToList();
            switch (rng.Next(10))
            {
                case 0: return members.Count > 0 ? Obj(members) : "{}"; // as the emulator returned it
                case 1: // random object from the vocabulary
                    return Obj(Enumerable.Range(0, rng.Next(1, 8)).Select(_ => (Pick(_keys.ToArray()), JunkValue())).ToList());
                case 2: // not an object / not JSON
                    return Pick(["", "null", "[]", "1", "\"x\"", "{", "{\"a\":1,\"a\":2}", "{\"\\udc00\":1}", "{\"a\":\"\\ud800\\ud800\"}",
                        "{\"name\":1e309}", "\u00ff\u00fe", "{\"a\":" + new string('[', 70) + new string(']', 70) + "}",
                        new string('{', 1) + string.Concat(Enumerable.Repeat("\"a\":{", 40)) + "\"b\":\"x\"" + new string('}', 41)]);
                case 3: // a wide nested array of wrong items in one field (error amplification)
                {
                    var key = members.Count > 0 && rng.NextDouble() < 0.5 ? members[rng.Next(members.Count)].Key : Pick(_keys.ToArray());
                    var items = string.Join(",", Enumerable.Range(0, rng.Next(50, 400)).Select(_ => "{\"" + Pick(_keys.ToArray()) + "\":\"x\"}"));
                    members.RemoveAll(m => m.Key == key);
                    members.Add((key, "[" + items + "]"));
                    return Obj(members);
                }
                default: // the template with some fields swapped for junk, dropped or added
                {
                    var swaps = rng.Next(1, 7);
                    for (int i = 0; i < swaps; i++)
                    {
                        if (members.Count > 0 && rng.NextDouble() < 0.7)
                        {
                            var j = rng.Next(members.Count);
                            if (rng.NextDouble() < 0.15) members.RemoveAt(j); else members[j] = (members[j].Key, JunkValue());
                        }
                        else members.Add((Pick(_keys.ToArray()), JunkValue()));
                    }
                    return Obj(members.GroupBy(m => m.Key).Select(g => g.Last()).ToList());
                }
            }
        }

        private static string Obj(List<(string Key, string Raw)> members) =>
            "{" + string.Join(",", members.GroupBy(m => m.Key).Select(g => JsonSerializer.Serialize(g.Key) + ":" + g.Last().Raw)) + "}";

        public Dictionary<string, string> GoodAuth(string port) => port == "admin"
            ? new() { ["Authorization"] = "Bearer " + org.SecretKey }
            : new() { ["X-Publishable-Key"] = org.PublishableKey, ["Authorization"] = "Bearer " + AccessToken };

        public Dictionary<string, string> Auth(string port) => rng.Next(30) switch
        {
            0 => new(),
            1 => new() { ["Authorization"] = "Bearer x.eyJvcmdhbml6YXRpb25JZCI6MX0.x" },
            2 => new() { ["Authorization"] = "Bearer " + Pick(["x", "sk_test_nope", "pk_", "a.b.c", "e30.e30.e30", "eyJhbGciOiJub25lIn0.eyJvcmdhbml6YXRpb25JZCI6IlxkODAwIn0.", "Bearer Bearer"]) },
            3 => new() { ["Authorization"] = "Bearer " + other.SecretKey, ["X-Publishable-Key"] = org.PublishableKey },
            4 => new() { ["Authorization"] = "Bearer " + org.LiveSecretKey },
            5 => new() { ["X-Publishable-Key"] = org.PublishableKey },
            6 => new() { ["X-Secret-Key"] = org.SecretKey, ["X-Organization-Id"] = Pick([org.Id, other.Id, "x"]) },
            7 or 8 or 9 => new() { ["Authorization"] = "Bearer " + org.SecretKey }, // merchant calls on every port (validate, complete …)
            _ => GoodAuth(port),
        };

        private T Pick<T>(T[] items) => items[rng.Next(items.Length)];
    }
}
