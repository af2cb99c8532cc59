using Fanfare.Emulator.Hosting;

namespace Fanfare.Emulator.Tests.Hosting;

/// <summary>Feature modules are found in the assembly's metadata (issue 15: no <c>Assembly.GetTypes()</c> at start-up):
/// exactly the modules, in the same order, that reflection over every type finds.</summary>
public sealed class FeatureModulesTests
{
    [Fact]
    public void Discover_finds_the_same_modules_as_reflection_over_all_types()
    {
        var byReflection = typeof(IFeatureModule).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IFeatureModule).IsAssignableFrom(t))
            .Select(t => (IFeatureModule)Activator.CreateInstance(t)!)
            .OrderBy(m => m.Order).ThenBy(m => m.GetType().FullName, StringComparer.Ordinal)
            .Select(m => m.GetType().FullName).ToList();
        var discovered = FeatureModules.Discover().Select(m => m.GetType().FullName).ToList();
        Assert.True(byReflection.Count > 20, $"{byReflection.Count} modules");
        Assert.Equal(byReflection, discovered);
    }
}
