using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.Distributions.Experiences.Pages;

/// <summary>
/// Renders a published page as one self-contained HTML document: the page title, the experience it points to (name,
/// opening and closing instants, its sequences and distributions), the theme (the experience's <c>theme</c> overlaid with
/// the document's <c>themeOverrides</c>, as CSS custom properties <c>--fanfare-primary</c> …), and the creative body
/// (<c>email-components-v1</c> nodes, <c>sms-text-v1</c> text, or the fields of a <c>rich-content-v0</c> body). The
/// consumer view of the experience is embedded as JSON in <c>&lt;script type="application/json" id="fanfare-experience"&gt;</c>.
/// </summary>
public static class ExperiencePageHtml
{
    private static string E(string? s) => WebUtility.HtmlEncode(s ?? "");

    public static string Render(ExperiencePage page, Organization org, JsonObject? experience)
    {
        var theme = new JsonObject();
        foreach (var (k, v) in experience?["theme"] as JsonObject ?? []) theme[k] = v?.DeepClone();
        foreach (var (k, v) in page.CreativeDocument["themeOverrides"] as JsonObject ?? []) theme[k] = v?.DeepClone();
        string T(string key, string fallback) => theme[key] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : fallback;

        var sb = new StringBuilder();
        sb.Append("<!doctype html>\n<html lang=\"").Append(E(org.LanguageCode)).Append("\">\n<head>\n<meta charset=\"utf-8\">\n");
        sb.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        sb.Append("<title>").Append(E(page.Title)).Append("</title>\n");
        sb.Append("<meta name=\"fanfare:page-id\" content=\"").Append(E(page.Id)).Append("\">\n");
        sb.Append("<meta name=\"fanfare:experience-id\" content=\"").Append(E(page.ExperienceId)).Append("\">\n");
        sb.Append("<meta name=\"fanfare:organization-id\" content=\"").Append(E(org.Id)).Append("\">\n");
        sb.Append("<style>\n:root {\n");
        foreach (var (k, v) in theme)
            if (v is JsonValue jv && jv.GetValueKind() == JsonValueKind.String)
                sb.Append("  --fanfare-").Append(Kebab(k)).Append(": ").Append(Css(jv.GetValue<string>())).Append(";\n");
        sb.Append("}\nbody { margin: 0; font-family: ").Append(Css(T("fontFamily", "system-ui, sans-serif")))
          .Append("; background: ").Append(Css(T("background", "#ffffff"))).Append("; color: ").Append(Css(T("text", "#111827"))).Append("; }\n");
        sb.Append("main { max-width: 720px; margin: 0 auto; padding: 32px 16px; }\n");
        sb.Append("h1, h2, h3 { font-family: ").Append(Css(T("fontHeading", T("fontFamily", "system-ui, sans-serif")))).Append("; }\n");
        sb.Append("a.button { display: inline-block; padding: 10px 18px; border-radius: 6px; background: ").Append(Css(T("primary", "#4f46e5")))
          .Append("; color: #fff; text-decoration: none; }\n");
        sb.Append(".experience { border: 1px solid ").Append(Css(T("muted", "#e5e7eb"))).Append("; border-radius: 8px; padding: 16px; margin: 24px 0; background: ")
          .Append(Css(T("surface", "#f9fafb"))).Append("; }\n.muted { color: ").Append(Css(T("muted", "#6b7280"))).Append("; }\n");
        sb.Append("</style>\n</head>\n<body data-theme-variant=\"").Append(E(T("variant", "default"))).Append("\">\n");
        if (theme["headerImageUrl"] is JsonValue header) sb.Append("<img class=\"header\" alt=\"\" style=\"width:100%\" src=\"").Append(E(header.ToString())).Append("\">\n");
        sb.Append("<main>\n");
        if (theme["logoUrl"] is JsonValue logo) sb.Append("<img class=\"logo\" alt=\"").Append(E(org.Name)).Append("\" height=\"48\" src=\"").Append(E(logo.ToString())).Append("\">\n");
        sb.Append("<h1>").Append(E(page.Title)).Append("</h1>\n");

        sb.Append("<section class=\"experience\" id=\"experience\" data-experience-id=\"").Append(E(page.ExperienceId)).Append("\">\n");
        if (experience is null) sb.Append("<p class=\"muted\">This experience is no longer available.</p>\n");
        else
        {
            sb.Append("<h2>").Append(E(experience["name"]?.ToString())).Append("</h2>\n<dl>\n");
            sb.Append("<dt>Opens</dt><dd><time>").Append(E(experience["openAt"]?.ToString() ?? "not scheduled")).Append("</time></dd>\n");
            sb.Append("<dt>Closes</dt><dd><time>").Append(E(experience["closeAt"]?.ToString() ?? "not scheduled")).Append("</time></dd>\n");
            sb.Append("<dt>Time zone</dt><dd>").Append(E(experience["timeZone"]?.ToString())).Append("</dd>\n</dl>\n");
            if (experience["sequences"] is JsonArray seqs && seqs.Count > 0)
            {
                sb.Append("<ul class=\"sequences\">\n");
                foreach (var s in seqs.OfType<JsonObject>())
                {
                    sb.Append("<li>").Append(E(s["name"]?.ToString()));
                    var parts = SequenceService_NestedKeys.SelectMany(k => (s[k] as JsonArray ?? []).OfType<JsonObject>().Select(d => $"{d["name"]} ({k})")).ToList();
                    if (parts.Count > 0) sb.Append(": ").Append(E(string.Join(", ", parts)));
                    sb.Append("</li>\n");
                }
                sb.Append("</ul>\n");
            }
        }
        sb.Append("</section>\n");

        sb.Append("<article class=\"creative\" data-editor=\"").Append(E(page.CreativeDocument["editor"]?.ToString())).Append("\">\n");
        var body = page.CreativeDocument["body"] as JsonObject ?? [];
        switch (page.CreativeDocument["editor"]?.ToString())
        {
            case "email-components-v1":
                foreach (var n in body["nodes"] as JsonArray ?? []) Node(sb, n);
                break;
            case "sms-text-v1":
                sb.Append("<p>").Append(E(body["textTemplate"]?.ToString())).Append("</p>\n");
                break;
            default:
                if (body["nodes"] is JsonArray nodes) foreach (var n in nodes) Node(sb, n);
                else
                    foreach (var (k, v) in body)
                        if (v is JsonValue sv && sv.GetValueKind() == JsonValueKind.String)
                            sb.Append("<p data-field=\"").Append(E(k)).Append("\">").Append(E(sv.GetValue<string>())).Append("</p>\n");
                        else if (v is not null)
                            sb.Append("<pre data-field=\"").Append(E(k)).Append("\">").Append(E(v.ToJsonString(new JsonSerializerOptions { WriteIndented = true }))).Append("</pre>\n");
                break;
        }
        sb.Append("</article>\n</main>\n");
        sb.Append("<script type=\"application/json\" id=\"fanfare-experience\">")
          .Append((experience?.ToJsonString() ?? "null").Replace("</", "<\\/")).Append("</script>\n");
        sb.Append("</body>\n</html>\n");
        return sb.ToString();
    }

    private static readonly string[] SequenceService_NestedKeys = Sequences.SequenceService.NestedKeys;

    /// <summary>One <c>email-components-v1</c> node (admin-part2.md <c>$defs</c> EmailNode); unknown nodes are skipped.</summary>
    private static void Node(StringBuilder sb, JsonNode? node)
    {
        if (node is not JsonObject n) return;
        string S(string k) => n[k] is JsonValue v ? v.ToString() : "";
        switch (S("type"))
        {
            case "section": case "row": case "column":
                sb.Append("<div class=\"").Append(E(S("type"))).Append(' ').Append(E(S("className"))).Append("\">\n");
                foreach (var c in n["children"] as JsonArray ?? []) Node(sb, c);
                sb.Append("</div>\n");
                break;
            case "hr": sb.Append("<hr>\n"); break;
            case "heading":
                var level = int.TryParse(S("level"), out var l) && l is >= 1 and <= 6 ? l : 2;
                sb.Append("<h").Append(level).Append('>').Append(E(S("content"))).Append("</h").Append(level).Append(">\n");
                break;
            case "p":
                var tag = S("tag") is "span" or "strong" ? S("tag") : "p";
                sb.Append('<').Append(tag).Append('>').Append(E(S("content"))).Append("</").Append(tag).Append(">\n");
                break;
            case "link": sb.Append("<a href=\"").Append(E(S("href"))).Append("\">").Append(E(S("content"))).Append("</a>\n"); break;
            case "button": sb.Append("<p><a class=\"button\" href=\"").Append(E(S("href"))).Append("\">").Append(E(S("content") is { Length: > 0 } c2 ? c2 : "Open")).Append("</a></p>\n"); break;
            case "image": sb.Append("<img src=\"").Append(E(S("src"))).Append("\" alt=\"").Append(E(S("alt"))).Append("\" style=\"max-width:100%\">\n"); break;
            case "date-time": sb.Append("<time datetime=\"").Append(E(S("iso"))).Append("\">").Append(E(S("iso"))).Append("</time>\n"); break;
            case "footer": sb.Append("<footer class=\"muted\">").Append(E(S("footerMessage"))).Append(' ').Append(E(S("supportEmail"))).Append("</footer>\n"); break;
        }
    }

    private static string Kebab(string s) => string.Concat(s.Select((c, i) => char.IsUpper(c) ? (i > 0 ? "-" : "") + char.ToLowerInvariant(c) : c.ToString()));

    /// <summary>Keeps a theme value from closing the declaration or the style element.</summary>
    private static string Css(string s) => new(s.Where(c => c is not (';' or '{' or '}' or '<' or '>')).ToArray());

    public static string NotFound(string slug) =>
        $"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Page not found</title></head><body><main><h1>Page not found</h1><p>No published page at \"{E(slug)}\".</p></main></body></html>\n";
}
