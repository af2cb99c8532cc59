using System.Text.Json.Nodes;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Ids;
using Xunit;

namespace Fanfare.Emulator.Tests.Infrastructure.Ids;

/// <summary>The reset path's caches (memoized derivations, <see cref="BodyReader.ParseCached"/>) give what the uncached
/// code gave, and never share mutable state between callers.</summary>
public class SeedDerivationCacheTests
{
    [Fact]
    public void A_memoized_derivation_is_a_fresh_copy_each_time()
    {
        var first = IdGenerator.Derive("seed-cache-test", "Fanfare Demo");
        var expected = (byte[])first.Clone();
        first[0] ^= 0xFF;
        Assert.Equal(expected, IdGenerator.Derive("seed-cache-test", "Fanfare Demo"));
        Assert.Equal(IdGenerator.DeriveUuid("seed-cache-test", "x"), IdGenerator.DeriveUuid("seed-cache-test", "x"));
        Assert.NotEqual(IdGenerator.DeriveUuid("seed-cache-test", "x"), IdGenerator.DeriveUuid("seed-cache-test", "y"));
    }

    [Fact]
    public void A_cached_seed_body_reads_like_a_parsed_one_and_is_never_shared()
    {
        const string text = """{"name":"Tee","variants":[{"sku":"T-1","price":"10.00"}]}""";
        var a = BodyReader.ParseCached(text);
        Assert.Equal(BodyReader.Parse(text).Root.ToJsonString(), a.Root.ToJsonString());
        a.Root["name"] = "changed";
        ((JsonArray)a.Root["variants"]!).Clear();
        var b = BodyReader.ParseCached(text);
        Assert.Equal("Tee", b.Root["name"]!.GetValue<string>());
        Assert.Single((JsonArray)b.Root["variants"]!);
        Assert.False(b.HasIssues);

        // Bodies with issues are never kept: each call reports them again.
        Assert.True(BodyReader.ParseCached("[1]").HasIssues);
        Assert.True(BodyReader.ParseCached("[1]").HasIssues);
        Assert.True(BodyReader.ParseCached("", required: true).HasIssues);
    }
}
