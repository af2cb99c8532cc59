using System.Text.Json.Nodes;

namespace Fanfare.Emulator.Infrastructure.Errors;

public sealed partial class BodyReader
{
    private const int ParsedLimit = 512;
    private static readonly Dictionary<string, JsonObject> Parsed = new(StringComparer.Ordinal);

    /// <summary>
    /// <see cref="Parse"/> for text that comes back again and again (the seed's sections, applied on every
    /// <c>POST /_emulator/reset</c>): a JSON object that parsed and passed the value checks once is kept (pristine), and
    /// later calls with the same text get a deep copy of it instead of parsing and checking again. Anything else (empty,
    /// malformed, not an object, bad values) goes through <see cref="Parse"/> every time, so the outcome is the same.
    /// </summary>
    public static BodyReader ParseCached(string? text, bool required = false)
    {
        if (text is null) return Parse(text, required);
        lock (Parsed)
            if (Parsed.TryGetValue(text, out var kept)) return new BodyReader((JsonObject)kept.DeepClone());
        var reader = Parse(text, required);
        if (!reader.HasIssues && !string.IsNullOrWhiteSpace(text))
        {
            var pristine = (JsonObject)reader.Root.DeepClone();
            lock (Parsed)
            {
                if (Parsed.Count >= ParsedLimit) Parsed.Clear();
                Parsed.TryAdd(text, pristine);
            }
        }
        return reader;
    }
}
