using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Fanfare.Emulator.Tests.Docs;

/// <summary>
/// Runs a <c>.http</c> file (VS Code REST Client / JetBrains syntax as the repo uses it) top to bottom: <c>@name = value</c>
/// variables, requests separated by <c>###</c>, <c># @name x</c> to name a request, <c>{{x.response.body.$.a.b[0]}}</c>
/// (or without <c>$.</c>) to read a named response, <c>{{x.response.body.*}}</c> for its whole body, <c>{{$datetime "YYYY-MM-DD" [n d]}}</c>. The well-known ports
/// 4800/4802/4803/4805 are mapped to the test emulator's. A request passes when it answers 2xx, or the status named by a
/// <c># expect NNN</c> line in its block.
/// </summary>
public static partial class HttpFileRunner
{
    public sealed record Step(string Title, string Method, string Url, int Status, string Body);

    public static async Task<List<Step>> RunAsync(string text, IReadOnlyDictionary<int, int> ports, Func<DateTimeOffset> now)
    {
        foreach (var (from, to) in ports) text = text.Replace("localhost:" + from, "127.0.0.1:" + to);
        var vars = new Dictionary<string, string>();
        var named = new Dictionary<string, JsonNode?>();
        var steps = new List<Step>();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };

        string Expand(string s) => Placeholder().Replace(s, m =>
        {
            var expr = m.Groups[1].Value.Trim();
            if (expr.StartsWith("$datetime", StringComparison.Ordinal))
            {
                var parts = Regex.Match(expr, "^\\$datetime\\s+\"?([^\"]+?)\"?(?:\\s+(-?\\d+)\\s+(\\w+))?$");
                if (!parts.Success) throw new InvalidOperationException("unsupported " + expr);
                var t = now();
                if (parts.Groups[2].Success)
                {
                    var n = int.Parse(parts.Groups[2].Value);
                    t = parts.Groups[3].Value switch { "d" => t.AddDays(n), "h" => t.AddHours(n), "m" => t.AddMinutes(n), "s" => t.AddSeconds(n), _ => throw new InvalidOperationException(expr) };
                }
                var fmt = parts.Groups[1].Value;
                return fmt == "iso8601" ? t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'") : t.UtcDateTime.ToString(fmt.Replace("YYYY", "yyyy").Replace("DD", "dd"));
            }
            var whole = Regex.Match(expr, @"^(\w+)\.response\.body\.\*$"); // REST Client's `*`: the whole body
            if (whole.Success)
            {
                if (!named.TryGetValue(whole.Groups[1].Value, out var all)) throw new InvalidOperationException($"request \"{whole.Groups[1].Value}\" was not run before {{{{{expr}}}}}");
                return all is JsonValue sv && sv.TryGetValue<string>(out var raw) ? raw : all?.ToJsonString() ?? "";
            }
            var rm = Regex.Match(expr, @"^(\w+)\.response\.body\.(?:\$\.?)?(.+)$"); // $.a, $[0] (a top-level array) or a
            if (rm.Success)
            {
                if (!named.TryGetValue(rm.Groups[1].Value, out var body)) throw new InvalidOperationException($"request \"{rm.Groups[1].Value}\" was not run before {{{{{expr}}}}}");
                JsonNode? node = body;
                foreach (Match seg in Regex.Matches(rm.Groups[2].Value, @"([^.\[\]]+)|\[(\d+)\]"))
                    node = seg.Groups[2].Success ? node?.AsArray()[int.Parse(seg.Groups[2].Value)] : node?[seg.Groups[1].Value];
                if (node is null) throw new InvalidOperationException($"{{{{{expr}}}}} is null in {body?.ToJsonString()}");
                return node is JsonValue v && v.TryGetValue<string>(out var str) ? str : node.ToJsonString();
            }
            if (vars.TryGetValue(expr, out var value)) return Expand(value);
            throw new InvalidOperationException($"undefined variable {{{{{expr}}}}}");
        });

        foreach (var block in Regex.Split(text.Replace("\r\n", "\n"), @"^###.*$", RegexOptions.Multiline))
        {
            var lines = block.Split('\n').ToList();
            string? name = null;
            int? expect = null;
            string title = "";
            int i = 0;
            // variables, comments and directives before the request line
            for (; i < lines.Count; i++)
            {
                var l = lines[i].Trim();
                if (l.Length == 0) continue;
                var v = Regex.Match(l, @"^@([\w.-]+)\s*=\s*(.*)$");
                if (v.Success) { vars[v.Groups[1].Value] = v.Groups[2].Value.Trim(); continue; }
                var n = Regex.Match(l, @"^(#|//)\s*@name\s+(\w+)");
                if (n.Success) { name = n.Groups[2].Value; continue; }
                var e = Regex.Match(l, @"^(#|//)\s*expect\s+(\d{3})");
                if (e.Success) { expect = int.Parse(e.Groups[2].Value); continue; }
                if (l.StartsWith('#') || l.StartsWith("//", StringComparison.Ordinal)) { title = title.Length == 0 ? l : title; continue; }
                break;
            }
            if (i >= lines.Count) continue;
            var request = Regex.Match(lines[i].Trim(), @"^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\s+(.+?)(?:\s+HTTP/[\d.]+)?$");
            if (!request.Success) throw new InvalidOperationException($"not a request line: \"{lines[i]}\"");
            var method = request.Groups[1].Value;
            var url = Expand(request.Groups[2].Value);
            var headers = new List<(string, string)>();
            for (i++; i < lines.Count && lines[i].Trim().Length > 0; i++)
            {
                var l = lines[i].Trim();
                if (l.StartsWith('#') || l.StartsWith("//", StringComparison.Ordinal)) continue;
                var h = l.IndexOf(':');
                headers.Add((l[..h].Trim(), Expand(l[(h + 1)..].Trim())));
            }
            var bodyText = string.Join("\n", lines.Skip(i).Where(l => !l.TrimStart().StartsWith('#') && !l.TrimStart().StartsWith("//", StringComparison.Ordinal))).Trim();
            using var msg = new HttpRequestMessage(new HttpMethod(method), url);
            if (bodyText.Length > 0)
            {
                var ct = headers.FirstOrDefault(h => h.Item1.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)).Item2 ?? "application/json";
                msg.Content = new StringContent(Expand(bodyText), Encoding.UTF8);
                msg.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(ct);
            }
            foreach (var (k, v) in headers)
                if (!k.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)) msg.Headers.TryAddWithoutValidation(k, v);
            using var res = await http.SendAsync(msg);
            var text2 = await res.Content.ReadAsStringAsync();
            var status = (int)res.StatusCode;
            steps.Add(new Step(title, method, url, status, text2));
            var ok = expect is { } x ? status == x : status is >= 200 and < 300;
            if (!ok)
                throw new Xunit.Sdk.XunitException($"{title}\n{method} {url} answered {status} (expected {(expect?.ToString() ?? "2xx")}): {text2}");
            if (name is not null)
            {
                try { named[name] = text2.Length == 0 ? null : JsonNode.Parse(text2); } catch (System.Text.Json.JsonException) { named[name] = JsonValue.Create(text2); }
            }
        }
        return steps;
    }

    [GeneratedRegex(@"\{\{(.+?)\}\}")]
    private static partial Regex Placeholder();
}
