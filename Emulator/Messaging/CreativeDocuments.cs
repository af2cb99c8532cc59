using System.Text.Json;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Infrastructure.Errors;

namespace Fanfare.Emulator.Messaging;

/// <summary>
/// The <c>creativeDocument</c> of announcements (admin-part1.md <c>CreativeDocumentIn</c>) and experience pages
/// (admin-part2.md <c>CreativeDocument</c>, a <c>oneOf</c> of three variants):
/// <list type="bullet">
/// <item><c>{schemaVersion:1, kind:"announcement-email"|"transactional-email", editor:"email-components-v1",
/// body:{subjectTemplate:string, nodes:[…]}, themeOverrides?}</c></item>
/// <item><c>{schemaVersion:1, kind:"announcement-sms"|"transactional-sms", editor:"sms-text-v1", body:{textTemplate:string}, themeOverrides?}</c></item>
/// <item><c>{schemaVersion:1, kind:"announcement-social"|"experience-page", editor:"rich-content-v0", body:{…}, themeOverrides?}</c></item>
/// </list>
/// <c>strict</c> checks the <c>oneOf</c> (pages); otherwise the looser announcement request shape (kind enum, editor string,
/// body object, schemaVersion number). Issues are reported under <c>creativeDocument.…</c>.
/// </summary>
public static class CreativeDocuments
{
    public static readonly string[] Kinds =
        ["announcement-email", "announcement-sms", "announcement-social", "experience-page", "transactional-email", "transactional-sms"];

    /// <summary>The editor each kind requires (the <c>oneOf</c> variants).</summary>
    public static string EditorFor(string kind) => kind switch
    {
        "announcement-email" or "transactional-email" => "email-components-v1",
        "announcement-sms" or "transactional-sms" => "sms-text-v1",
        _ => "rich-content-v0",
    };

    /// <summary>Checks <c>body[key]</c> when present; returns the object when it is one.</summary>
    public static JsonObject? Read(BodyReader body, string key, bool required, bool nullable, bool strict)
    {
        var doc = body.Object(key, required: required, nullable: nullable);
        if (doc is null) return null;
        var r = BodyReader.Parse(doc.ToJsonString());
        var version = r.Number("schemaVersion", required: true);
        if (strict && version is double v && v != 1)
            r.AddIssue("schemaVersion", "literal", "1", r.Root["schemaVersion"], $"Invalid type: Expected 1 but received {v}");
        var kind = r.Enum("kind", Kinds, required: true);
        var editor = r.String("editor", required: true);
        var inner = r.Object("body", required: true);
        if (strict && kind is not null && editor is not null && editor != EditorFor(kind))
            r.AddIssue("editor", "literal", $"\"{EditorFor(kind)}\"", r.Root["editor"], $"Invalid type: Expected \"{EditorFor(kind)}\" but received \"{editor}\"");
        if (strict && kind is not null && inner is not null)
        {
            var b = BodyReader.Parse(inner.ToJsonString());
            switch (EditorFor(kind))
            {
                case "email-components-v1":
                    b.String("subjectTemplate", required: true);
                    b.Array("nodes", required: true);
                    break;
                case "sms-text-v1":
                    b.String("textTemplate", required: true);
                    break;
            }
            r.Absorb(b, [RequestChecks.Step(r.Root, "body")]);
        }
        var theme = r.Object("themeOverrides");
        if (theme is not null)
        {
            var t = BodyReader.Parse(theme.ToJsonString());
            foreach (var k in ExperienceFields.ThemeKeys.Where(k => k != "variant")) t.String(k);
            t.Enum("variant", ExperienceFields.ThemeVariants);
            r.Absorb(t, [RequestChecks.Step(r.Root, "themeOverrides")]);
        }
        body.Absorb(r, [RequestChecks.Step(body.Root, key)]);
        return doc;
    }

    /// <summary>The text of a document's template for a channel, if it has one (<c>subjectTemplate</c>, <c>textTemplate</c>).</summary>
    public static string? Template(JsonObject? doc, string field) =>
        doc?["body"]?[field] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
}
