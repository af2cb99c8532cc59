using System.Text.Json.Serialization;
using EmulatorJson = Fanfare.Emulator.Infrastructure.Json;

namespace Fanfare.Emulator.Tests.Infrastructure;

/// <summary>
/// A NativeAOT build puts the emulator's source-generated JSON contexts first in the HTTP options
/// (<see cref="EmulatorJson.ConfigureHttp"/>) from a list, not by scanning the assembly at start-up; a context missing from it
/// would leave its types to the reflection resolver there, which cannot write some of them. This fails first.
/// </summary>
public sealed class JsonContextsTests
{
    [Fact]
    public void Every_source_generated_context_is_in_the_list()
    {
        var declared = typeof(EmulatorJson).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(JsonSerializerContext)) && !t.IsAbstract).Select(t => t.FullName).Order().ToList();
        var listed = EmulatorJson.GeneratedContexts().Select(c => c.GetType().FullName).Order().ToList();
        Assert.Equal(declared, listed);
    }
}
