using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Tests.Hosting;

/// <summary>
/// Feature modules and document types are found among the emulator's public types only (<c>GetExportedTypes</c>: loading
/// every type of the assembly cost start-up time and memory, issue 15). A non-public one would be silently left out —
/// its endpoints unmapped, its documents unknown to the store — so this fails first.
/// </summary>
public sealed class FeatureDiscoveryTests
{
    [Fact]
    public void Every_feature_module_and_document_type_is_public()
    {
        var all = typeof(DocumentStore).Assembly.GetTypes().Where(t => t is { IsClass: true, IsAbstract: false }).ToList();
        var hidden = all.Where(t => (typeof(IFeatureModule).IsAssignableFrom(t) || typeof(IDocument).IsAssignableFrom(t)) && !t.IsVisible)
            .Select(t => t.FullName).ToList();
        Assert.Empty(hidden);
        Assert.Equal(all.Count(t => typeof(IFeatureModule).IsAssignableFrom(t)), FeatureModules.Discover().Count);
    }
}
