using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Fanfare.Emulator.Tests.Packaging;

/// <summary>
/// <c>docker-compose.yml</c> against the Compose Specification's JSON schema (vendored as
/// <c>Emulator.Tests/Packaging/compose-spec.json</c>, from compose-spec/compose-spec <c>schema/compose-spec.json</c>:
/// no network at test time), and its image tags pinned.
/// </summary>
[Trait("Category", "Packaging")]
public sealed class ComposeFileTests
{
    private static readonly string Root = DockerfileSpec.RepositoryRoot();

    [Fact]
    public void Compose_file_is_valid_against_the_Compose_specification_schema()
    {
        var compose = Load(Path.Combine(Root, "docker-compose.yml"));
        var result = Schema().Evaluate(Element(compose), new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(result.IsValid, "docker-compose.yml does not match the Compose specification:\n" + string.Join('\n',
            (result.Details ?? []).Where(d => d.Errors is { Count: > 0 }).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Key}: {e.Value}"))));
    }

    [Fact]
    public void The_schema_check_rejects_what_Compose_v2_rejects()
    {
        // The check is not vacuous: an unknown service key, an unknown depends_on condition and ports as a string are errors.
        foreach (var yaml in new[]
        {
            "services:\n  emulator:\n    image: x:1\n    portz: [\"4800:4800\"]\n",
            "services:\n  emulator:\n    image: x:1\n    depends_on:\n      mailpit:\n        condition: started\n  mailpit:\n    image: y:1\n",
            "services:\n  emulator:\n    image: x:1\n    ports: \"4800:4800\"\n",
        })
            Assert.False(Schema().Evaluate(Element(Parse(yaml))).IsValid, $"the schema accepted:\n{yaml}");
    }

    [Fact]
    public void Compose_images_are_pinned_and_the_emulator_tag_is_the_project_version()
    {
        var services = Load(Path.Combine(Root, "docker-compose.yml"))["services"]!.AsObject();
        Assert.NotEmpty(services);
        foreach (var (name, service) in services)
        {
            var image = service!["image"]?.GetValue<string>();
            Assert.False(image is null, $"service {name} has no image (pin one, also next to build:)");
            var tag = image!.Contains(':') ? image[(image.LastIndexOf(':') + 1)..] : "";
            Assert.True(tag.Length > 0 && tag != "latest" && !tag.Contains('/'), $"service {name}: image {image} is not pinned to a tag");
        }

        var version = Regex.Match(File.ReadAllText(Path.Combine(Root, "Emulator", "Emulator.csproj")), "<Version>(.+?)</Version>").Groups[1].Value;
        Assert.Equal($"fanfare-emulator:{version}", services["emulator"]!["image"]!.GetValue<string>());
        Assert.Equal($"fanfare-emulator:{version}", DockerEngine.DefaultImage);
    }

    private static readonly Lazy<JsonSchema> ComposeSchema = new(() =>
    {
        // The file names draft-07 by its https address; the library knows the draft by its canonical http one.
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Packaging", "compose-spec.json"))
            .Replace("\"https://json-schema.org/draft-07/schema\"", "\"http://json-schema.org/draft-07/schema#\"", StringComparison.Ordinal);
        return JsonSchema.FromText(text, new BuildOptions { SchemaRegistry = new SchemaRegistry() }, new Uri("https://compose-spec.io/schema/"));
    });

    private static JsonSchema Schema() => ComposeSchema.Value;

    private static System.Text.Json.JsonElement Element(JsonNode node) => System.Text.Json.JsonSerializer.SerializeToElement(node);

    private static JsonNode Load(string path) => Parse(File.ReadAllText(path));

    /// <summary>YAML → JSON with the YAML 1.2 core schema's scalar types (quoted scalars stay strings).</summary>
    private static JsonNode Parse(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return Convert(stream.Documents[0].RootNode)!;
    }

    private static JsonNode? Convert(YamlNode node) => node switch
    {
        YamlMappingNode m => new JsonObject(m.Children.Select(kv => KeyValuePair.Create(((YamlScalarNode)kv.Key).Value!, Convert(kv.Value)))),
        YamlSequenceNode s => new JsonArray(s.Children.Select(Convert).ToArray()),
        YamlScalarNode { Style: ScalarStyle.Plain } p => Plain(p.Value ?? ""),
        YamlScalarNode q => JsonValue.Create(q.Value ?? ""),
        _ => throw new NotSupportedException(node.GetType().Name),
    };

    private static JsonNode? Plain(string v)
    {
        if (v is "" or "~" or "null" or "Null" or "NULL") return null;
        if (v is "true" or "True" or "TRUE") return JsonValue.Create(true);
        if (v is "false" or "False" or "FALSE") return JsonValue.Create(false);
        if (Regex.IsMatch(v, "^[-+]?[0-9]+$") && long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)) return JsonValue.Create(l);
        if (Regex.IsMatch(v, @"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")) return JsonValue.Create(double.Parse(v, CultureInfo.InvariantCulture));
        return JsonValue.Create(v);
    }
}
