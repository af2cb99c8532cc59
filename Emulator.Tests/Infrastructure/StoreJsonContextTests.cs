using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.DependencyInjection;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Infrastructure;
using EmulatorJson = Fanfare.Emulator.Infrastructure.Json;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Tests.Infrastructure;

/// <summary>
/// The store's compile-time JSON metadata (<see cref="StoreJsonContext"/>, issue 15 start-up): it lists every document
/// type, and it reads and writes exactly the JSON the reflection-based serializer did with the same options (snapshots
/// and LiteDB files written by an earlier build read back the same).
/// </summary>
public sealed class StoreJsonContextTests
{
    /// <summary>The options the store used before the context: web defaults, nulls kept, reflection metadata.</summary>
    private static readonly JsonSerializerOptions Reflection = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
    };

    private static IEnumerable<Type> DocumentTypes() =>
        typeof(DocumentStore).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IDocument).IsAssignableFrom(t))
            .Append(typeof(ClockState));

    [Fact]
    public void Every_document_type_of_the_emulator_is_in_the_context()
    {
        var missing = DocumentTypes().Where(t => StoreJsonContext.Default.GetTypeInfo(t) is null).Select(t => t.FullName).ToList();
        Assert.True(missing.Count == 0,
            "add [JsonSerializable(typeof(...))] to Emulator/Infrastructure/StoreJsonContext.cs for: " + string.Join(", ", missing));
    }

    [Fact]
    public void Generated_metadata_matches_reflection_for_every_document_type_and_what_it_contains()
    {
        var seen = new HashSet<Type>();
        var pending = new Queue<Type>(DocumentTypes());
        var differences = new List<string>();
        while (pending.TryDequeue(out var type))
        {
            if (!seen.Add(type)) continue;
            var generated = EmulatorJson.StoreOptions.GetTypeInfo(type);
            var reflected = Reflection.GetTypeInfo(type);
            if (generated.Kind != reflected.Kind) differences.Add($"{type}: kind {generated.Kind} vs {reflected.Kind}");
            if (Shape(generated) is var g && Shape(reflected) is var r && g != r) differences.Add($"{type}:\n  generated  {g}\n  reflection {r}");
            foreach (var p in generated.Properties) pending.Enqueue(p.PropertyType);
            if (generated.ElementType is { } e) pending.Enqueue(e);
            if (generated.KeyType is { } k) pending.Enqueue(k);
        }
        Assert.True(differences.Count == 0, string.Join("\n", differences));
        Assert.True(seen.Count > 60, $"only {seen.Count} types walked");
    }

    /// <summary>What decides the JSON (the converter classes differ: the generated ones wrap the same logic): properties in order with names, types, accessors and handling.</summary>
    private static string Shape(JsonTypeInfo t)
    {
        var sb = new StringBuilder();
        sb.Append("create=").Append(t.CreateObject is not null).Append(" nums=").Append(t.NumberHandling)
          .Append(" unmapped=").Append(t.UnmappedMemberHandling).Append(" poly=").Append(t.PolymorphismOptions is not null);
        foreach (var p in t.Properties)
            sb.Append(" | ").Append(p.Name).Append(':').Append(p.PropertyType.Name).Append(" get=").Append(p.Get is not null)
              .Append(" set=").Append(p.Set is not null).Append(" req=").Append(p.IsRequired).Append(" ext=").Append(p.IsExtensionData)
              .Append(" order=").Append(p.Order).Append(" conv=").Append(p.CustomConverter?.GetType().Name)
              .Append(" nums=").Append(p.NumberHandling).Append(" create=").Append(p.ObjectCreationHandling)
              .Append(" ctorParam=").Append(p.AssociatedParameter?.Name).Append(" skipNull=").Append(p.ShouldSerialize is not null);
        return sb.ToString();
    }

    [Trait("Category", "InProcess")]
    [Fact]
    public async Task The_seeded_documents_write_and_read_the_same_JSON_as_with_reflection()
    {
        await using var emu = await EmulatorServer.StartAsync();
        var store = emu.Services.GetRequiredService<DocumentStore>();
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer)) store.WriteSnapshot(w);
        using var snapshot = JsonDocument.Parse(buffer.WrittenMemory);
        var problems = new List<SnapshotProblem>();
        var docs = store.ReadSnapshot(snapshot.RootElement, [], problems);
        Assert.Empty(problems);
        Assert.True(docs.Count > 50, $"{docs.Count} documents");

        var written = snapshot.RootElement.EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().SelectMany(k => k.Value.EnumerateArray().Select(d => d.GetRawText()))).ToList();
        Assert.Equal(written.Count, docs.Count);
        for (int i = 0; i < docs.Count; i++)
        {
            var type = docs[i].Doc.GetType();
            // Written by the generated metadata = written by reflection, byte for byte.
            Assert.Equal(JsonSerializer.Serialize(docs[i].Doc, type, Reflection), written[i]);
            // Read by reflection from the generated JSON, written again with the generated metadata: the same.
            var back = JsonSerializer.Deserialize(written[i], type, Reflection)!;
            Assert.Equal(written[i], JsonSerializer.Serialize(back, type, EmulatorJson.StoreOptions));
        }
        Assert.True(docs.Select(d => d.Doc.GetType()).Distinct().Count() >= 20);
    }
}
